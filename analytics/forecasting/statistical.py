"""A classical statistical baseline: MSTL with an ETS trend, from statsforecast.

Each series is fitted on its own, at each forecast origin, on the last ``train_weeks`` weeks of
its counts before the origin: the log counts (``log1p``, so the daily and weekly patterns
scale with the level, as footfall's do) are decomposed into a daily (24 h) and a weekly
(168 h) seasonal component by MSTL, and the rest (trend and remainder) is forecast by an
automatically chosen exponential smoothing model (AutoETS without seasonality). Point
forecasts and 80% intervals are taken back to counts with ``expm1``.

statsforecast's models need a complete series: an hour without a count (a gap, an outage)
is filled with the mean log count of the same hour of week in the window, or the window's
mean when that hour of week was never counted. A series with fewer than two weeks of counts
in the window is not forecast.

This is a benchmark, not a runtime forecaster: statsforecast comes with the ``dev`` extra and
is imported only when a forecast is asked for.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from analytics.forecasting.errors import ForecastError
from analytics.forecasting.grid import WEEK_HOURS
from analytics.forecasting.model import OUTPUT_SCHEMA
from ingest.kernel.params import require_in

STATISTICAL = "statistical"
"""The method's name, as the backtest reports it."""

SEASONS = (24, WEEK_HOURS)
"""Seasonal periods of the decomposition, in hours: a day and a week."""

MIN_COUNTED_WEEKS = 2
"""Weeks of counted hours a series needs in its window to be fitted."""


class StatisticalUnavailable(ForecastError, ImportError):
    """statsforecast is not installed."""


@dataclass(frozen=True)
class StatisticalParams:
    """How the statistical baseline is fitted.

    Parameters
    ----------
    train_weeks
        Weeks before the origin each series is fitted on (at least two weekly cycles; longer
        windows cost time roughly in proportion and follow level changes more slowly).
    """

    train_weeks: int = 4

    def __post_init__(self) -> None:
        require_in("train_weeks", self.train_weeks, MIN_COUNTED_WEEKS, 52)


def _model() -> Any:
    try:
        from statsforecast.models import MSTL, AutoETS
    except ImportError as exc:
        raise StatisticalUnavailable(
            "the statistical baseline needs statsforecast: pip install 'smartstreets[dev]'"
        ) from exc
    return MSTL(
        season_length=list(SEASONS), trend_forecaster=AutoETS(model="ZZN"), alias=STATISTICAL
    )


def _filled(window: pl.DataFrame, start: datetime, hours: int) -> pl.DataFrame:
    """``unique_id, ds, y``: each series' log counts on every hour of the window, gaps filled
    from the same hour of week, series with too few counts left out."""
    span = pl.DataFrame(
        {"ds": pl.datetime_range(start, start + timedelta(hours=hours - 1), "1h", eager=True)}
    ).with_columns((pl.int_range(pl.len()) % WEEK_HOURS).alias("how"))
    counted = (
        window.filter(pl.col("y").is_not_null())
        .group_by("series")
        .len()
        .filter(pl.col("len") >= MIN_COUNTED_WEEKS * WEEK_HOURS)
        .select("series")
    )
    full = counted.join(span, how="cross").join(
        window.select("series", pl.col("ts").alias("ds"), pl.col("y").log1p()),
        on=["series", "ds"],
        how="left",
    )
    by_how = pl.col("y").mean().over("series", "how")
    overall = pl.col("y").mean().over("series")
    return full.select(
        pl.col("series").alias("unique_id"),
        "ds",
        pl.coalesce("y", by_how, overall).alias("y"),
    ).sort("unique_id", "ds")


def statistical_forecast(
    history: pl.DataFrame,
    origin: datetime,
    horizon: int,
    params: StatisticalParams | None = None,
) -> pl.DataFrame:
    """The statistical baseline's forecasts for the ``horizon`` hours from ``origin``.

    Parameters
    ----------
    history
        ``series``, ``ts`` (UTC hour), ``y`` (count; null when not counted). Only the hours
        of the ``params.train_weeks`` weeks before ``origin`` are read.
    origin
        First hour forecast (UTC, aware).
    horizon
        Hours forecast.
    params
        How the model is fitted.

    Returns
    -------
    polars.DataFrame
        ``series, ts, forecast, lo80, hi80`` for every series with enough counts, sorted.

    Raises
    ------
    StatisticalUnavailable
        statsforecast is not installed.
    """
    params = params or StatisticalParams()
    model = _model()
    from statsforecast import StatsForecast

    hours = params.train_weeks * WEEK_HOURS
    origin = origin.astimezone(UTC)
    start = origin - timedelta(hours=hours)
    window = history.filter(pl.col("ts") >= start, pl.col("ts") < origin).with_columns(
        pl.col("ts").dt.replace_time_zone(None)
    )
    train = _filled(window, start.replace(tzinfo=None), hours)
    if train.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)  # type: ignore[arg-type]
    fitted = StatsForecast(models=[model], freq="1h", n_jobs=1).forecast(
        df=train, h=horizon, level=[80]
    )
    out = pl.from_dataframe(fitted) if not isinstance(fitted, pl.DataFrame) else fitted
    back = [
        (pl.col(c).exp() - 1).clip(lower_bound=0.0).alias(a)
        for c, a in (
            (STATISTICAL, "forecast"),
            (f"{STATISTICAL}-lo-80", "lo80"),
            (f"{STATISTICAL}-hi-80", "hi80"),
        )
    ]
    return (
        out.select(
            pl.col("unique_id").alias("series"),
            pl.col("ds").dt.cast_time_unit("us").dt.replace_time_zone("UTC").alias("ts"),
            *back,
        )
        .with_columns(
            pl.min_horizontal("lo80", "forecast").alias("lo80"),
            pl.max_horizontal("hi80", "forecast").alias("hi80"),
        )
        .cast(OUTPUT_SCHEMA)  # type: ignore[arg-type]
        .sort("series", "ts")
    )


def with_statistical(
    points: pl.DataFrame,
    history: pl.DataFrame,
    origin: datetime,
    horizon: int,
    params: StatisticalParams,
) -> pl.DataFrame:
    """``points`` (one origin's scored hours) with ``statistical``, ``statistical_lo`` and
    ``statistical_hi`` on every row: the seasonal naive's where this model has no forecast,
    so every method is scored on the same hours.

    Parameters
    ----------
    points
        ``series, ts`` and the seasonal naive's ``seasonal_naive``, ``seasonal_naive_lo``,
        ``seasonal_naive_hi``.
    history
        ``series, ts, y`` before ``origin``, as :func:`statistical_forecast` reads it.
    """
    mine = history.filter(pl.col("series").is_in(points["series"].unique().implode()))
    stat = statistical_forecast(mine, origin, horizon, params).rename(
        {"forecast": STATISTICAL, "lo80": f"{STATISTICAL}_lo", "hi80": f"{STATISTICAL}_hi"}
    )
    missing = pl.col(STATISTICAL).is_null()
    return points.join(stat, on=["series", "ts"], how="left").with_columns(
        *[
            pl.when(missing)
            .then(pl.col(f"seasonal_naive{suffix}"))
            .otherwise(pl.col(f"{STATISTICAL}{suffix}"))
            .alias(f"{STATISTICAL}{suffix}")
            for suffix in ("", "_lo", "_hi")
        ]
    )
