"""The two baselines every footfall forecast must beat, with empirical 80% intervals.

* seasonal naive: the count at the same local hour one week earlier;
* four-week mean: the mean of the counts at the same local hour of week over the last four
  weeks (of those that were counted).

Their intervals come from their own recent record: the 10% and 90% quantiles of
``log1p(actual) - log1p(baseline)`` at the same local hour of day over the eight weeks before
the origin (over all hours when an hour has no record), applied on the log scale.
"""

from datetime import datetime, timedelta

import polars as pl

from analytics.forecasting.calendar import Calendar
from analytics.forecasting.model import OUTPUT_SCHEMA, prepare
from analytics.forecasting.params import ForecastParams

BASELINES = ("seasonal_naive", "four_week_mean")
"""Baseline method names, as the backtest reports them."""

ERROR_WEEKS = 8
"""Weeks of a baseline's own errors that its interval is drawn from."""


def with_baselines(grid: pl.DataFrame) -> pl.DataFrame:
    """The grid with a ``seasonal_naive`` and a ``four_week_mean`` column (null if unknown)."""
    return grid.with_columns(
        pl.col("y1").alias("seasonal_naive"),
        pl.mean_horizontal("y1", "y2", "y3", "y4").alias("four_week_mean"),
    )


def baseline_errors(grid: pl.DataFrame) -> pl.DataFrame:
    """``series, ts, hour`` and each baseline's log error, for hours with a count."""
    errors = [(pl.col("y").log1p() - pl.col(m).log1p()).alias(m) for m in BASELINES]
    return grid.filter(pl.col("y").is_not_null()).select("series", "ts", "hour", *errors)


def error_quantiles(errors: pl.DataFrame, method: str, starts: pl.DataFrame) -> pl.DataFrame:
    """10% and 90% quantiles of ``method``'s log errors before each series' origin.

    Parameters
    ----------
    errors
        From :func:`baseline_errors`.
    method
        A name from :data:`BASELINES`.
    starts
        ``series, start``: each series' forecast origin (UTC).

    Returns
    -------
    polars.DataFrame
        ``series, hour, q_lo, q_hi`` for every local hour of day of every series with a record.
    """
    recent = (
        errors.join(starts, on="series")
        .filter(
            pl.col("ts") < pl.col("start"),
            pl.col("ts") >= pl.col("start") - timedelta(weeks=ERROR_WEEKS),
            pl.col(method).is_not_null(),
        )
        .select("series", "hour", pl.col(method).alias("e"))
    )
    quantiles = [
        pl.col("e").quantile(0.1, "linear").alias("q_lo"),
        pl.col("e").quantile(0.9, "linear").alias("q_hi"),
    ]
    by_hour = recent.group_by("series", "hour").agg(*quantiles)
    overall = recent.group_by("series").agg(*quantiles)
    hours = overall.select("series").join(
        pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int16}), how="cross"
    )
    return (
        hours.join(by_hour, on=["series", "hour"], how="left")
        .join(overall, on="series", suffix="_all")
        .select(
            "series",
            "hour",
            pl.coalesce("q_lo", "q_lo_all").alias("q_lo"),
            pl.coalesce("q_hi", "q_hi_all").alias("q_hi"),
        )
    )


def interval(point: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Lower and upper bounds around ``point`` from the ``q_lo`` and ``q_hi`` columns."""
    lo = ((point.log1p() + pl.col("q_lo")).exp() - 1).clip(lower_bound=0.0)
    hi = ((point.log1p() + pl.col("q_hi")).exp() - 1).clip(lower_bound=0.0)
    return pl.min_horizontal(lo, point), pl.max_horizontal(hi, point)


def _baseline(
    method: str,
    history: pl.DataFrame,
    horizon: int,
    calendar: Calendar | None,
    now: datetime | None,
) -> pl.DataFrame:
    prepared = prepare(
        history, horizon, calendar or Calendar(), now, ForecastParams().stuck_zero_hours
    )
    grid = with_baselines(prepared.grid)
    starts = prepared.targets.group_by("series").agg(pl.col("ts").min().alias("start"))
    q = error_quantiles(baseline_errors(grid), method, starts)
    lo, hi = interval(pl.col(method))
    return (
        prepared.targets.join(grid.select("row", "hour", method), on="row")
        .join(q, on=["series", "hour"], how="left")
        .select(
            "series", "ts", pl.col(method).alias("forecast"), lo.alias("lo80"), hi.alias("hi80")
        )
        .cast(OUTPUT_SCHEMA)  # type: ignore[arg-type]
        .sort("series", "ts")
    )


def seasonal_naive(
    history: pl.DataFrame,
    horizon: int,
    *,
    calendar: Calendar | None = None,
    now: datetime | None = None,
) -> pl.DataFrame:
    """The count at the same local hour a week earlier, as :func:`forecast_series` lays it out.

    Parameters and result are those of
    :func:`analytics.forecasting.model.forecast_series`, except that ``forecast``,
    ``lo80`` and ``hi80`` are null where the week-earlier hour was not counted.
    """
    return _baseline("seasonal_naive", history, horizon, calendar, now)


def four_week_mean(
    history: pl.DataFrame,
    horizon: int,
    *,
    calendar: Calendar | None = None,
    now: datetime | None = None,
) -> pl.DataFrame:
    """The mean count at the same local hour of week over the last four weeks.

    Parameters and result are those of
    :func:`analytics.forecasting.model.forecast_series`, except that ``forecast``,
    ``lo80`` and ``hi80`` are null where none of the four hours was counted.
    """
    return _baseline("four_week_mean", history, horizon, calendar, now)
