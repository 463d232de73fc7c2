"""Hour-of-week fill rates from a bin's smoothed readings: signed increments between
collections, shrunk toward coarser groups (and a prior), and the forecast's spread learned from
past 24-hour windows."""

from collections.abc import Sequence

import numpy as np

from analytics.routing.local_time import (
    HOURS_PER_WEEK,
    Floats,
    Ints,
    cumulative,
    hour_of_week,
)

FULL_PCT = 98.0
"""From this reading up a bin is full: it stops rising, so it says nothing about its rate."""

_DEFAULT_SPREAD = (0.5, 1.6)  # when too few past windows to learn the spread from
_MIN_WINDOWS = 24
_HOW = np.arange(HOURS_PER_WEEK)
# Shrinkage groups, coarse to fine: hour of day; weekday or weekend (from Saturday, hour 120)
# hour of day; hour of week.
_GROUPS = (_HOW % 24, _HOW % 24 + 24 * (_HOW >= 120), _HOW)


def increments(t: Floats, smooth: Floats, seg: Ints, tz: str) -> tuple[Floats, Floats]:
    """Rise and hours per local hour of week, from consecutive smoothed readings between
    collections, without long gaps or full bins. Summing signed increments keeps the rates
    unbiased: negative noise cancels positive noise, which dropping or clipping would not."""
    dt = np.diff(t)
    ok = (seg[1:] == seg[:-1]) & (dt > 0) & (np.maximum(smooth[1:], smooth[:-1]) < FULL_PCT)
    if len(t) > 1:
        ok &= dt <= max(2.0, 2.5 * float(np.median(dt)))
    if not ok.any():
        return np.zeros(HOURS_PER_WEEK), np.zeros(HOURS_PER_WEEK)
    how = hour_of_week((t[1:][ok] + t[:-1][ok]) / 2, tz)
    rise = np.bincount(how, np.diff(smooth)[ok], HOURS_PER_WEEK)
    return rise.astype(np.float64), np.bincount(how, dt[ok], HOURS_PER_WEEK).astype(np.float64)


def shrunk(
    sums: Floats,
    hours: Floats,
    prior: Sequence[float] | None,
    min_history_h: float,
    shrink_weight: float,
) -> Floats:
    """Hour-of-week rates from the rise ``sums`` over ``hours`` per hour of week, each level
    shrunk toward the one above it by ``shrink_weight`` pseudo-hours; the coarsest toward the
    mean rate, or toward ``prior`` scaled to it, the prior counting as ``min_history_h / 4``
    hours of data."""
    total, rise = float(hours.sum()), float(sums.sum())
    base = np.full(HOURS_PER_WEEK, rise / total if total > 0 else 0.0)
    if prior is not None:
        shape = np.maximum(np.asarray(prior, dtype=np.float64), 0.0)
        weight = min_history_h / 4
        mean = (rise + weight * shape.mean()) / (total + weight)
        base = shape * (mean / shape.mean()) if shape.mean() > 0 else np.full_like(base, mean)
    rates: Floats = base
    for group in _GROUPS:
        # Move each group by its rise beyond the current rates, damped by pseudo-hours.
        n = int(group.max()) + 1
        excess = np.bincount(group, sums - rates * hours, n)
        rates = rates + (excess / (np.bincount(group, hours, n) + shrink_weight))[group]
    # Noise can leave an hour below 0: clip it but keep the week's total rise.
    clipped = np.maximum(rates, 0.0)
    if clipped.sum() > 0:
        clipped *= max(float(rates.sum()), 0.0) / float(clipped.sum())
    return clipped


def forecast_spread(
    t: Floats, smooth: Floats, seg: Ints, rates: Floats, tz: str, q: tuple[float, float]
) -> tuple[float, float]:
    """Quantiles of realised/predicted rise over past 24-hour windows between collections."""
    if len(t) < _MIN_WINDOWS:
        return _DEFAULT_SPREAD
    j = np.minimum(np.searchsorted(t, t + 23.75), len(t) - 1)
    g = cumulative(rates, tz, t)
    predicted = g[j] - g
    # Windows are chosen on what was predicted, not on what happened (that would bias the
    # ratio): those predicted to stay clear of full, so the cap at 100 hides no rise.
    ok = (np.abs(t[j] - t - 24) <= 0.75) & (seg[j] == seg) & (predicted > 1.0)
    ok &= smooth + 1.5 * predicted < FULL_PCT
    if ok.sum() < _MIN_WINDOWS:
        return _DEFAULT_SPREAD
    lo, hi = np.quantile((smooth[j] - smooth)[ok] / predicted[ok], q)
    return max(float(lo), 0.0), max(float(hi), float(lo), 0.0)
