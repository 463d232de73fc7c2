"""The forecasting package's database side: hourly history in, 48-hour forecasts out.

Forecasts are made by a scheduled refresh (``smartstreets forecast refresh``) and stored in
``footfall_forecast``, so the public API only reads a small table and can serve many residents.
"""

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import psycopg

from analytics.forecasting.calendar import Calendar, Event
from analytics.forecasting.calendars import CALENDARS
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.model import forecast_with_status
from analytics.forecasting.weather import SCHEMA as WEATHER_SCHEMA
from ingest.db.councils import require_council

log = logging.getLogger(__name__)

HISTORY = timedelta(weeks=52)  # the forecaster gains from a year or more (holidays recur)
HORIZON_H = 48
MIN_COUNTERS_PUBLIC = 3  # fewer counters in a zone: per-counter figures only if the council opts in


def council_calendar(conn: psycopg.Connection, council: str) -> Calendar:
    """The council's holiday calendar (by name), in its time zone, with its events."""
    facts = require_council(conn, council)
    events = [
        Event(day, name, uplift)
        for day, name, uplift in conn.execute(
            "SELECT day, name, uplift FROM council_event WHERE council = %s ORDER BY day",
            (council,),
        )
    ]
    base = CALENDARS.get(facts.holiday_calendar, Calendar)()
    return base.with_timezone(facts.timezone).with_events(events)


def hourly_history(
    conn: psycopg.Connection, council: str, now: datetime, history: timedelta = HISTORY
) -> pl.DataFrame:
    """Complete hours before ``now``: one series per zone (``zone:…``) and per counter
    (``counter:…``). A zone's hour counts only when every one of its counters reported in it,
    so a counter outage is a gap, not a quiet hour."""
    end = now.replace(minute=0, second=0, microsecond=0)
    rows = conn.execute(
        "SELECT h.device_id, h.zone, h.bucket, h.count FROM footfall_hourly_device h "
        "JOIN device d USING (device_id) "
        "WHERE h.council = %s AND d.kind = 'counter' AND h.bucket >= %s AND h.bucket < %s",
        (council, end - history, end),
    ).fetchall()
    schema: list[tuple[str, pl.DataType]] = [
        ("device_id", pl.String()),
        ("zone", pl.String()),
        ("ts", pl.Datetime("us", "UTC")),
        ("count", pl.Float64()),
    ]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    counters = frame.group_by("zone").agg(pl.col("device_id").n_unique().alias("total"))
    zones = (
        frame.group_by("zone", "ts")
        .agg(pl.col("count").sum(), pl.col("device_id").n_unique().alias("present"))
        .join(counters, on="zone")
        .filter(pl.col("present") == pl.col("total"))
        .select(series=pl.lit("zone:") + pl.col("zone"), ts="ts", count="count")
    )
    devices = frame.select(series=pl.lit("counter:") + pl.col("device_id"), ts="ts", count="count")
    return pl.concat([zones, devices]).sort("series", "ts")


def _usual(history: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Mean of the same hour of the week over the four weeks before each target hour."""
    # The target hours look their four weeks up (small joins), rather than shifting the whole
    # history four times; the same values in the same order (week 1 first) are averaged.
    wanted = targets.select("series", "ts").unique()
    past = history.select("series", pl.col("ts").alias("_at"), "count")
    lagged = pl.concat(
        [
            wanted.with_columns((pl.col("ts") - timedelta(weeks=w)).alias("_at"))
            .join(past, on=["series", "_at"])
            .select("series", "ts", "count")
            for w in range(1, 5)
        ]
    )
    usual = lagged.group_by("series", "ts").agg(pl.col("count").mean().alias("usual"))
    return targets.join(usual, on=["series", "ts"], how="left")


def store_weather(conn: psycopg.Connection, council: str, weather: pl.DataFrame) -> int:
    """Insert or replace the council's weather for the hours of ``weather`` (``ts, temp_c,
    rain_mm``, see :func:`analytics.forecasting.weather.read_weather`); returns the hours."""
    rows = [(council, *r) for r in weather.select(*WEATHER_SCHEMA).iter_rows()]
    with conn.transaction():
        conn.cursor().executemany(
            "INSERT INTO weather_hourly (council, ts, temp_c, rain_mm) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (council, ts) DO UPDATE "
            "SET temp_c = EXCLUDED.temp_c, rain_mm = EXCLUDED.rain_mm",
            rows,
        )
    return len(rows)


def stored_weather(
    conn: psycopg.Connection, council: str, since: datetime, until: datetime
) -> pl.DataFrame | None:
    """The council's stored weather in ``[since, until)``, or ``None`` when it keeps none."""
    rows = conn.execute(
        "SELECT ts, temp_c, rain_mm FROM weather_hourly "
        "WHERE council = %s AND ts >= %s AND ts < %s ORDER BY ts",
        (council, since, until),
    ).fetchall()
    return pl.DataFrame(rows, schema=WEATHER_SCHEMA, orient="row") if rows else None


def _series_status(
    history: pl.DataFrame, start: datetime, tz: str, unknown: dict[str, str]
) -> pl.DataFrame:
    """Per series: the end of its last counted hour before ``start``, today's counts so far
    (from local midnight) over the usual for those hours, and why it is unknown (or null)."""
    midnight = (
        start.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)
    ).astimezone(UTC)
    known = history.filter(pl.col("ts") < start, pl.col("count").is_not_null())
    last = known.group_by("series").agg((pl.col("ts").max() + timedelta(hours=1)).alias("until"))
    today = _usual(history, known.filter(pl.col("ts") >= midnight)).filter(pl.col("usual") > 0)
    ratio = today.group_by("series").agg(
        (pl.col("count").sum() / pl.col("usual").sum()).alias("today_ratio")
    )
    why = pl.DataFrame(
        {"series": list(unknown), "unknown": list(unknown.values())},
        schema={"series": pl.String, "unknown": pl.String},
    )
    return (
        last.join(ratio, on="series", how="left")
        .join(why, on="series", how="left")
        .select("series", "until", "today_ratio", "unknown")
        .sort("series")
    )


def forecasts_to_store(
    history: pl.DataFrame, calendar: Calendar, start: datetime, weather: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """The refresh's work between reading and storing: the next ``HORIZON_H`` hours from
    ``start`` of every series of ``history`` that is not broken (with the usual of each hour),
    every series' status (see :func:`_series_status`), and the broken ones with their reasons.

    Raises
    ------
    HistoryError
        Too little history to forecast from.
    """
    made, unknown = forecast_with_status(
        history, HORIZON_H, calendar=calendar, now=start, weather=weather
    )
    status = _series_status(history, start, calendar.timezone, unknown)
    return _usual(history, made.filter(~pl.col("series").is_in(list(unknown)))), status, unknown


def refresh_forecasts(conn: psycopg.Connection, council: str, now: datetime | None = None) -> int:
    """Forecast the next 48 hours of every zone and counter of ``council`` and store them,
    replacing the previous forecasts. Returns the rows stored."""
    now = now or datetime.now(UTC)
    calendar = council_calendar(conn, council)
    history = hourly_history(conn, council, now)
    if history.is_empty():
        log.info("no footfall history for %s yet: nothing to forecast", council)
        return 0
    start = now.replace(minute=0, second=0, microsecond=0)
    weather = stored_weather(conn, council, start - HISTORY, start + timedelta(hours=HORIZON_H))
    try:
        made, status, unknown = forecasts_to_store(history, calendar, start, weather)
    except HistoryError as exc:
        log.info("no forecast for %s yet: %s", council, exc)
        return 0
    for name, why in sorted(unknown.items()):
        log.info("no forecast for %s of %s: %s", name, council, why)
    records = [
        (council, r["series"], r["ts"], r["forecast"], r["lo80"], r["hi80"], r["usual"], now)
        for r in made.iter_rows(named=True)
    ]
    with conn.transaction():
        conn.execute("DELETE FROM footfall_forecast WHERE council = %s", (council,))
        conn.execute("DELETE FROM footfall_forecast_series WHERE council = %s", (council,))
        conn.cursor().executemany(
            "INSERT INTO footfall_forecast_series "
            "(council, series, made_at, counted_until, today_ratio, unknown) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(council, name, now, *facts) for name, *facts in status.iter_rows()],
        )
        with conn.cursor().copy(
            "COPY footfall_forecast (council, series, ts, forecast, lo80, hi80, usual, made_at) "
            "FROM STDIN"
        ) as copy:
            for record in records:
                copy.write_row(record)
    log.info("stored %d forecast rows for %s", len(records), council)
    return len(records)
