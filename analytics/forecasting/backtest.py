"""Rolling-origin backtest of the forecaster against the two baselines (and, on request, the
statistical model).

Origins are local midnights, one a day (or every ``stride_days``), the last ``origins`` of them
whose whole horizon is in the history (or ending at ``last_origin``); several windows of
origins over one grid are :mod:`analytics.forecasting.rolling`'s. At each origin every method
forecasts the next ``horizon`` hours of every series from the counts before the origin only;
the model is refit every ``params.retrain_days`` days on the ``params.train_weeks`` weeks
before the origin.

What is scored, exactly: the hours of a horizon (series, origin, hour) where

* the series had its first count at least 28 days before the origin;
* the hour has a count (missing hours and stuck-at-zero runs are outages: not scored);
* the same local hour a week earlier has a count (so the seasonal naive, as textbooks define
  it, exists; the four-week mean then averages the counted ones of its four hours).

All methods are scored on the same hours, as :mod:`analytics.forecasting.scoring` describes.
On request the statistical baseline (:mod:`analytics.forecasting.statistical`) is fitted at
every origin too; where it cannot forecast a scored hour (too few counts in its window) it
falls back to the seasonal naive, so the hours stay the same.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
from analytics.forecasting.scoring import METHODS, scaled, summarise
from analytics.forecasting.statistical import StatisticalParams, with_statistical
from analytics.forecasting.windows import midnights, origin_dates
from ingest.kernel.params import require

__all__ = [
    "METHODS",
    "WARM_UP_DAYS",
    "BacktestGrid",
    "backtest",
    "backtest_points",
    "origin_dates",
    "prepare_backtest",
    "run_origins",
    "summarise",
]

WARM_UP_DAYS = 28
"""Days of counts a series needs before an origin to be scored at it."""

Progress = Callable[[int, int], None]


def backtest_points(
    history: pl.DataFrame,
    horizon: int = 24,
    origins: int = 30,
    *,
    calendar: Calendar | None = None,
    last_origin: date | None = None,
    params: ForecastParams | None = None,
    progress: Progress | None = None,
    stride_days: int = 1,
    statistical: StatisticalParams | None = None,
) -> pl.DataFrame:
    """Every scored hour of the backtest with each method's forecast and interval.

    Parameters
    ----------
    history
        As for :func:`analytics.forecasting.model.forecast_series`.
    horizon
        Hours forecast from each origin, 1 to 168.
    origins
        Number of origins (local midnights).
    calendar
        Time zone (origins are its midnights), holidays and events.
    last_origin
        Local date of the last origin (default: the last whose horizon is in the history).
    params
        Training parameters.
    progress
        Called with (origins done, origins in all) after each origin.
    stride_days
        Days between origins.
    statistical
        When given, also fit the statistical baseline with these parameters at every origin
        (needs statsforecast).

    Returns
    -------
    polars.DataFrame
        ``series, origin, ts, lead, y, scale`` and, for each method ``m`` of :data:`METHODS`
        (and ``statistical`` on request), ``m``, ``m_lo``, ``m_hi``.
    """
    check_horizon(horizon)
    require(origins >= 1, "Expected origins >= 1.")
    require(stride_days >= 1, "Expected stride_days >= 1.")
    params = params or ForecastParams()
    calendar = calendar or Calendar()
    grid = prepare_backtest(history, calendar, params)
    end = grid.frame["ts"].max()
    assert isinstance(end, datetime)
    days = origin_dates(
        end + timedelta(hours=1), horizon, origins, calendar.timezone, last_origin, stride_days
    )
    return run_origins(grid, days, horizon, params, statistical=statistical, progress=progress)


def prepare_backtest(
    history: pl.DataFrame, calendar: Calendar, params: ForecastParams
) -> "BacktestGrid":
    """The history cleaned and laid on its grid once, for any number of origins.

    Raises
    ------
    HistoryError
        A history without counts, or one :func:`clean_history` refuses.
    """
    clean = clean_history(history)
    if clean["y"].is_null().all():
        raise HistoryError("history has no counts")
    return BacktestGrid.build(clean, calendar, params)


def run_origins(
    grid: "BacktestGrid",
    days: Sequence[date],
    horizon: int,
    params: ForecastParams,
    *,
    statistical: StatisticalParams | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """The scored hours of the origins at the local midnights of ``days``, as
    :func:`backtest_points` lays them out (MASE scales taken before the first of them).

    Raises
    ------
    HistoryError
        No hour can be scored at these origins.
    """
    check_horizon(horizon)
    starts = midnights(list(days), grid.timezone)
    model: Boosters | None = None
    fitted_at = -(10**9)
    parts = []
    for done, origin in enumerate(starts, start=1):
        if origin - fitted_at >= params.retrain_days * 24:
            refit = _fit_before(grid, origin, horizon, params)
            if refit is not None:
                model, fitted_at = refit, origin
        part = None if model is None else _origin_points(grid, model, origin, horizon)
        if part is not None and statistical is not None:
            part = _with_statistical(part, grid, origin, horizon, statistical)
        if part is not None:
            parts.append(part)
        if progress is not None:
            progress(done, len(starts))
    if not parts:
        raise HistoryError("no hour of the history can be scored at these origins")
    return scaled(pl.concat(parts), grid.frame)


@dataclass(frozen=True)
class BacktestGrid:
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
    timezone: str
    """The calendar's time zone: origins are its midnights."""

    @classmethod
    def build(
        cls, clean: pl.DataFrame, calendar: Calendar, params: ForecastParams
    ) -> "BacktestGrid":
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
            timezone=calendar.timezone,
        )


def _fit_before(
    grid: BacktestGrid, origin: int, horizon: int, params: ForecastParams
) -> Boosters | None:
    """A model fit on the ``params.train_weeks`` weeks before ``origin``, or None when no row
    of that window can be trained on."""
    window = (grid.hours < origin) & (grid.hours >= origin - params.train_weeks * WEEK_HOURS)
    rows = np.flatnonzero(grid.can_train & window)
    return fit(grid.signals, rows, horizon, params) if len(rows) else None


def _origin_points(
    grid: BacktestGrid, model: Boosters, origin: int, horizon: int
) -> pl.DataFrame | None:
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


def _with_statistical(
    part: pl.DataFrame, grid: BacktestGrid, origin: int, horizon: int, params: StatisticalParams
) -> pl.DataFrame:
    """``part`` with the statistical baseline fitted on the weeks before ``origin``."""
    before = (grid.hours < origin) & (grid.hours >= origin - params.train_weeks * WEEK_HOURS)
    history = grid.frame[np.flatnonzero(before)].select("series", "ts", "y")
    start = datetime.fromtimestamp(origin * 3600, ZoneInfo("UTC"))
    return with_statistical(part, history, start, horizon, params)


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
