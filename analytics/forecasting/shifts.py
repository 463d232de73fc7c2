"""Counters that change level: a persistent departure from past weeks is followed, not fought.

A counter is moved, a shop opens, a road closes, or the counter breaks and reports a trickle:
then the last day's counts and the last three days' both stand far from the base of past weeks,
in the same direction. The part of that departure beyond a ratio of 1.5 (`DEADBAND`) moves the
base of every hour forecast from then on, in training as in forecasting, so the trees model what
is left instead of meeting a departure they never saw. A holiday or a busy day does not last
three days at that size; a new level does, and is followed from about its third day. As the
weekly lags fill with the new level, the base catches up and the shift fades by itself.
"""

from datetime import timedelta

import numpy as np
import polars as pl

DEADBAND = float(np.log(1.5))
"""Departures (log ratio to the base) up to this size are the trees' business, not a shift."""

BROKEN_SHARE = 0.05
"""A counter whose last day counted under this share of its usual day is broken, not quiet."""


SHAPE_DEPARTURE = 0.6
"""A day departs in shape when its hours, scaled to the day's total, stray from the base's by
this share of the day's count (absolute differences summed): a moved counter, not a quiet day.
On Melbourne's and Auckland's real counters 0.2-0.3% of days depart so, in runs of three days
or more 27 and 12 times in all."""

RUN_DAYS = 3
"""Days in a row that must depart in shape before the series is taken as changed."""


def changed_since(grid: pl.DataFrame, base: np.ndarray) -> pl.Series:
    """For each row, the local date from which its series' pattern is taken as new, as known
    a week before the row (so for every lead up to a week, at the origin): the first day of
    the latest run of `RUN_DAYS` or more days departing in shape (`SHAPE_DEPARTURE`) from the
    base, within the twelve weeks before; null when there is none. Lags from before that date
    describe another place or another counter."""
    expected = np.expm1(base)
    y = grid["y"].fill_null(np.nan).to_numpy()
    ok = ~np.isnan(expected) & ~np.isnan(y)
    hours = pl.DataFrame(
        {
            "series": grid["series"],
            "date": grid["date"],
            "y": np.where(ok, y, 0.0),
            "e": np.where(ok, expected, 0.0),
            "n": ok.astype(np.int32),
        }
    )
    scale = pl.col("y").sum() / pl.col("e").sum()
    days = (
        hours.group_by("series", "date")
        .agg(
            pl.col("n").sum(),
            pl.col("y").sum().alias("total"),
            ((pl.col("y") - pl.col("e") * scale).abs().sum() / pl.col("y").sum()).alias("shape"),
        )
        .sort("series", "date")
    )
    departs = (pl.col("n") >= 18) & (pl.col("total") > 0) & (pl.col("shape") > SHAPE_DEPARTURE)
    gap = (pl.col("date").diff().over("series") != timedelta(days=1)).fill_null(True)
    run = (gap | (departs != departs.shift(1).over("series"))).cum_sum().over("series")
    days = days.with_columns(departs.fill_null(False).alias("departs"), run.alias("run"))
    days = days.with_columns(
        pl.col("date").min().over("series", "run").alias("start"),
        pl.int_range(1, pl.len() + 1).over("series", "run").alias("length"),
    ).with_columns(
        pl.when(pl.col("departs") & (pl.col("length") >= RUN_DAYS))
        .then(pl.col("start"))
        .forward_fill()
        .over("series")
        .alias("since")
    )
    # The last whole day known a week before a row's hour is eight local days before it.
    known = grid.select("series", (pl.col("date") - timedelta(days=8)).alias("date")).join(
        days.select("series", "date", "since"),
        on=["series", "date"],
        how="left",
        maintain_order="left",
    )
    recent = pl.col("since") > pl.col("date") - timedelta(weeks=12)
    return known.select(pl.when(recent).then(pl.col("since")).alias("since"))["since"]


def level_shift(w24: np.ndarray, w72: np.ndarray) -> np.ndarray:
    """The log shift of the base given the count-weighted departures of the last 24 and 72
    hours: their common part beyond `DEADBAND` when both point the same way, else 0."""
    same = np.sign(w24) == np.sign(w72)
    size = np.minimum(np.abs(w24), np.abs(w72)) - DEADBAND
    shift = np.where(same & (size > 0), np.sign(w72) * size, 0.0)
    return np.nan_to_num(np.asarray(shift, dtype=np.float64))


def broken_reason(counted: int, total: float, usual_day: float | None) -> str | None:
    """Why a counter's forecast should read "unknown" at an origin, or ``None``: fewer than 8
    of its last 24 hours counted, or their ``total`` under `BROKEN_SHARE` of its usual day
    (the median day of the weeks before; ``None`` when it has none)."""
    if counted < 8:
        return f"only {counted} of the last 24 hours counted"
    if usual_day is not None and usual_day > 0 and total < BROKEN_SHARE * usual_day:
        return f"the last 24 hours counted {total / usual_day:.0%} of a usual day"
    return None
