"""The ``smartstreets`` command; each package contributes its subcommands."""

import logging
import os

import typer

from analytics.alerts.cli import alerts_app
from analytics.forecasting.cli import forecast_app
from analytics.forecasting.refresh_cli import (
    forecast_calendar,
    forecast_events,
    forecast_refresh,
    forecast_weather,
)
from analytics.potholes.cli import potholes_app
from analytics.potholes.refresh_cli import potholes_refresh, potholes_roads
from analytics.potholes.roughness_cli import potholes_roughness
from analytics.routing.bins_cli import bins_app
from analytics.routing.cli import routes_app
from api.cli import api, tokens_app
from api.councils_cli import councils_app
from api.plan_cli import routes_plan
from dashboards.cli import dashboards_app
from deploy.demo import demo
from ingest.cli import contract_app, db_app, devices_app, ingest
from ingest.kernel.logs import LogFormat, configure_logging
from ingest.quarantine_cli import quarantine_app
from simulators.cli import simulate_app

app = typer.Typer(
    name="smartstreets",
    help="Smart-streets telemetry and footfall platform for local councils.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    log_level: str = typer.Option(
        "INFO", envvar="SMARTSTREETS_LOG_LEVEL", help="DEBUG, INFO, WARNING or ERROR."
    ),
    log_format: str = typer.Option(
        "text", envvar="SMARTSTREETS_LOG_FORMAT", help="text, or json for one JSON object per line."
    ),
) -> None:
    level = log_level.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise typer.BadParameter("expected DEBUG, INFO, WARNING or ERROR", param_hint="--log-level")
    if log_format not in ("text", "json"):
        raise typer.BadParameter("expected text or json", param_hint="--log-format")
    fmt: LogFormat = "json" if log_format == "json" else "text"
    configure_logging(level, fmt)
    # Processes this one starts (ingest workers, the demo's services) log the same way.
    os.environ["SMARTSTREETS_LOG_LEVEL"], os.environ["SMARTSTREETS_LOG_FORMAT"] = level, fmt
    logging.captureWarnings(True)


app.command()(demo)
app.command()(ingest)
app.command()(api)
app.add_typer(simulate_app, name="simulate")
app.add_typer(db_app, name="db")
app.add_typer(devices_app, name="devices")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(councils_app, name="councils")
app.add_typer(tokens_app, name="tokens")
app.add_typer(contract_app, name="contract")
routes_app.command("plan")(routes_plan)
app.add_typer(routes_app, name="routes")
forecast_app.command("refresh")(forecast_refresh)
forecast_app.command("calendar")(forecast_calendar)
forecast_app.command("events")(forecast_events)
forecast_app.command("weather")(forecast_weather)
app.add_typer(forecast_app, name="forecast")
potholes_app.command("refresh")(potholes_refresh)
potholes_app.command("roads")(potholes_roads)
potholes_app.command("roughness")(potholes_roughness)
app.add_typer(potholes_app, name="potholes")
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(alerts_app, name="alerts")
app.add_typer(bins_app, name="bins")


def main() -> None:
    """Console entry point."""
    app()
