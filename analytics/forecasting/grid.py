"""Histories onto a regular hourly UTC grid per series, with local-time columns and lags.

Internally every series is a contiguous run of rows, one per UTC hour from its first count to
the last hour that needs a forecast; missing hours are null counts, never zeros. Local time
(from the calendar's zone) gives the hour of week and the date, and lags are looked up by
local wall-clock time ("same hour a week ago" is 09:00 last Tuesday even across a
daylight-saving change). In the spring gap there is no wall-clock hour to look up (the lag is
missing); in the autumn repeat the first of the two hours stands for that wall-clock hour.
"""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from analytics.forecasting.calendar import Calendar, day_table
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.lags import WallIndex

LAG_WEEKS = 12
"""Same-hour-of-week lags kept on the grid (1 to 8 weeks back)."""

SUNDAYS = 4
"""Recent Sundays kept on the grid, as a model of public holidays."""

WEEK_HOURS = 168


def clean_history(history: pl.DataFrame) -> pl.DataFrame:
    """Check a history and normalise it to ``series`` (str), ``ts`` (UTC hour), ``y`` (f64).

    Timestamps are truncated to the hour and a naive ``ts`` is taken as UTC; of several rows
    for one series and hour the first is kept; null or NaN counts are missing hours.

    Raises
    ------
    HistoryError
        Missing columns, a ``ts`` that is not a datetime, null timestamps, negative counts.
    """
    missing = [c for c in ("series", "ts", "count") if c not in history.columns]
    if missing:
        raise HistoryError(f"history lacks column(s) {', '.join(missing)}")
    ts_type = history.schema["ts"]
    if not isinstance(ts_type, pl.Datetime):
        raise HistoryError(f"history column ts must be a datetime, not {ts_type}")
    if not history.schema["count"].is_numeric():
        raise HistoryError("history column count must be numeric")
    ts = pl.col("ts").dt.cast_time_unit("us")
    ts = ts.dt.convert_time_zone("UTC") if ts_type.time_zone else ts.dt.replace_time_zone("UTC")
    out = history.select(
        pl.col("series").cast(pl.String),
        ts.dt.truncate("1h").alias("ts"),
        pl.col("count").cast(pl.Float64).fill_nan(None).alias("y"),
    )
    if out["ts"].null_count() or out["series"].null_count():
        raise HistoryError("history has rows without a series or a timestamp")
    if (out["y"] < 0).any():
        raise HistoryError("history has negative counts")
    # A stable sort puts each series and hour's rows together, first row first: keeping the
    # first of each run is the ``unique(keep="first")`` of before, without hashing every row.
    out = out.sort("series", "ts", maintain_order=True)
    repeat = (pl.col("series") == pl.col("series").shift(1)) & (
        pl.col("ts") == pl.col("ts").shift(1)
    )
    return out.filter(~repeat.fill_null(False))


STUCK_VALUE_HOURS = 6
"""Runs of one non-zero count (of at least `STUCK_VALUE_MIN`) this long are a stuck counter."""

STUCK_VALUE_MIN = 5.0

SPIKE_FACTOR = 10.0
"""An hour counting over this many times the series' highest of the four weeks before is a
fault (a glitch or a doubled upload), not people."""


def _blank_faults(grid: pl.DataFrame, stuck_zero_hours: int) -> pl.DataFrame:
    """Counts a counter cannot have made, made missing: runs of at least ``stuck_zero_hours``
    zeros (an outage), runs of `STUCK_VALUE_HOURS` or more of one count of at least
    `STUCK_VALUE_MIN`, or of one count for a day (stuck), and single hours over `SPIKE_FACTOR`
    times the highest count of the four weeks before. A jump to a lasting new level loses only
    its first hour: the next one is compared with a window that holds it."""
    y = pl.col("y")
    value = y.fill_null(-1.0)
    run = (value != value.shift(1)).fill_null(True).cum_sum().over("series")
    before = y.shift(1).rolling_max(4 * WEEK_HOURS, min_samples=24).over("series")
    length = pl.col("_len")
    stuck = (
        ((value == 0.0) & (length >= stuck_zero_hours))
        | ((value >= STUCK_VALUE_MIN) & (length >= STUCK_VALUE_HOURS))
        | ((value > 0.0) & (length >= 24))
    )
    spike = (pl.col("_before") > 0) & (y > SPIKE_FACTOR * pl.col("_before"))
    return (
        grid.with_columns(run.alias("_run"), before.alias("_before"))
        .with_columns(pl.len().over("series", "_run").alias("_len"))
        .with_columns(pl.when(stuck | spike).then(None).otherwise(y).alias("y"))
        .drop("_run", "_before", "_len")
    )


def build_grid(
    history: pl.DataFrame,
    calendar: Calendar,
    ends: pl.DataFrame | None = None,
    *,
    stuck_zero_hours: int = 12,
) -> pl.DataFrame:
    """The hourly grid of every series, with local-time, calendar and lag columns.

    Parameters
    ----------
    history
        A cleaned history (:func:`clean_history`).
    calendar
        Time zone, holidays and events.
    ends
        ``series``, ``end``: the last UTC hour each series' grid must reach (for forecasts);
        by default its last count.
    stuck_zero_hours
        Runs of zeros at least this long are an outage, not an empty street (other faults:
        see `_blank_faults`).

    Returns
    -------
    polars.DataFrame
        ``series, ts, y, row, first_row, local, date, hour, dow, how``, the columns of
        :func:`analytics.forecasting.calendar.day_table`, ``y1 .. y8`` (counts at the same
        local hour 1 to 8 weeks earlier) and ``sp1 .. sp8`` (whether those days were public
        holidays or events). Rows are ordered by series, then time.
    """
    spans = history.group_by("series").agg(
        pl.col("ts").min().alias("first"), pl.col("ts").max().alias("end")
    )
    if ends is not None:
        spans = (
            spans.join(ends.rename({"end": "_end"}), on="series", how="left")
            .with_columns(pl.max_horizontal("end", "_end").alias("end"))
            .drop("_end")
        )
    spans = spans.sort("series").with_columns(
        ((pl.col("end") - pl.col("first")).dt.total_hours() + 1).alias("_hours")
    )
    grid = spans.select("series", pl.datetime_ranges("first", "end", "1h").alias("ts")).explode(
        "ts"
    )
    # Each count goes straight to its row (series start + hours since): the history holds one
    # row per series and hour, so this is the left join of the grid with it, without hashing.
    at = history.join(
        spans.select(
            "series", "first", (pl.col("_hours").cum_sum() - pl.col("_hours")).alias("_at")
        ),
        on="series",
    ).select((pl.col("_at") + (pl.col("ts") - pl.col("first")).dt.total_hours()).alias("at"), "y")
    y = pl.Series("y", np.full(grid.height, np.nan)).scatter(at["at"], at["y"]).fill_nan(None)
    grid = grid.with_columns(y)
    grid = _blank_faults(grid, stuck_zero_hours)
    local = pl.col("ts").dt.convert_time_zone(calendar.timezone).dt.replace_time_zone(None)
    grid = grid.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"), local.alias("local")
    ).with_columns(
        pl.col("row").min().over("series").alias("first_row"),
        (pl.col("local").dt.epoch("s") // 3600).alias("wall"),
        pl.col("local").dt.date().alias("date"),
        pl.col("local").dt.hour().cast(pl.Int16).alias("hour"),
        (pl.col("local").dt.weekday() - 1).cast(pl.Int16).alias("dow"),
    )
    grid = grid.with_columns((pl.col("dow") * 24 + pl.col("hour")).alias("how"))
    first, last = grid["date"].min(), grid["date"].max()
    assert isinstance(first, date) and isinstance(last, date)
    grid = grid.join(day_table(calendar, first, last), on="date", how="left", maintain_order="left")
    by_wall = WallIndex(grid)
    wall = grid["wall"].to_numpy()
    special = sorted(calendar.special_days())
    for k in range(1, LAG_WEEKS + 1):
        grid = grid.with_columns(
            by_wall.counts_at(wall - WEEK_HOURS * k, f"y{k}"),
            (pl.col("date") - timedelta(days=7 * k)).is_in(special).alias(f"sp{k}"),
        )
    sunday_back = (grid["dow"].to_numpy() + 1) % 7 + 7  # days to the Sunday 7-13 days earlier
    return grid.with_columns(
        by_wall.counts_at(wall - 24 * (sunday_back + 7 * j), f"su{j + 1}") for j in range(SUNDAYS)
    )


def forecast_ends(
    history: pl.DataFrame, horizon: int, now: datetime | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The history known at the forecast origin, and each series' first and last forecast hour.

    Without ``now`` each series is forecast from the hour after its last count; with ``now``
    every series is forecast from ``now`` rounded up to the hour, and counts from then on are
    ignored (they are not known yet at that time).

    Returns
    -------
    tuple
        The history cut at the origin, and a frame ``series, start, end`` (UTC hours).
    """
    if now is not None:
        if now.tzinfo is None:
            raise ValueError("Expected a time-zone-aware now.")
        now = now.astimezone(UTC)
        first = now.replace(minute=0, second=0, microsecond=0)
        if first < now:
            first += timedelta(hours=1)
        history = history.filter(pl.col("ts") < first)
        spans = history.group_by("series").agg(pl.lit(first).alias("start"))
    else:
        spans = history.group_by("series").agg(
            (pl.col("ts").max() + timedelta(hours=1)).alias("start")
        )
    spans = spans.with_columns((pl.col("start") + timedelta(hours=horizon - 1)).alias("end")).sort(
        "series"
    )
    return history, spans
