"""The forecasting package's files: history and event CSVs in, forecast CSVs out.

Local times become UTC here, once. A naive local time that does not exist (the hour skipped
when clocks go forward) is dropped; an ambiguous one (the hour repeated when clocks go back)
is the first occurrence (summer time), and a second row for the same series and local time is
the second occurrence (standard time).
"""

import logging
from pathlib import Path
from typing import TextIO

import polars as pl

from analytics.forecasting.calendar import Event
from analytics.forecasting.errors import HistoryError

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ("series", "timestamp", "count")
EVENT_COLUMNS = ("date", "name")
_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2})?$"
_OFFSET = r"[+-]\d{2}:?\d{2}$"


def _read_strings(path: Path, required: tuple[str, ...]) -> pl.DataFrame:
    """All columns of a CSV as strings; one-line errors for an empty file or missing columns."""
    try:
        frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    except pl.exceptions.NoDataError:
        raise HistoryError(f"{path} is empty") from None
    except (pl.exceptions.ComputeError, OSError) as exc:
        raise HistoryError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    frame = frame.rename({c: c.strip() for c in frame.columns})
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise HistoryError(f"{path} lacks column(s) {', '.join(missing)}")
    if frame.is_empty():
        raise HistoryError(f"{path} has no rows")
    return frame.with_row_index("line", offset=2)


def _first_bad(frame: pl.DataFrame, bad: pl.Expr, column: str, path: Path, what: str) -> None:
    rows = frame.filter(bad)
    if not rows.is_empty():
        line, value = rows["line"][0], rows[column][0]
        raise HistoryError(f"{path}, line {line}: {what}: {value!r}")


def localise(naive: pl.Expr, tz: str, occurrence: pl.Expr) -> pl.Expr:
    """UTC from naive local times in ``tz``: nonexistent ones become null; ambiguous ones
    take the ``occurrence`` (0: the first, summer time; 1 or more: the second)."""
    ambiguous = pl.when(occurrence == 0).then(pl.lit("earliest")).otherwise(pl.lit("latest"))
    return naive.dt.replace_time_zone(
        tz, ambiguous=ambiguous, non_existent="null"
    ).dt.convert_time_zone("UTC")


def parse_timestamps(frame: pl.DataFrame, tz: str | None, path: Path) -> pl.Series:
    """The ``timestamp`` column as UTC datetimes (ISO 8601, with an offset or naive in ``tz``).

    Raises
    ------
    HistoryError
        A timestamp that is not ISO 8601 (naming its line), or a naive one without ``tz``.
    """
    text = (
        pl.col("timestamp")
        .str.strip_chars()
        .str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
        .str.replace(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})($|[-+Z])", "${1}:00${2}")
        .str.replace(r"[Zz]$", "+00:00")
        .str.replace(r"([+-]\d{2})$", "${1}:00")
    )
    frame = frame.with_columns(text.alias("_t"))
    has_offset = pl.col("_t").str.contains(_OFFSET)
    frame = frame.with_columns(
        pl.when(has_offset)
        .then(pl.col("_t").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_zone="UTC", strict=False))
        .alias("_aware"),
        pl.when(~has_offset)
        .then(pl.col("_t").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False))
        .alias("_naive"),
    )
    unreadable = ~pl.col("_t").fill_null("").str.contains(_ISO) | (
        pl.col("_aware").is_null() & pl.col("_naive").is_null()
    )
    _first_bad(frame, unreadable, "timestamp", path, "cannot read timestamp")
    if tz is None:
        _first_bad(
            frame, pl.col("_naive").is_not_null(), "timestamp", path,
            "timestamp has no UTC offset; give its time zone with --tz",
        )  # fmt: skip
        return frame["_aware"].alias("ts")
    occurrence = pl.int_range(pl.len()).over("series", "_naive")
    local = localise(pl.col("_naive").dt.cast_time_unit("us"), tz, occurrence)
    out = frame.select(pl.coalesce(pl.col("_aware").dt.cast_time_unit("us"), local).alias("ts"))
    skipped = int((frame["_naive"].is_not_null() & out["ts"].is_null()).sum())
    if skipped:
        log.info("dropped %s rows at local times that do not exist in %s", skipped, tz)
    return out["ts"]


def read_history(path: Path, tz: str | None = None) -> pl.DataFrame:
    """A history CSV (``series,timestamp,count``) as ``series, ts (UTC), count``.

    Empty counts are missing hours; rows at nonexistent local times are dropped.

    Raises
    ------
    HistoryError
        An unreadable or empty file, missing columns, and (naming the line) an empty series,
        a bad timestamp, a naive timestamp without ``tz``, a count that is not a number >= 0.
    """
    frame = _read_strings(path, HISTORY_COLUMNS)
    _first_bad(
        frame,
        pl.col("series").fill_null("").str.strip_chars() == "",
        "series",
        path,
        "empty series",
    )
    count = pl.col("count").str.strip_chars().replace("", None)
    number = count.cast(pl.Float64, strict=False)
    _first_bad(
        frame, count.is_not_null() & number.is_null(), "count", path, "count is not a number"
    )
    _first_bad(frame, number < 0, "count", path, "count is negative")
    ts = parse_timestamps(frame, tz, path)
    return (
        frame.select(pl.col("series").str.strip_chars(), number.alias("count"))
        .with_columns(ts)
        .filter(pl.col("ts").is_not_null())
        .select("series", "ts", "count")
    )


def read_events(path: Path) -> tuple[Event, ...]:
    """An events CSV (``date,name[,uplift]``, dates ``YYYY-MM-DD``, local to the council).

    Raises
    ------
    HistoryError
        An unreadable file, missing columns, a bad date, or an uplift not in (0, 20].
    """
    frame = _read_strings(path, EVENT_COLUMNS)
    day = pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    _first_bad(frame, day.is_null(), "date", path, "expected a date YYYY-MM-DD")
    uplift = pl.lit(None, pl.Float64)
    if "uplift" in frame.columns:
        text = pl.col("uplift").str.strip_chars().replace("", None)
        uplift = text.cast(pl.Float64, strict=False)
        bad = (text.is_not_null() & uplift.is_null()) | (uplift <= 0) | (uplift > 20)
        _first_bad(frame, bad, "uplift", path, "expected an uplift in (0, 20]")
    rows = frame.select(day.alias("d"), pl.col("name").fill_null(""), uplift.alias("u"))
    return tuple(Event(d, name, u) for d, name, u in rows.iter_rows())


def write_forecasts(frame: pl.DataFrame, out: TextIO, tz: str) -> None:
    """Write ``series,timestamp,forecast,lo80,hi80`` (ISO 8601 local times with offset)."""
    frame.select(
        "series",
        pl.col("ts")
        .dt.convert_time_zone(tz)
        .dt.to_string("%Y-%m-%dT%H:%M:%S%:z")
        .alias("timestamp"),
        *(pl.col(c).round(1) for c in ("forecast", "lo80", "hi80")),
    ).write_csv(out)
