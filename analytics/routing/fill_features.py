"""What a coarse bin reading says about the time left until its threshold: one row per reading.

A bin read once a day says little about hourly rates. What tells when it will next be full is its
state (its level, how long it has stood there, how long since it was emptied), its recent pace,
what its own past cycles did from the same state (the analogs of `fill_horizon`, and the two
baselines of `fill_backtest`), and what the other bins are doing at the same time: a week when
most bins stand still is a holiday or an outage, not one bin's quirk. Each row also carries the
truth once known: the hours until the first reading at or over the threshold.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from analytics.routing.fill_horizon import (
    Analogs,
    BinSeries,
    HorizonParams,
    analogs,
    by_rate,
    remaining_h,
)
from analytics.routing.local_time import Floats, Ints

__all__ = ["DAY_H", "FEATURES", "Rows", "cycle_left_h", "reading_step_h", "rows_for"]

DAY_H = 24.0
_IDLE_H = 7 * DAY_H  # a bin at one level for a week is idle
FEATURES = (
    "level",
    "need_pct",
    "dwell_days",
    "age_days",
    "weekday",
    "analog_days",
    "analog_lo_days",
    "analog_hi_days",
    "cycle_left_days",
    "rise_left_days",
    "rise_7d",
    "rise_28d",
    "rising_readings_28d",
    "collections_28d",
    "low_share_90d",
    "longest_dwell_days",
    "idle_share",
    "others_rising_today",
    "others_rising_7d",
    "others_idle_today",
)


@dataclass(frozen=True)
class Rows:
    """One row per reading below its bin's threshold: the bin (index into ``bins``), the
    reading's index in its `BinSeries` and hour, the features (`FEATURES`), the analogs'
    (median, lower, upper) hours left, and the truth where known: hours until the threshold
    (NaN when the cycle ended or the history stops first) and when that became known (inf)."""

    bins: list[str]
    bin: Ints
    index: Ints
    t: Floats
    x: Floats
    analog: Floats
    remaining: Floats
    resolved: Floats


def cycle_left_h(s: BinSeries, i: int, threshold_pct: float) -> float:
    """The bin's median past cycle (emptying to threshold) less the hours since its last
    emptying, from what was known at reading ``i``; NaN without a completed cycle or a known
    age."""
    if np.isnan(s.age[i]):
        return np.nan
    hit = (s.y >= threshold_pct) & (s.seg > 0) & (s.t <= s.t[i])
    segs, first = np.unique(s.seg[hit], return_index=True)
    if not len(segs):
        return np.nan
    at = s.t[np.flatnonzero(hit)[first]]
    start = s.t[np.searchsorted(s.seg, segs, side="left")]
    return float(np.median(at - start)) - float(s.age[i])


def _window_sum(t: Floats, values: Floats, hours: float) -> Floats:
    """For each reading, the sum of ``values`` over readings in ``(t - hours, t]``."""
    cum = np.concatenate(([0.0], np.cumsum(values)))
    first = np.searchsorted(t, t - hours, side="right")
    return np.asarray(cum[np.arange(1, len(t) + 1)] - cum[first], dtype=np.float64)


def _others(series: Mapping[str, BinSeries]) -> tuple[dict[int, float], dict[int, float]]:
    """Per day (from the epoch): the share of bins that rose since their previous reading, and
    the share standing at one level for a week or more."""
    days, rose, idle = [], [], []
    for s in series.values():
        days.append(np.floor(s.t / DAY_H).astype(np.int64))
        rose.append(np.concatenate(([False], s.y[1:] > s.y[:-1])))
        idle.append(s.dwell >= _IDLE_H)
    d = np.concatenate(days) if days else np.zeros(0, dtype=np.int64)
    uniq, inv = np.unique(d, return_inverse=True)
    n = np.bincount(inv, minlength=len(uniq)).astype(np.float64)
    share_rose = np.bincount(inv, np.concatenate(rose).astype(np.float64), len(uniq)) / n
    share_idle = np.bincount(inv, np.concatenate(idle).astype(np.float64), len(uniq)) / n
    keys = [int(k) for k in uniq]
    return dict(zip(keys, share_rose, strict=True)), dict(zip(keys, share_idle, strict=True))


def _bin_rows(
    s: BinSeries,
    threshold_pct: float,
    own: tuple[Ints, Analogs],
    pool: Analogs,
    others: tuple[dict[int, float], dict[int, float]],
    params: HorizonParams,
) -> tuple[Ints, Floats, Floats, Floats, Floats]:
    """One bin's rows: reading indices, features, analog estimates, truth and its resolution."""
    idx = np.flatnonzero(s.y < threshold_pct)
    rise = np.concatenate(([0.0], np.clip(np.diff(s.y), 0, None)))
    rise7 = _window_sum(s.t, rise, 7 * DAY_H)
    rise28 = _window_sum(s.t, rise, 28 * DAY_H)
    rising28 = _window_sum(s.t, (rise > 0).astype(np.float64), 28 * DAY_H)
    low = _window_sum(s.t, (s.y <= params.level_tolerance_pct).astype(np.float64), 90 * DAY_H)
    seen = _window_sum(s.t, np.ones(len(s.t)), 90 * DAY_H)
    first28 = np.searchsorted(s.t, s.t - 28 * DAY_H, side="right")
    longest = np.maximum.accumulate(s.dwell) if len(s.t) else s.dwell
    idle_share = np.cumsum(s.dwell >= _IDLE_H) / np.arange(1, len(s.t) + 1)
    day = np.floor(s.t / DAY_H).astype(np.int64)
    rose_share, idle_today = others
    own_idx, own_an = own
    truth = dict(zip((int(i) for i in own_idx), own_an.remaining, strict=True))
    known = dict(zip((int(i) for i in own_idx), own_an.resolved, strict=True))
    x = np.full((len(idx), len(FEATURES)), np.nan)
    est = np.full((len(idx), 3), np.nan)
    for row, i in enumerate(int(j) for j in idx):
        med, lo, hi = remaining_h(s, i, threshold_pct, params, own_an, pool)
        est[row] = (med, lo, hi)
        week = [rose_share.get(int(day[i]) - k, np.nan) for k in range(7)]
        x[row] = (
            s.y[i],
            threshold_pct - s.y[i],
            s.dwell[i] / DAY_H,
            s.age[i] / DAY_H,
            (day[i] + 3) % 7,  # the epoch was a Thursday: 0 is Monday
            med / DAY_H,
            lo / DAY_H,
            hi / DAY_H,
            cycle_left_h(s, i, threshold_pct) / DAY_H,
            by_rate(s, i, threshold_pct, 0.1)[0] / DAY_H,
            rise7[i],
            rise28[i],
            rising28[i],
            s.seg[i] - s.seg[first28[i]],
            low[i] / seen[i],
            longest[i] / DAY_H,
            idle_share[i],
            rose_share.get(int(day[i]), np.nan),
            float(np.nanmean(week)) if np.isfinite(week).any() else np.nan,
            idle_today.get(int(day[i]), np.nan),
        )
    remaining = np.array([truth.get(int(i), np.nan) for i in idx], dtype=np.float64)
    resolved = np.array([known.get(int(i), np.inf) for i in idx], dtype=np.float64)
    x[~np.isfinite(x)] = np.nan
    return idx, x, est, remaining, resolved


def rows_for(
    series: Mapping[str, BinSeries],
    thresholds: Mapping[str, float],
    params: HorizonParams | None = None,
    on_bin: Callable[[str], None] | None = None,
) -> Rows:
    """Every reading below its bin's threshold, with its features and truth; ``on_bin`` is
    called with each bin id once its rows are made (for a progress bar)."""
    params = params or HorizonParams()
    found = {b: analogs(s, thresholds[b]) for b, s in series.items()}
    pool = Analogs.pooled([an for _, an in found.values()])
    others = _others(series)
    names = list(series)
    parts = []
    for b in names:
        parts.append(_bin_rows(series[b], thresholds[b], found[b], pool, others, params))
        if on_bin is not None:
            on_bin(b)
    counts = [len(p[0]) for p in parts]
    empty = np.zeros(0)
    return Rows(
        bins=names,
        bin=np.repeat(np.arange(len(names)), counts),
        index=np.concatenate([p[0] for p in parts]) if parts else empty.astype(np.intp),
        t=np.concatenate([series[b].t[p[0]] for b, p in zip(names, parts, strict=True)])
        if parts
        else empty,
        x=np.concatenate([p[1] for p in parts]) if parts else empty.reshape(0, len(FEATURES)),
        analog=np.concatenate([p[2] for p in parts]) if parts else empty.reshape(0, 3),
        remaining=np.concatenate([p[3] for p in parts]) if parts else empty,
        resolved=np.concatenate([p[4] for p in parts]) if parts else empty,
    )


def reading_step_h(s: BinSeries) -> float:
    """The bin's usual time between readings (the median), in hours; 0 with one reading."""
    return float(np.median(np.diff(s.t))) if len(s.t) > 1 else 0.0
