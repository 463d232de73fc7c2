"""``smartstreets forecast refresh|calendar|events|weather``: the council side of forecasting."""

import csv
import logging
from datetime import date
from pathlib import Path

import psycopg
import typer

from analytics.forecasting.calendars import CALENDARS
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.store import refresh_forecasts, store_weather
from analytics.forecasting.weather import read_weather
from ingest.db.connect import connect
from ingest.db.councils import council_exists
from ingest.kernel.cli import DatabaseUrlOption, database_url_or_fail, fail, repeat

log = logging.getLogger(__name__)


def _known(conn: psycopg.Connection, council: str) -> None:
    if not council_exists(conn, council):
        fail(f"unknown council {council!r}")


def forecast_refresh(
    council: str = typer.Option(..., help="Council slug."),
    every: float | None = typer.Option(
        None, min=60, max=86400, help="Keep refreshing every this many seconds until stopped."
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Forecast the next 48 hours of every zone and counter and store them for the API."""
    url = database_url_or_fail(database_url)

    def once() -> None:
        with connect(url) as conn:
            _known(conn, council)
            rows = refresh_forecasts(conn, council)
        print(f"{rows} forecast hours stored for {council}", flush=True)

    repeat(every, once, "forecast refresh")


def forecast_calendar(
    council: str = typer.Option(..., help="Council slug."),
    name: str = typer.Option(..., "--calendar", help=f"One of: {', '.join(CALENDARS)}."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Choose the public and school holidays a council's forecasts know about."""
    if name not in CALENDARS:
        fail(f"--calendar: expected one of {', '.join(CALENDARS)}, got {name!r}", 2)
    url = database_url_or_fail(database_url)
    with connect(url) as conn:
        _known(conn, council)
        conn.execute("UPDATE council SET holiday_calendar = %s WHERE slug = %s", (name, council))
        conn.commit()
    print(f"{council} forecasts use the {name!r} calendar")


def forecast_events(
    council: str = typer.Option(..., help="Council slug."),
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV with columns date,name[,uplift]."
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Replace a council's events (markets, fairs, parades) with those in FILE."""
    events = []
    with file.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"date", "name"} <= set(reader.fieldnames or ()):
            fail(f"{file}: expected columns date,name[,uplift]", 2)
        for line, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat(row["date"].strip())
                uplift = float(row["uplift"]) if (row.get("uplift") or "").strip() else None
            except ValueError:
                fail(f"{file}:{line}: expected a date YYYY-MM-DD and a number uplift", 2)
            if not row["name"].strip() or (uplift is not None and not 0 < uplift <= 20):
                fail(f"{file}:{line}: expected a name and an uplift in (0, 20]", 2)
            events.append((council, day, row["name"].strip(), uplift))
    url = database_url_or_fail(database_url)
    with connect(url) as conn:
        _known(conn, council)
        with conn.transaction():
            conn.execute("DELETE FROM council_event WHERE council = %s", (council,))
            conn.cursor().executemany(
                "INSERT INTO council_event (council, day, name, uplift) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                events,
            )
    print(f"{len(events)} event(s) set for {council}")


def forecast_weather(
    council: str = typer.Option(..., help="Council slug."),
    file: Path = typer.Argument(
        ...,
        dir_okay=False,
        help="Open-Meteo hourly JSON (temperature_2m, precipitation) or CSV ts,temp_c,rain_mm.",
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Load hourly weather (past observations and the coming hours' forecast) for a council's
    forecasts; hours already stored are replaced. Forecasts never fetch weather themselves."""
    try:
        weather = read_weather(file)
    except HistoryError as exc:
        fail(str(exc), 2)
    url = database_url_or_fail(database_url)
    with connect(url) as conn:
        _known(conn, council)
        hours = store_weather(conn, council, weather)
    print(f"{hours} hour(s) of weather stored for {council}")
