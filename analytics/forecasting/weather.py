"""Weather as an optional covariate of footfall: hourly temperature and rain.

Rain keeps people at home and a warm evening brings them out; it is the strongest driver that
counts alone miss. A council may keep hourly weather for its town (observations for the past
and its provider's forecast for the coming hours) in ``weather_hourly``: ``smartstreets forecast
weather`` loads it from a file its source wrote. Forecasts read what is stored and never call a
provider, so a provider that is down or slow cannot stop them. Without weather the columns are
missing and the model learns nothing from them.

Files: Open-Meteo's hourly JSON (``hourly.time`` in UTC or with ``utc_offset_seconds``,
``temperature_2m`` in degrees Celsius, ``precipitation`` or ``rain`` in millimetres), or a CSV
``ts,temp_c,rain_mm`` (``ts`` RFC 3339 with an offset).
"""

import json
from datetime import timedelta
from pathlib import Path

import polars as pl

from analytics.forecasting.errors import HistoryError

COLUMNS = ("temp_c", "rain_mm")
SCHEMA: dict[str, pl.DataType] = {
    "ts": pl.Datetime("us", "UTC"),
    "temp_c": pl.Float64(),
    "rain_mm": pl.Float64(),
}
_PLAUSIBLE = {"temp_c": (-60.0, 60.0), "rain_mm": (0.0, 300.0)}


def empty() -> pl.DataFrame:
    """No weather."""
    return pl.DataFrame(schema=SCHEMA)


def _open_meteo(doc: dict[str, object], source: str) -> pl.DataFrame:
    hourly = doc.get("hourly")
    if not isinstance(hourly, dict) or "time" not in hourly:
        raise HistoryError(f"{source}: expected Open-Meteo JSON with hourly.time")
    rain = hourly.get("precipitation", hourly.get("rain"))
    temp = hourly.get("temperature_2m")
    times = hourly["time"]
    if temp is None and rain is None:
        raise HistoryError(f"{source}: no hourly temperature_2m, precipitation or rain")
    n = len(times)
    offset = doc.get("utc_offset_seconds", 0)
    if not isinstance(offset, int | float):
        raise HistoryError(f"{source}: utc_offset_seconds is not a number")
    for name, values in (("temperature_2m", temp), ("precipitation", rain)):
        if values is not None and len(values) != n:
            raise HistoryError(f"{source}: hourly.{name} and hourly.time differ in length")
    try:
        frame = pl.DataFrame(
            {
                "ts": pl.Series(times, dtype=pl.String).str.to_datetime("%Y-%m-%dT%H:%M"),
                "temp_c": pl.Series(temp if temp is not None else [None] * n, dtype=pl.Float64),
                "rain_mm": pl.Series(rain if rain is not None else [None] * n, dtype=pl.Float64),
            }
        )
    except (pl.exceptions.PolarsError, TypeError) as exc:
        raise HistoryError(f"{source}: unreadable hourly values ({exc})") from None
    local = pl.col("ts") - timedelta(seconds=float(offset))
    return frame.with_columns(local.dt.replace_time_zone("UTC").dt.cast_time_unit("us"))


def _csv(path: Path) -> pl.DataFrame:
    try:
        raw = pl.read_csv(path, infer_schema_length=0)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{path}: unreadable CSV ({str(exc).splitlines()[0]})") from None
    if "ts" not in raw.columns or not set(COLUMNS) & set(raw.columns):
        raise HistoryError(f"{path}: expected columns ts and temp_c and/or rain_mm")
    try:
        return raw.select(
            pl.col("ts").str.to_datetime(time_zone="UTC").dt.cast_time_unit("us"),
            *(
                pl.col(c).cast(pl.Float64)
                if c in raw.columns
                else pl.lit(None, pl.Float64).alias(c)
                for c in COLUMNS
            ),
        )
    except pl.exceptions.PolarsError as exc:
        raise HistoryError(f"{path}: bad value ({str(exc).splitlines()[0]})") from None


def read_weather(path: Path) -> pl.DataFrame:
    """Hourly weather from an Open-Meteo JSON or a ``ts,temp_c,rain_mm`` CSV: ``ts`` (UTC,
    on the hour), ``temp_c``, ``rain_mm``; one row per hour, the last of duplicates kept.

    Raises
    ------
    HistoryError
        An unreadable file, missing fields, or values no weather has.
    """
    if not path.is_file():
        raise HistoryError(f"no such file: {path}")
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HistoryError(f"{path}: unreadable JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise HistoryError(f"{path}: expected a JSON object")
        frame = _open_meteo(doc, str(path))
    else:
        frame = _csv(path)
    for column, (lo, hi) in _PLAUSIBLE.items():
        bad = frame.filter(~pl.col(column).is_between(lo, hi) & pl.col(column).is_not_null())
        if bad.height:
            value, when = bad[column][0], bad["ts"][0]
            raise HistoryError(f"{path}: {column} {value} at {when} is implausible")
    frame = frame.with_columns(pl.col("ts").dt.truncate("1h"))
    return frame.unique("ts", keep="last").sort("ts").select(*SCHEMA)


def on_grid(grid: pl.DataFrame, weather: pl.DataFrame | None) -> pl.DataFrame:
    """``grid`` with the weather of each row's hour (``temp_c``, ``rain_mm``; null where none)."""
    weather = empty() if weather is None else weather.select(*SCHEMA).cast(pl.Schema(SCHEMA))
    return grid.drop(COLUMNS, strict=False).join(
        weather, on="ts", how="left", maintain_order="left"
    )
