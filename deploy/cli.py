"""The ``smartstreets`` command; each package contributes its subcommands."""

import functools
import importlib
import logging
import os
from collections.abc import Callable, Mapping
from typing import ClassVar

import typer

from deploy.lazy_group import LazyGroup, Loader
from ingest.kernel.logs import LogFormat, configure_logging


def _demo() -> Callable[..., object]:
    from deploy.demo import demo

    return demo


def _ingest() -> Callable[..., object]:
    from ingest.cli import ingest

    return ingest


def _api() -> Callable[..., object]:
    from api.cli import api

    return api


@functools.cache  # it adds commands to the sub-application: once
def _routes() -> typer.Typer:
    from analytics.routing.cli import routes_app
    from api.plan_cli import routes_plan

    routes_app.command("plan")(routes_plan)
    return routes_app


@functools.cache  # it adds commands to the sub-application: once
def _forecast() -> typer.Typer:
    from analytics.forecasting.cli import forecast_app
    from analytics.forecasting.refresh_cli import (
        forecast_calendar,
        forecast_events,
        forecast_refresh,
        forecast_weather,
    )

    forecast_app.command("refresh")(forecast_refresh)
    forecast_app.command("calendar")(forecast_calendar)
    forecast_app.command("events")(forecast_events)
    forecast_app.command("weather")(forecast_weather)
    return forecast_app


@functools.cache  # it adds commands to the sub-application: once
def _potholes() -> typer.Typer:
    from analytics.potholes.cli import potholes_app
    from analytics.potholes.refresh_cli import potholes_refresh, potholes_roads
    from analytics.potholes.roughness_cli import potholes_roughness

    potholes_app.command("refresh")(potholes_refresh)
    potholes_app.command("roads")(potholes_roads)
    potholes_app.command("roughness")(potholes_roughness)
    return potholes_app


def _attribute(module: str, name: str) -> Loader:
    def load() -> typer.Typer:
        app: typer.Typer = getattr(importlib.import_module(module), name)
        return app

    return load


class _Commands(LazyGroup):
    # Each subcommand's code is imported when it runs, so `smartstreets ingest` does not load
    # LightGBM, FastAPI and PyVRP (deploy.lazy_group says why).
    loaders: ClassVar[Mapping[str, Loader]] = {
        "demo": _demo,
        "ingest": _ingest,
        "api": _api,
        "simulate": _attribute("simulators.cli", "simulate_app"),
        "db": _attribute("ingest.cli", "db_app"),
        "devices": _attribute("ingest.cli", "devices_app"),
        "quarantine": _attribute("ingest.quarantine_cli", "quarantine_app"),
        "councils": _attribute("api.councils_cli", "councils_app"),
        "tokens": _attribute("api.cli", "tokens_app"),
        "contract": _attribute("ingest.cli", "contract_app"),
        "routes": _routes,
        "forecast": _forecast,
        "potholes": _potholes,
        "dashboards": _attribute("dashboards.cli", "dashboards_app"),
        "alerts": _attribute("analytics.alerts.cli", "alerts_app"),
        "bins": _attribute("analytics.routing.bins_cli", "bins_app"),
    }


app = typer.Typer(
    name="smartstreets",
    cls=_Commands,
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


def main() -> None:
    """Console entry point."""
    app()
