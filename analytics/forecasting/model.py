"""Hourly footfall forecasts with 80% prediction intervals: the package's front door.

The public API: :func:`forecast_series` and :class:`ForecastParams` (here);
:func:`~analytics.forecasting.baselines.seasonal_naive`,
:func:`~analytics.forecasting.baselines.four_week_mean`,
:func:`~analytics.forecasting.backtest.backtest` and
:class:`~analytics.forecasting.calendar.Calendar` (beside it).

>>> forecast_series(history, 48, calendar=victoria())  # doctest: +SKIP

``history`` holds ``series, ts, count`` (``ts`` in UTC; hourly, gaps allowed); the result holds
``series, ts, forecast, lo80, hi80`` for the ``horizon`` hours after each series' last hour.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from analytics.forecasting.boosters import fit, predict, trainable
from analytics.forecasting.calendar import Calendar
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.features import profile_base, signals
from analytics.forecasting.grid import WEEK_HOURS, build_grid, clean_history, forecast_ends
from analytics.forecasting.params import ForecastParams
from analytics.forecasting.shifts import broken_reason
from analytics.forecasting.weather import on_grid
from ingest.kernel.params import require_in

__all__ = [
    "MAX_HORIZON",
    "OUTPUT_SCHEMA",
    "ForecastParams",
    "Prepared",
    "check_horizon",
    "forecast_series",
    "forecast_with_status",
    "prepare",
    "unknown_now",
]

log = logging.getLogger(__name__)

MAX_HORIZON = WEEK_HOURS
"""Longest horizon, in hours: every lag the model reads is at least a week old."""

REFERENCE = timedelta(weeks=12)
"""How far back a series' usual day is taken from, to tell a broken counter from a quiet one."""

MIN_TRAINING_HOURS = 168
"""Counted hours with a count a week earlier that a history needs before a model is fitted."""

OUTPUT_SCHEMA = {
    "series": pl.String,
    "ts": pl.Datetime("us", "UTC"),
    "forecast": pl.Float64,
    "lo80": pl.Float64,
    "hi80": pl.Float64,
}


@dataclass(frozen=True)
class Prepared:
    """A history on its grid, with the rows to forecast (``row``, ``lead`` per target)."""

    grid: pl.DataFrame
    targets: pl.DataFrame


def check_horizon(horizon: int) -> None:
    """Raise ``ValueError`` unless ``1 <= horizon <= MAX_HORIZON``."""
    require_in("horizon", horizon, 1, MAX_HORIZON)


def prepare(
    history: pl.DataFrame,
    horizon: int,
    calendar: Calendar,
    now: datetime | None,
    stuck_zero_hours: int,
    weather: pl.DataFrame | None = None,
) -> Prepared:
    """Clean ``history``, cut it at the origin and lay it on a grid reaching the horizon.

    Series without a single count before the origin are left out (nothing to forecast from).

    Raises
    ------
    HistoryError
        Bad columns or values, or no counts at all.
    """
    check_horizon(horizon)
    clean = clean_history(history)
    clean, spans = forecast_ends(clean, horizon, now)
    counted = clean.filter(pl.col("y").is_not_null())["series"].unique()
    clean = clean.filter(pl.col("series").is_in(counted.implode()))
    if clean.is_empty():
        raise HistoryError("history has no counts before the forecast origin")
    spans = spans.filter(pl.col("series").is_in(counted.implode()))
    grid = build_grid(
        clean, calendar, spans.select("series", "end"), stuck_zero_hours=stuck_zero_hours
    )
    grid = on_grid(grid, weather)
    targets = (
        grid.select("series", "ts", "row")
        .join(spans, on="series")
        .filter(pl.col("ts") >= pl.col("start"))
        .with_columns(((pl.col("ts") - pl.col("start")).dt.total_hours() + 1).alias("lead"))
        .select("series", "ts", "row", "lead")
    )
    return Prepared(grid, targets)


def unknown_now(grid: pl.DataFrame, targets: pl.DataFrame) -> dict[str, str]:
    """The series whose forecast should read "unknown" at their origin, each with the reason
    (see `broken_reason`): the last 24 hours' counts against the median day of the twelve
    weeks before."""
    start = targets.group_by("series").agg(pl.col("ts").min().alias("start"))
    earliest = start["start"].min()
    # Rows older than every series' reference period first left out: the join is then small.
    recent_rows = (
        grid.filter(pl.col("ts") >= earliest - REFERENCE)
        if isinstance(earliest, datetime)
        else grid
    )
    known = recent_rows.join(start, on="series").filter(
        (pl.col("ts") < pl.col("start")) & (pl.col("ts") >= pl.col("start") - REFERENCE)
    )
    last_day = pl.col("ts") >= pl.col("start") - timedelta(hours=24)
    recent = (
        known.filter(last_day)
        .group_by("series")
        .agg(pl.col("y").count().alias("counted"), pl.col("y").sum().alias("total"))
    )
    usual = (
        known.filter(~last_day)
        .group_by("series", pl.col("ts").dt.truncate("1d").alias("day"))
        .agg(pl.col("y").count().alias("n"), pl.col("y").sum().alias("total"))
        .filter(pl.col("n") >= 20)
        .group_by("series")
        .agg(pl.col("total").median().alias("usual"))
    )
    facts = start.join(recent, on="series", how="left").join(usual, on="series", how="left")
    out = {}
    for name, _, counted, total, typical in facts.iter_rows():
        why = broken_reason(counted or 0, total or 0.0, typical)
        if why is not None:
            out[name] = why
    return out


def forecast_series(
    history: pl.DataFrame,
    horizon: int,
    *,
    calendar: Calendar | None = None,
    now: datetime | None = None,
    params: ForecastParams | None = None,
    include_unknown: bool = False,
    weather: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Hourly forecasts with 80% prediction intervals for every series of ``history``.

    Parameters
    ----------
    history
        ``series`` (str), ``ts`` (UTC datetime; a naive one is taken as UTC), ``count``
        (number; null or NaN when unknown). Hourly, gaps and outages allowed: a missing hour
        is missing, never zero. Runs of zeros of ``params.stuck_zero_hours`` or more are taken
        as a stuck counter and treated as missing too.
    horizon
        Hours to forecast, 1 to 168.
    calendar
        The council's time zone, holidays and events (default: UTC and no holidays). The
        weekly pattern is learnt in its local time, so it survives daylight-saving changes.
    now
        Forecast the ``horizon`` hours from ``now`` rounded up to the hour, for every series,
        using only counts before then; by default each series is forecast from the hour after
        its last timestamp.
    params
        How the model is trained (default :class:`ForecastParams`).
    include_unknown
        Also forecast the series that are broken at the origin (following their new level):
        for scoring every series on the same hours; never for publication.
    weather
        Hourly ``ts, temp_c, rain_mm`` of the town, past and forecast (see
        :mod:`analytics.forecasting.weather`); optional.

    Returns
    -------
    polars.DataFrame
        ``series, ts (UTC), forecast, lo80, hi80``, ``horizon`` rows per series, ordered by
        series and time; ``lo80 <= forecast <= hi80``, none negative, none NaN. Series with no
        count at all are left out, and so are those that are broken at the origin (see
        :func:`unknown_now`, and ``include_unknown``). Days with an event of known uplift are
        scaled by it.

    Raises
    ------
    HistoryError
        Missing columns, negative counts, no counts, or less than a week of counts with a
        count a week earlier (too little to learn the weekly pattern from).
    ValueError
        A horizon outside 1..168, or a naive ``now``.
    """
    made, unknown = forecast_with_status(
        history, horizon, calendar=calendar, now=now, params=params, weather=weather
    )
    if include_unknown:
        return made
    for name, why in sorted(unknown.items()):
        log.info("no forecast for %s: %s", name, why)
    return made.filter(~pl.col("series").is_in(list(unknown)))


def forecast_with_status(
    history: pl.DataFrame,
    horizon: int,
    *,
    calendar: Calendar | None = None,
    now: datetime | None = None,
    params: ForecastParams | None = None,
    weather: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """:func:`forecast_series` of every series, broken ones included, and the reason each
    broken one should read "unknown" (see :func:`unknown_now`)."""
    params = params or ForecastParams()
    prepared = prepare(
        history, horizon, calendar or Calendar(), now, params.stuck_zero_hours, weather
    )
    grid, targets = prepared.grid, prepared.targets
    s = signals(grid)
    ts_hours = (grid["ts"].dt.epoch("s") // 3600).to_numpy()
    # Hours at or after a series' origin have no count, so they are never trained on.
    latest = int(ts_hours[targets["row"].to_numpy()].max()) - horizon
    rows = np.flatnonzero(trainable(s) & (ts_hours >= latest - params.train_weeks * WEEK_HOURS))
    if len(rows) < MIN_TRAINING_HOURS:
        raise HistoryError(
            "history too short to learn from: it needs over a week of hourly counts "
            "with counts a week earlier"
        )
    model = fit(s, rows, horizon, params)
    target_rows = targets["row"].to_numpy()
    leads = targets["lead"].to_numpy().astype(np.int64)
    base = s.base[target_rows]
    missing = np.isnan(base)
    if missing.any():
        base = np.where(missing, profile_base(grid, s.ly)[target_rows], base)
    forecast, lo, hi = predict(model, s, target_rows, leads, base)
    uplift = grid["uplift"].fill_null(1.0).to_numpy()[target_rows]
    made = targets.select(
        "series",
        "ts",
        pl.Series("forecast", forecast * uplift),
        pl.Series("lo80", lo * uplift),
        pl.Series("hi80", hi * uplift),
    ).sort("series", "ts")
    return made, unknown_now(grid, targets)
