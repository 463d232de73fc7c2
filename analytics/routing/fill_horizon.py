"""When a bin reaches a fill threshold: a time-to-threshold forecast on any cadence.

Dense, smooth readings (every few minutes to hours) go to the hour-of-week `FillModel`. Coarse
ones (a reading a day, often in steps, like a compactor's 0-10 gauge) say little about hourly
rates but a lot about cycles: each collection starts one, and the bin's own past tells how long
it took from a given level to the threshold. The forecast from a coarse reading is the weighted
quantiles of those past remaining times ("analogs") at the same level (to within the readings'
quantisation step), the same day of the week weighing more; with too few analogs it falls back
to the bin's mean rise per day, and a bin idle at a level for longer than ever before gets a
forecast from the length of that idle spell.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from analytics.routing.fill import FillParams, fit_fill_model
from analytics.routing.fill_readings import COARSE_AFTER_H, FillReading, collections_at
from analytics.routing.local_time import Floats, Ints
from ingest.kernel.params import require, require_in

_IDLE_DWELL_SCALE = 0.3  # pooled idle spells within ~30% of the current one's length count most

__all__ = ["Analogs", "BinSeries", "FullForecast", "HorizonParams", "bin_series", "forecast_full"]


@dataclass(frozen=True)
class HorizonParams:
    """How time-to-threshold forecasts are made.

    Parameters
    ----------
    drop_pct
        A fall of this many points is a collection (see `collections_at`).
    level_tolerance_pct
        Past readings within this many points of the current level are analogs; never less
        than half the readings' quantisation step.
    min_analogs
        Fewer analogs than this (by effective count) and the forecast uses the mean rise.
    half_life_days
        An analog's weight halves for every this many days it lies in the past: bins change.
    age_scale_days
        An analog whose cycle was this many days older or younger than the current one weighs
        1/e as much (``None``: age is ignored).
    dwell_scale_days
        The same for the days spent at the current level (``None``: ignored).
    other_weekday_weight
        The weight of an analog from another day of the week than the current reading's:
        litter and rounds follow the week.
    pool_weight
        The weight of another bin's analog relative to the bin's own: idle spells and
        seasons are shared by a council's bins, and the pool covers states a bin rarely saw.
    idle_rule
        Once a bin has stayed at a level longer than ``min_survivors`` past analogs did,
        forecast from the time spent there alone (see `remaining_h`).
    min_survivors
        See ``idle_rule``.
    idle_from_pool
        In such an idle spell, use other bins' analogs of a similar time at the level
        (``pool``) when there are enough of them.
    coverage
        The central probability of the interval.
    widen
        Interval half-widths are scaled by ``1 + widen / sqrt(effective analogs)``: quantiles
        of a few analogs can be too narrow (0 trusts them as they are).
    """

    drop_pct: float = 25.0
    level_tolerance_pct: float = 5.0
    min_analogs: float = 3.0
    half_life_days: float = 3650.0
    age_scale_days: float | None = None
    dwell_scale_days: float | None = None
    other_weekday_weight: float = 0.3
    pool_weight: float = 0.0
    idle_rule: bool = True
    min_survivors: int = 1
    idle_from_pool: bool = False
    coverage: float = 0.8
    widen: float = 0.0

    def __post_init__(self) -> None:
        require_in("drop_pct", self.drop_pct, 0, 100, lo_open=True)
        require_in("level_tolerance_pct", self.level_tolerance_pct, 0, 100)
        require_in("min_analogs", self.min_analogs, 1, 1000)
        require_in("half_life_days", self.half_life_days, 0, 1e5, lo_open=True)
        for name in ("age_scale_days", "dwell_scale_days"):
            value = getattr(self, name)
            if value is not None:
                require_in(name, value, 0, 1e5, lo_open=True)
        require_in("other_weekday_weight", self.other_weekday_weight, 0, 1)
        require_in("pool_weight", self.pool_weight, 0, 1)
        require_in("min_survivors", self.min_survivors, 1, 1000)
        require_in("coverage", self.coverage, 0, 1, lo_open=True, hi_open=True)
        require_in("widen", self.widen, 0, 100)


@dataclass(frozen=True)
class FullForecast:
    """When a bin first reaches the threshold: median and interval bounds, ``None`` when not
    within the horizon; all equal to ``last_reading`` when it is there already."""

    bin_id: str
    last_reading: datetime
    fill_now_pct: float
    full_at: datetime | None
    full_lo: datetime | None
    full_hi: datetime | None


@dataclass(frozen=True)
class BinSeries:
    """A bin's readings in time order (hours from the epoch, fill %), the index of each
    reading's cycle (0 before the first collection seen), its age in hours since that
    collection (NaN in cycle 0) and the quantisation step of its levels (0 when smooth)."""

    t: Floats
    y: Floats
    seg: Ints
    age: Floats
    dwell: Floats
    step: float
    coarse: bool


def bin_series(readings: Sequence[FillReading], drop_pct: float) -> BinSeries:
    """Readings in time order, cut into cycles at collections."""
    order = sorted(readings, key=lambda r: r.ts)
    t = np.array([r.ts.timestamp() / 3600 for r in order], dtype=np.float64)
    y = np.array([r.fill_pct for r in order], dtype=np.float64)
    seg = np.zeros(len(t), dtype=np.intp)
    for i in collections_at(t, y, drop_pct):
        seg[i:] += 1
    start = t[np.searchsorted(seg, seg, side="left")]
    age = np.where(seg > 0, t - start, np.nan)
    new = np.ones(len(t), dtype=bool)
    new[1:] = (y[1:] != y[:-1]) | (seg[1:] != seg[:-1])
    dwell = t - t[np.flatnonzero(new)][np.cumsum(new) - 1]
    levels = np.unique(y)
    gaps = np.diff(levels)
    # Levels on a few even steps (a 0-10 gauge) are quantised; many distinct levels are smooth.
    step = float(gaps.min()) if len(levels) > 1 and len(levels) <= 21 else 0.0
    coarse = len(t) > 1 and float(np.median(np.diff(t))) >= COARSE_AFTER_H
    return BinSeries(t, y, seg, age, dwell, step, coarse)


@dataclass(frozen=True)
class Analogs:
    """Past readings below a threshold whose cycle went on to reach it: when each was read,
    its level, age and dwell (as in `BinSeries`), the hours until the first reading at or over
    the threshold, and when that reading came (from then on it is known)."""

    t: Floats
    level: Floats
    age: Floats
    dwell: Floats
    remaining: Floats
    resolved: Floats

    @classmethod
    def pooled(cls, parts: Sequence["Analogs"]) -> "Analogs":
        """Several bins' analogs as one."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _ANALOG_FIELDS))


_ANALOG_FIELDS = ("t", "level", "age", "dwell", "remaining", "resolved")


def analogs(s: BinSeries, threshold_pct: float) -> tuple[Ints, Analogs]:
    """The bin's analogs for ``threshold_pct`` and the indices of their readings."""
    n = len(s.y)
    hit = s.y >= threshold_pct
    nxt = np.where(hit, np.arange(n), n)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]  # the first hit at or after each reading
    ok = ~hit & (nxt < n)
    ok[ok] &= s.seg[nxt[ok]] == s.seg[ok]
    i = np.flatnonzero(ok)
    at = s.t[nxt[i]]
    return i, Analogs(s.t[i], s.y[i], s.age[i], s.dwell[i], at - s.t[i], at)


def _quantiles(values: Floats, weights: Floats, q: Sequence[float]) -> Floats:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = (np.cumsum(w) - w / 2) / w.sum()
    return np.interp(q, cum, v)


def _known(an: Analogs, s: BinSeries, i: int, params: HorizonParams) -> NDArray[np.bool_]:
    """Which analogs were known at reading ``i`` and at its level."""
    tol = max(params.level_tolerance_pct, s.step / 2)
    known: NDArray[np.bool_] = (an.resolved <= s.t[i]) & (np.abs(an.level - s.y[i]) <= tol + 1e-9)
    return known


def _weights(an: Analogs, s: BinSeries, i: int, params: HorizonParams) -> Floats:
    """Each analog's weight for reading ``i``: 0 unless known by then and at its level."""
    w = _known(an, s, i, params).astype(np.float64)
    w = w * 0.5 ** ((s.t[i] - an.t) / (24 * params.half_life_days))
    if not np.isnan(s.age[i]) and params.age_scale_days is not None:
        gap = np.nan_to_num(np.abs(an.age - s.age[i]), nan=np.inf)
        w = w * np.exp(-gap / (24 * params.age_scale_days))
    same_day = np.floor((an.t - s.t[i]) / 24 + 0.5) % 7 == 0
    w = w * np.where(same_day, 1.0, params.other_weekday_weight)
    if params.dwell_scale_days is not None:
        # On a log scale: a day's difference matters after one day at a level, not after 30.
        gap = np.abs(np.log1p(an.dwell / 24) - np.log1p(s.dwell[i] / 24))
        w = w * np.exp(-gap / params.dwell_scale_days)
    return np.asarray(w, dtype=np.float64)


def remaining_h(
    s: BinSeries,
    i: int,
    threshold_pct: float,
    params: HorizonParams,
    own: Analogs | None = None,
    pool: Analogs | None = None,
) -> tuple[float, float, float]:
    """Hours from reading ``i`` until the threshold: (median, lower, upper), using only what
    was known at reading ``i``: the bin's own analogs and, each weighing ``pool_weight`` as
    much, those of ``pool`` (other bins'). Infinite when the bin has not been seen to rise."""
    if s.y[i] >= threshold_pct:
        return 0.0, 0.0, 0.0
    own = own if own is not None else analogs(s, threshold_pct)[1]
    values, w = own.remaining, _weights(own, s, i, params)
    a = (1 - params.coverage) / 2
    d = float(s.dwell[i])
    survivors = int((own.dwell[_known(own, s, i, params)] >= d).sum())
    if params.idle_rule and d > 0 and survivors < params.min_survivors:
        # Longer at this level than ever before: an idle spell the past does not describe.
        # Seen at a random point of a spell lasting D, the part left is D * (1 - f) for f
        # uniform: its median equals the time spent so far, its quantiles d * (1 - q) / q.
        if pool is not None and params.idle_from_pool:
            pw = _known(pool, s, i, params) * np.exp(
                -np.abs(np.log1p(pool.dwell / 24) - np.log1p(d / 24)) / _IDLE_DWELL_SCALE
            )
            if pw.sum() > 0 and pw.sum() ** 2 / (pw**2).sum() >= params.min_analogs:
                lo, med, hi = _quantiles(pool.remaining[pw > 0], pw[pw > 0], (a, 0.5, 1 - a))
                return med, lo, hi
        return d, d * a / (1 - a), d * (1 - a) / a
    if pool is not None and params.pool_weight > 0:
        values = np.concatenate((values, pool.remaining))
        w = np.concatenate((w, params.pool_weight * _weights(pool, s, i, params)))
    n_eff = float(w.sum() ** 2 / (w**2).sum()) if w.sum() > 0 else 0.0
    if n_eff >= params.min_analogs:
        lo, med, hi = _quantiles(values[w > 0], w[w > 0], (a, 0.5, 1 - a))
        k = 1 + params.widen / np.sqrt(n_eff)
        return med, max(med - k * (med - lo), 0.0), med + k * (hi - med)
    return by_rate(s, i, threshold_pct, a)


def by_rate(s: BinSeries, i: int, threshold_pct: float, a: float) -> tuple[float, float, float]:
    """The mean rise per hour within cycles so far, extrapolated from the current level, with
    the spread of past per-step rates (or a factor of two each way without them)."""
    j = np.arange(1, i + 1)
    j = j[(s.seg[j] == s.seg[j - 1]) & (s.t[j] > s.t[j - 1])]
    dt = s.t[j] - s.t[j - 1]
    rise = s.y[j] - s.y[j - 1]
    if not len(j) or rise.sum() <= 0:
        return np.inf, np.inf, np.inf
    need = threshold_pct - s.y[i]
    rate = float(rise.sum() / dt.sum())
    med = need / rate
    if len(j) >= 10:
        lo_r, hi_r = np.quantile(rise / dt, (a, 1 - a))
        lo_r = max(float(lo_r), rate / 4)
        return med, need / max(float(hi_r), rate), need / lo_r
    return med, med / 2, med * 2


def forecast_full(
    bin_id: str,
    readings: Sequence[FillReading],
    *,
    threshold_pct: float = 80.0,
    horizon_days: float = 14.0,
    tz: str = "UTC",
    params: HorizonParams = HorizonParams(),
    pool: Analogs | None = None,
) -> FullForecast:
    """When the bin first reaches ``threshold_pct``, from its last reading on.

    Dense readings use the hour-of-week `FillModel` (``tz`` is the bins' local time zone);
    coarse ones the bin's past cycles (see the module's docstring) and those in ``pool``
    (other bins', from `Analogs.pooled`).
    """
    require(bool(readings), "Expected at least one reading.")
    require(horizon_days > 0, "Expected horizon_days > 0.")
    s = bin_series(readings, params.drop_pct)
    last = max(r.ts for r in readings)
    now = float(s.y[-1])
    if not s.coarse and len(s.t) > 1:
        fill = FillParams(collection_drop_pct=params.drop_pct)
        model = fit_fill_model(bin_id, readings, last, tz=tz, params=fill)
        med_at, lo_at, hi_at = model.time_to(threshold_pct, horizon_days * 24)
        return FullForecast(bin_id, last, now, med_at, lo_at, hi_at)
    est = remaining_h(s, len(s.t) - 1, threshold_pct, params, pool=pool)

    def at(h: float) -> datetime | None:
        return last + timedelta(hours=h) if h <= horizon_days * 24 else None

    return FullForecast(bin_id, last, now, at(est[0]), at(est[1]), at(est[2]))
