"""Scoring a backtest's hours: MASE scales, summaries and the per-series breakdown.

A series' MASE divides its absolute errors by its in-sample seasonal naive error: the mean
``|y(t) - y(t - 1 week)|`` over its counted hours before its first scored origin. Overall
figures pool all scored hours (so overall MASE is the mean scaled error, weighting series by
their scored hours). Coverage is the share of scored hours with ``lo80 <= count <= hi80``.
"""

import polars as pl

from analytics.forecasting.baselines import BASELINES
from analytics.forecasting.statistical import STATISTICAL

METHODS = ("smartstreets", *BASELINES)
"""Methods every backtest reports, in its order."""

ALL_METHODS = (*METHODS, STATISTICAL)
"""Every method a backtest can report (the statistical baseline on request), in order."""

WORSE_FACTOR = 2.0
"""A series whose MASE is more than this many times the seasonal naive's is flagged."""


def methods_of(points: pl.DataFrame) -> tuple[str, ...]:
    """The methods of :data:`ALL_METHODS` that ``points`` has forecasts of."""
    return tuple(m for m in ALL_METHODS if m in points.columns)


def scaled(points: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """``points`` with each series' MASE scale, series without a positive scale left out.

    Parameters
    ----------
    points
        ``series, origin`` (UTC epoch hour), ``ts, lead, y`` and each method's ``m, m_lo,
        m_hi``.
    grid
        The history's grid, with ``series, ts, y, y1`` (``y1``: the count a week earlier).

    Returns
    -------
    polars.DataFrame
        ``series, origin`` (UTC datetime), ``ts, lead, y, scale`` and each method's columns.
    """
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
            *[f"{m}{suffix}" for m in methods_of(points) for suffix in ("", "_lo", "_hi")],
        )
        .sort("series", "origin", "ts")
    )


def _metrics(m: str) -> list[pl.Expr]:
    err = (pl.col("y") - pl.col(m)).abs()
    covered = (pl.col(f"{m}_lo") <= pl.col("y")) & (pl.col("y") <= pl.col(f"{m}_hi"))
    return [
        pl.len().alias("hours"),
        (err / pl.col("scale")).mean().alias("mase"),
        err.mean().alias("mae"),
        covered.cast(pl.Float64).mean().alias("coverage80"),
    ]


def summarise(points: pl.DataFrame) -> pl.DataFrame:
    """MASE, MAE and 80% interval coverage per method, per series and overall.

    Returns
    -------
    polars.DataFrame
        ``series`` (null on the overall rows), ``method``, ``hours`` (scored), ``mase``,
        ``mae``, ``coverage80``; overall rows first, then series by name.
    """
    frames = []
    methods = methods_of(points)
    for m in methods:
        overall = points.select(pl.lit(None, pl.String).alias("series"), *_metrics(m))
        per_series = points.group_by("series").agg(*_metrics(m))
        frames += [
            overall.with_columns(pl.lit(m).alias("method")),
            per_series.with_columns(pl.lit(m).alias("method")),
        ]
    order = {m: i for i, m in enumerate(methods)}
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


def breakdown(points: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Each series' MASE for every method, and smartstreets' against the seasonal naive's.

    Parameters
    ----------
    points
        Scored hours, as :func:`scaled` returns them.
    by
        Further columns to break down by (``("window",)`` for a windowed backtest).

    Returns
    -------
    polars.DataFrame
        ``*by, series, hours``, ``mase_m`` for each method ``m``, ``ratio`` (smartstreets'
        MASE over the seasonal naive's; null when the latter is 0) and ``worse`` (ratio above
        :data:`WORSE_FACTOR`), sorted by ``by`` and falling ratio.
    """
    keys = [*by, "series"]
    mase = [
        ((pl.col("y") - pl.col(m)).abs() / pl.col("scale")).mean().alias(f"mase_{m}")
        for m in methods_of(points)
    ]
    naive = pl.col("mase_seasonal_naive")
    ratio = pl.when(naive > 0).then(pl.col("mase_smartstreets") / naive)
    return (
        points.group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("hours"), *mase)
        .with_columns(ratio.alias("ratio"))
        .with_columns((pl.col("ratio") > WORSE_FACTOR).fill_null(False).alias("worse"))
        .sort([*by, "ratio"], descending=[False] * len(by) + [True], nulls_last=True)
    )
