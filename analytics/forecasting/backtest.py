"""Rolling-origin backtest of the forecaster against the two baselines.

Origins are local midnights, one a day, over the last ``origins`` days whose whole horizon is
in the history (or ending at ``last_origin``). At each origin every method forecasts the next
``horizon`` hours of every series from the counts before the origin only; the model is refit
every ``params.retrain_days`` days on the ``params.train_weeks`` weeks before the origin.

What is scored, exactly: the hours of a horizon (series, origin, hour) where

* the series had its first count at least 28 days before the origin;
* the hour has a count (missing hours and stuck-at-zero runs are outages: not scored);
* the same local hour a week earlier has a count (so the seasonal naive, as textbooks define
  it, exists; the four-week mean then averages the counted ones of its four hours).

All methods are scored on the same hours. A series' MASE divides its absolute errors by its
in-sample seasonal naive error: the mean ``|y(t) - y(t - 1 week)|`` over its counted hours
before its first scored origin. Overall figures pool all scored hours (so overall MASE is the
mean scaled error, weighting series by their scored hours). Coverage is the share of scored
hours with ``lo80 <= count <= hi80``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from analytics.forecasting.baselines import (
    BASELINES,
    baseline_errors,
    error_quantiles,
    interval,
    with_baselines,
)
from analytics.forecasting.boosters import Boosters, fit, predict, trainable
from analytics.forecasting.calendar import Calendar
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.features import Array, Signals, signals
from analytics.forecasting.grid import WEEK_HOURS, build_grid, clean_history
from analytics.forecasting.model import check_horizon
from analytics.forecasting.params import ForecastParams
from ingest.kernel.params import require

METHODS = ("smartstreets", *BASELINES)
"""Methods in the order the backtest reports them."""

WARM_UP_DAYS = 28
"""Days of counts a series needs before an origin to be scored at it."""

Progress = Callable[[int, int], None]


def origin_dates(
    history_end: datetime, horizon: int, origins: int, tz: str, last_origin: date | None
) -> list[date]:
    """Local dates of the origins: ``origins`` days ending at ``last_origin`` or at the last
    day whose midnight plus ``horizon`` hours is within the history (ending ``history_end``)."""
    if last_origin is None:
        zone = ZoneInfo(tz)
        last_origin = (history_end - timedelta(hours=horizon)).astimezone(zone).date()
        if datetime.combine(last_origin, time(), zone) + timedelta(hours=horizon) > history_end:
            last_origin -= timedelta(days=1)
    return [last_origin - timedelta(days=k) for k in range(origins - 1, -1, -1)]


def _midnights(days: list[date], tz: str) -> list[int]:
    """UTC epoch hours of local midnights (a midnight that does not exist is skipped)."""
    frame = pl.DataFrame({"d": days}).select(
        pl.col("d")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        .dt.epoch("s")
        // 3600
    )
    return [int(h) for h in frame["d"].drop_nulls()]


def backtest_points(
    history: pl.DataFrame,
    horizon: int = 24,
    origins: int = 30,
    *,
    calendar: Calendar | None = None,
    last_origin: date | None = None,
    params: ForecastParams | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Every scored hour of the backtest with each method's forecast and interval.

    Parameters
    ----------
    history
        As for :func:`analytics.forecasting.model.forecast_series`.
    horizon
        Hours forecast from each origin, 1 to 168.
    origins
        Number of daily origins.
    calendar
        Time zone (origins are its midnights), holidays and events.
    last_origin
        Local date of the last origin (default: the last whose horizon is in the history).
    params
        Training parameters.
    progress
        Called with (origins done, origins in all) after each origin.

    Returns
    -------
    polars.DataFrame
        ``series, origin, ts, lead, y, scale`` and, for each method ``m`` of :data:`METHODS`,
        ``m``, ``m_lo``, ``m_hi``.
    """
    check_horizon(horizon)
    require(origins >= 1, "Expected origins >= 1.")
    params = params or ForecastParams()
    calendar = calendar or Calendar()
    clean = clean_history(history)
    if clean["y"].is_null().all():
        raise HistoryError("history has no counts")
    grid = _Grid.build(clean, calendar, params)
    end = clean["ts"].max()
    assert isinstance(end, datetime)
    days = origin_dates(end + timedelta(hours=1), horizon, origins, calendar.timezone, last_origin)
    starts = _midnights(days, calendar.timezone)
    model: Boosters | None = None
    fitted_at = -(10**9)
    parts = []
    for done, origin in enumerate(starts, start=1):
        if origin - fitted_at >= params.retrain_days * 24:
            refit = _fit_before(grid, origin, horizon, params)
            if refit is not None:
                model, fitted_at = refit, origin
        part = None if model is None else _origin_points(grid, model, origin, horizon)
        if part is not None:
            parts.append(part)
        if progress is not None:
            progress(done, len(starts))
    if not parts:
        raise HistoryError("no hour of the history can be scored at these origins")
    return _scaled(pl.concat(parts), grid.frame)


@dataclass(frozen=True)
class _Grid:
    """The cleaned history on its grid, with what every origin reads of each of its rows."""

    frame: pl.DataFrame
    signals: Signals
    hours: Array
    """UTC epoch hour of the row."""
    first_count: Array
    """UTC epoch hour of the first count of the row's series."""
    scoreable: Array
    """The row and the same local hour a week earlier both have a count."""
    can_train: Array
    uplift: Array
    """The council's expected event uplift of the row (1 when none)."""
    errors: pl.DataFrame
    """The baselines' log errors, from :func:`baseline_errors`."""
    series: pl.Series
    """The series' names."""

    @classmethod
    def build(cls, clean: pl.DataFrame, calendar: Calendar, params: ForecastParams) -> "_Grid":
        """The grid of ``clean`` (from :func:`clean_history`) and its per-row arrays."""
        frame = with_baselines(
            build_grid(clean, calendar, stuck_zero_hours=params.stuck_zero_hours)
        )
        s = signals(frame)
        first_count = frame.select(
            pl.col("ts").filter(pl.col("y").is_not_null()).min().over("series").dt.epoch("s")
            // 3600
        )["ts"].to_numpy()
        return cls(
            frame=frame,
            signals=s,
            hours=(frame["ts"].dt.epoch("s") // 3600).to_numpy(),
            first_count=first_count,
            scoreable=~np.isnan(s.ly) & frame["y1"].is_not_null().to_numpy(),
            can_train=trainable(s),
            uplift=frame["uplift"].fill_null(1.0).to_numpy(),
            errors=baseline_errors(frame),
            series=frame["series"].unique(),
        )


def _fit_before(grid: _Grid, origin: int, horizon: int, params: ForecastParams) -> Boosters | None:
    """A model fit on the ``params.train_weeks`` weeks before ``origin``, or None when no row
    of that window can be trained on."""
    window = (grid.hours < origin) & (grid.hours >= origin - params.train_weeks * WEEK_HOURS)
    rows = np.flatnonzero(grid.can_train & window)
    return fit(grid.signals, rows, horizon, params) if len(rows) else None


def _origin_points(grid: _Grid, model: Boosters, origin: int, horizon: int) -> pl.DataFrame | None:
    """The scored hours of the horizon from ``origin`` with each method's forecast and
    interval, or None when none is scored."""
    in_horizon = (grid.hours >= origin) & (grid.hours < origin + horizon)
    warm = grid.first_count <= origin - WARM_UP_DAYS * 24
    rows = np.flatnonzero(in_horizon & warm & grid.scoreable)
    if not len(rows):
        return None
    leads = grid.hours[rows] - origin + 1
    forecast, lo, hi = predict(model, grid.signals, rows, leads, grid.signals.base[rows])
    uplift = grid.uplift[rows]
    return (
        grid.frame[rows]
        .select("series", "ts", "hour", "y", *BASELINES)
        .with_columns(
            pl.lit(origin).alias("origin"),
            pl.Series("lead", leads),
            pl.Series("smartstreets", forecast * uplift),
            pl.Series("smartstreets_lo", lo * uplift),
            pl.Series("smartstreets_hi", hi * uplift),
        )
        .pipe(_with_baseline_intervals, grid.errors, origin, grid.series)
    )


def _scaled(points: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """``points`` with each series' MASE scale (its mean seasonal naive error before its first
    origin), series without a positive scale left out, in the layout of :func:`backtest_points`."""
    first_origin = points.group_by("series").agg(pl.col("origin").min().alias("first"))
    scale = (
        grid.select("series", "y", "y1", (pl.col("ts").dt.epoch("s") // 3600).alias("h"))
        .join(first_origin, on="series")
        .filter(pl.col("h") < pl.col("first"))
        .group_by("series")
        .agg((pl.col("y") - pl.col("y1")).abs().mean().alias("scale"))
    )
    return (
        points.join(scale, on="series", how="left")
        .filter(pl.col("scale") > 0)
        .with_columns(
            pl.from_epoch(pl.col("origin") * 3600, time_unit="s")
            .dt.cast_time_unit("us")
            .dt.replace_time_zone("UTC")
        )
        .select(
            "series",
            "origin",
            "ts",
            "lead",
            "y",
            "scale",
            *[f"{m}{suffix}" for m in METHODS for suffix in ("", "_lo", "_hi")],
        )
        .sort("series", "origin", "ts")
    )


def _with_baseline_intervals(
    frame: pl.DataFrame, errors: pl.DataFrame, origin: int, series: pl.Series
) -> pl.DataFrame:
    """Add ``m_lo`` and ``m_hi`` for each baseline, from its errors before ``origin``."""
    start = datetime.fromtimestamp(origin * 3600, ZoneInfo("UTC"))
    starts = pl.DataFrame({"series": series, "start": [start] * len(series)}).cast(
        {"start": pl.Datetime("us", "UTC")}
    )
    for m in BASELINES:
        q = error_quantiles(errors, m, starts)
        lo, hi = interval(pl.col(m))
        frame = (
            frame.join(q, on=["series", "hour"], how="left")
            .with_columns(lo.alias(f"{m}_lo"), hi.alias(f"{m}_hi"))
            .drop("q_lo", "q_hi")
        )
    return frame


def summarise(points: pl.DataFrame) -> pl.DataFrame:
    """MASE, MAE and 80% interval coverage per method, per series and overall.

    Returns
    -------
    polars.DataFrame
        ``series`` (null on the overall rows), ``method``, ``hours`` (scored), ``mase``,
        ``mae``, ``coverage80``; overall rows first, then series by name.
    """
    frames = []
    for m in METHODS:
        err = (pl.col("y") - pl.col(m)).abs()
        covered = (pl.col(f"{m}_lo") <= pl.col("y")) & (pl.col("y") <= pl.col(f"{m}_hi"))
        metrics = [
            pl.len().alias("hours"),
            (err / pl.col("scale")).mean().alias("mase"),
            err.mean().alias("mae"),
            covered.cast(pl.Float64).mean().alias("coverage80"),
        ]
        overall = points.select(pl.lit(None, pl.String).alias("series"), *metrics)
        per_series = points.group_by("series").agg(*metrics)
        frames += [
            overall.with_columns(pl.lit(m).alias("method")),
            per_series.with_columns(pl.lit(m).alias("method")),
        ]
    order = {m: i for i, m in enumerate(METHODS)}
    return (
        pl.concat(frames, how="diagonal")
        .with_columns(pl.col("hours").cast(pl.Int64))
        .select("series", "method", "hours", "mase", "mae", "coverage80")
        .sort(
            pl.col("series").is_not_null(),
            "series",
            pl.col("method").replace_strict(order, return_dtype=pl.Int8),
        )
    )


def backtest(
    history: pl.DataFrame,
    horizon: int = 24,
    origins: int = 30,
    *,
    calendar: Calendar | None = None,
    last_origin: date | None = None,
    params: ForecastParams | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Backtest smartstreets and both baselines; the metrics of :func:`summarise`.

    Parameters are those of :func:`backtest_points`.
    """
    points = backtest_points(
        history,
        horizon,
        origins,
        calendar=calendar,
        last_origin=last_origin,
        params=params,
        progress=progress,
    )
    return summarise(points)
