"""How full each bin will be: a per-bin fill-rate profile by local hour of week.

Readings frozen at one value for ``stuck_after_h`` come from a stuck sensor and are not trusted;
collections are sustained drops. Between collections, increments of the median-smoothed fill (not
full) give rates by local hour of week, shrunk toward the weekday/weekend hour-of-day rate, the
all-days hour-of-day rate and the bin's mean rate (or a prior profile scaled to it). A forecast
is the last trustworthy level plus the rates' integral, so a stuck or silent sensor is
dead-reckoned; its quantiles scale the accumulated fill by how the rates did on past 24-hour
windows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]

HOURS_PER_WEEK = 168
FULL_PCT = 98.0
"""From this reading up a bin is full: it stops rising, so it says nothing about its rate."""

_MONDAY_H = 96.0  # hours from the Unix epoch (a Thursday) to Monday 1970-01-05 00:00
_DROP_WINDOW = 5  # readings either side of a drop; at least 3 each side must agree
_SMOOTH = np.arange(-1, 2)  # the median filter's window, in readings
_RECENT_H = 3.0  # the level is the median of the last readings within this many hours
_DEFAULT_SPREAD = (0.5, 1.6)  # when too few past windows to learn the spread from
_MIN_WINDOWS = 24
_SAME_COLLECTION = timedelta(hours=3)  # a detected drop this close to a crew record is that one
_HOW = np.arange(HOURS_PER_WEEK)
# Shrinkage groups, coarse to fine: hour of day; weekday or weekend (from Saturday, hour 120)
# hour of day; hour of week.
_GROUPS = (_HOW % 24, _HOW % 24 + 24 * (_HOW >= 120), _HOW)


@dataclass(frozen=True)
class FillReading:
    """One fill reading: ``ts`` timezone-aware, ``fill_pct`` as reported (0-100)."""

    ts: datetime
    fill_pct: float
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("Expected a timezone-aware ts.")
        if not np.isfinite(self.fill_pct):
            raise ValueError("Expected a finite fill_pct.")


@dataclass(frozen=True)
class FillParams:
    """How fill readings are cleaned and the fill model is fitted.

    Parameters
    ----------
    stuck_after_h
        Identical consecutive readings for this long mean a stuck sensor, in hours.
    stale_after_h
        No trustworthy reading for this long before ``now`` makes the model stale, in hours.
    collection_drop_pct
        A fall of the median fill by this many points, held for 3 readings or more, is a
        collection.
    min_history_h
        Hours of usable history at which the bin's own mean rate outweighs the prior's 4 to 1
        (the prior counts as ``min_history_h / 4`` hours of data); less leans on the prior.
    shrink_weight
        Pseudo-hours of data behind each shrinkage target (hour of week toward weekday/weekend
        hour of day, toward hour of day, toward the mean or the scaled prior).
    quantiles
        Lower and upper quantiles of the forecast.
    """

    stuck_after_h: float = 6.0
    stale_after_h: float = 6.0
    collection_drop_pct: float = 25.0
    min_history_h: float = 48.0
    shrink_weight: float = 2.0
    quantiles: tuple[float, float] = (0.1, 0.9)

    def __post_init__(self) -> None:
        if not 0 < self.stuck_after_h <= 720:
            raise ValueError("Expected stuck_after_h in (0, 720].")
        if not 0 < self.stale_after_h <= 720:
            raise ValueError("Expected stale_after_h in (0, 720].")
        if not 0 < self.collection_drop_pct <= 100:
            raise ValueError("Expected collection_drop_pct in (0, 100].")
        if not 0 <= self.min_history_h <= 8760:
            raise ValueError("Expected min_history_h in [0, 8760].")
        if not 0 < self.shrink_weight <= 1000:
            raise ValueError("Expected shrink_weight in (0, 1000].")
        if not 0 < self.quantiles[0] < self.quantiles[1] < 1:
            raise ValueError("Expected 0 < quantiles[0] < quantiles[1] < 1.")


@dataclass(frozen=True)
class FillForecast:
    """Fill at ``at``: median and lower/upper quantiles (10% and 90% by default), in percent.

    Values above 100 mean the bin is overflowing by then; they are not capped.
    """

    at: datetime
    median_pct: float
    lo_pct: float
    hi_pct: float


@dataclass(frozen=True)
class FillModel:
    """A bin's fitted fill model: its level at ``as_of`` and its rates by local hour of week.

    ``rate_how`` are 168 rates (%/hour) from Monday 00:00 local time; ``spread`` scales the fill
    accumulated since ``as_of`` for the lower and upper quantiles; ``history_h`` counts hours of
    trustworthy increments the rates were learned from; ``as_of`` is the last trustworthy reading
    (or a later crew-confirmed collection, which resets the level to 0).
    """

    device_id: str
    rate_how: tuple[float, ...]
    level_pct: float
    as_of: datetime
    last_reading_at: datetime | None
    last_collection_at: datetime | None
    stuck: bool
    stale: bool
    flags: tuple[str, ...]
    spread: tuple[float, float]
    history_h: float
    tz: str

    def __post_init__(self) -> None:
        if len(self.rate_how) != HOURS_PER_WEEK:
            raise ValueError("Expected 168 rates in rate_how.")
        if not 0 <= self.spread[0] <= self.spread[1]:
            raise ValueError("Expected 0 <= spread[0] <= spread[1].")

    def predict(self, at: datetime) -> FillForecast:
        """Fill at ``at`` if the bin is left alone: level plus the rates' integral since ``as_of``.

        Time is stepped in UTC and each hour looked up in local time, so DST changes are exact.
        Values above 100 mean overflowing (not capped: the planner needs them); times before
        ``as_of`` get the level. The quantiles are calibrated on 24-hour windows.
        """
        a, b = _hours(self.as_of), _hours(at)
        acc = 0.0
        if b > a:
            g = _cumulative(np.asarray(self.rate_how), self.tz, np.array([a, b]))
            acc = float(g[1] - g[0])
        lo, hi = (self.level_pct + s * acc for s in self.spread)
        return FillForecast(at, self.level_pct + acc, lo, hi)

    def time_to(
        self, threshold_pct: float, horizon_h: float = 14 * 24
    ) -> tuple[datetime | None, datetime | None, datetime | None]:
        """When the fill reaches ``threshold_pct``: (median, earliest, latest).

        Earliest uses the upper spread, latest the lower; ``None`` when not reached within
        ``horizon_h`` hours of ``as_of``; all three are ``as_of`` when already there.
        """
        if not horizon_h > 0:
            raise ValueError("Expected horizon_h > 0.")
        if self.level_pct >= threshold_pct:
            return self.as_of, self.as_of, self.as_of
        a = _hours(self.as_of)
        # Quarter-hour UTC steps hold every local hour boundary of every real time zone, and
        # the accumulated fill is linear between them.
        steps = np.arange(np.ceil(a * 4) / 4, a + horizon_h, 0.25)
        grid = np.concatenate(([a], steps[steps > a], [a + horizon_h]))
        acc = _cumulative(np.asarray(self.rate_how), self.tz, grid)
        acc -= acc[0]
        out: list[datetime | None] = []
        for scale in (1.0, self.spread[1], self.spread[0]):
            need = (threshold_pct - self.level_pct) / scale if scale > 0 else np.inf
            i = int(np.searchsorted(acc, need))  # rates are >= 0: acc never falls
            if i >= len(acc):
                out.append(None)
                continue
            h = np.interp(need, acc[i - 1 : i + 1], grid[i - 1 : i + 1])
            out.append(self.as_of + timedelta(hours=float(h - a)))
        return out[0], out[1], out[2]


def detect_collections(
    readings: Sequence[FillReading], params: FillParams = FillParams()
) -> list[datetime]:
    """Times the bin was emptied: the first reading after each sustained drop.

    A drop counts when the median of up to 5 trustworthy readings from it is at least
    ``collection_drop_pct`` below the median of up to 5 before it (3 or more each side), so one
    or two odd readings are not a collection. Stuck readings are ignored.
    """
    src, _, y, _, _ = _clean(readings, None, params)
    return [readings[int(src[i])].ts for i in _drops(y, params.collection_drop_pct)]


def fit_fill_model(
    device_id: str,
    readings: Sequence[FillReading],
    now: datetime,
    *,
    tz: str = "Europe/London",
    collections: Sequence[datetime] = (),
    prior: Sequence[float] | None = None,
    params: FillParams = FillParams(),
) -> FillModel:
    """Fit a bin's fill model from its readings up to ``now``.

    Parameters
    ----------
    device_id
        The bin.
    readings
        Its fill readings, in any order; those after ``now`` are ignored.
    now
        When the model is fitted, timezone-aware.
    tz
        The bin's local time zone: litter follows local hours.
    collections
        Crew-confirmed emptyings, merged with the detected ones (one within 3 hours of a
        detected drop is that drop); one after the last trustworthy reading resets the level
        to 0 at its time.
    prior
        168 hour-of-week rates (e.g. `council_prior`) that bins with little history lean on.
        Without one, a bin with no usable history gets rates of 0.
    params
        Cleaning and fitting parameters.

    Returns
    -------
    FillModel
        The fitted model.
    """
    if prior is not None and len(prior) != HOURS_PER_WEEK:
        raise ValueError("Expected 168 rates in prior.")
    now_h = _hours(now)
    src, t, y, stuck, latest = _clean(readings, now_h, params)
    crew = [c for c in collections if _hours(c) <= now_h]
    found = [readings[int(src[i])].ts for i in _drops(y, params.collection_drop_pct)]
    # A crew record near a detected drop is that drop, timed by the readings: crews' clocks
    # and logging lag would otherwise put the drop itself inside a stretch of filling.
    emptied = sorted(found + [c for c in crew if all(abs(c - d) > _SAME_COLLECTION for d in found)])
    seg = np.searchsorted(np.array([_hours(c) for c in emptied]), t, side="right")
    smooth = _smooth(y, seg)
    sums, hours = _increments(t, smooth, seg, tz)
    rates = _shrink(sums, hours, prior, params)
    if len(t) and (not emptied or t[-1] >= _hours(emptied[-1])):
        as_of = readings[int(src[-1])].ts
        recent = np.flatnonzero((seg == seg[-1]) & (t >= t[-1] - _RECENT_H))[-5:]
        g = _cumulative(rates, tz, t[recent])
        level = float(np.median(y[recent] + g[-1] - g))  # each carried forward to as_of
    else:
        as_of, level = (emptied[-1] if emptied else now), 0.0
    return FillModel(
        device_id=device_id,
        rate_how=tuple(float(r) for r in rates),
        level_pct=level,
        as_of=as_of,
        last_reading_at=latest.ts if latest else None,
        last_collection_at=emptied[-1] if emptied else None,
        stuck=stuck,
        stale=not len(t) or now_h - float(t[-1]) > params.stale_after_h,
        flags=latest.flags if latest else (),
        spread=_spread(t, smooth, seg, rates, tz, params.quantiles),
        history_h=float(hours.sum()),
        tz=tz,
    )


def council_prior(
    models: Sequence[FillModel], *, min_history_h: float = HOURS_PER_WEEK
) -> tuple[float, ...]:
    """Median hour-of-week rates across bins with ``min_history_h`` hours of history or more.

    Raises ``ValueError`` when no bin has that much: fit without a prior then.
    """
    rows = [m.rate_how for m in models if m.history_h >= min_history_h]
    if not rows:
        raise ValueError("Expected at least one model with enough history.")
    return tuple(float(r) for r in np.median(np.array(rows), axis=0))


def _hours(ts: datetime) -> float:
    if ts.tzinfo is None:
        raise ValueError("Expected a timezone-aware datetime.")
    return ts.timestamp() / 3600


def _clean(
    readings: Sequence[FillReading], now_h: float | None, params: FillParams
) -> tuple[Ints, Floats, Floats, bool, FillReading | None]:
    """Indices of the trustworthy readings in time order, their hours and fills, whether the
    sensor is stuck now, and the latest reading. A frozen run's first reading is kept: it is the
    last genuine value."""
    ts = np.array([r.ts.timestamp() for r in readings], dtype=np.float64) / 3600
    idx = np.flatnonzero(ts <= now_h) if now_h is not None else np.arange(len(ts))
    idx = idx[np.argsort(ts[idx], kind="stable")]
    t, y = ts[idx], np.array([readings[int(i)].fill_pct for i in idx], dtype=np.float64)
    if not len(t):
        return idx, t, y, False, None
    start = np.ones(len(y), dtype=bool)
    start[1:] = y[1:] != y[:-1]
    end = np.append(start[1:], True)
    run = np.cumsum(start) - 1
    frozen = t[end][run] - t[start][run] >= params.stuck_after_h
    keep = ~frozen | start
    return idx[keep], t[keep], y[keep], bool(frozen[-1]), readings[int(idx[-1])]


def _drops(y: Floats, drop_pct: float) -> list[int]:
    """Indices of the first reading after each sustained drop."""
    n, w = len(y), _DROP_WINDOW
    if n < 6:
        return []
    win = sliding_window_view(np.concatenate((np.full(w, np.nan), y, np.full(w, np.nan))), w)
    size = np.sum(~np.isnan(win), axis=1)
    ordered = np.sort(win, axis=1)  # NaN sorts last
    lo = np.take_along_axis(ordered, ((size - 1) // 2)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(ordered, np.minimum(size // 2, w - 1)[:, None], axis=1)[:, 0]
    median = np.where(size >= 3, (lo + hi) / 2, np.nan)
    # median[i] is of y[i-w:i], before i; median[i+w] of y[i:i+w], from i on.
    candidates = np.flatnonzero(median[:n] - median[w : w + n] >= drop_pct)
    out = []
    for group in np.split(candidates, np.flatnonzero(np.diff(candidates) > 1) + 1):
        group = group[group >= 1]
        if len(group):  # one drop seen from several windows: the reading that fell most
            out.append(int(group[np.argmax(y[group - 1] - y[group])]))
    return out


def _smooth(y: Floats, seg: Ints) -> Floats:
    """Median of each reading and its neighbours within its stretch between collections."""
    if not len(y):
        return y
    first = np.searchsorted(seg, seg, side="left")[:, None]
    last = np.searchsorted(seg, seg, side="right")[:, None] - 1
    window = np.clip(np.arange(len(y))[:, None] + _SMOOTH, first, last)
    return np.asarray(np.median(y[window], axis=1), dtype=np.float64)


def _increments(t: Floats, smooth: Floats, seg: Ints, tz: str) -> tuple[Floats, Floats]:
    """Rise and hours per local hour of week, from consecutive smoothed readings between
    collections, without long gaps or full bins. Summing signed increments keeps the rates
    unbiased: negative noise cancels positive noise, which dropping or clipping would not."""
    dt = np.diff(t)
    ok = (seg[1:] == seg[:-1]) & (dt > 0) & (np.maximum(smooth[1:], smooth[:-1]) < FULL_PCT)
    if len(t) > 1:
        ok &= dt <= max(2.0, 2.5 * float(np.median(dt)))
    if not ok.any():
        return np.zeros(HOURS_PER_WEEK), np.zeros(HOURS_PER_WEEK)
    how = _hour_of_week((t[1:][ok] + t[:-1][ok]) / 2, tz)
    rise = np.bincount(how, np.diff(smooth)[ok], HOURS_PER_WEEK)
    return rise.astype(np.float64), np.bincount(how, dt[ok], HOURS_PER_WEEK).astype(np.float64)


def _shrink(sums: Floats, hours: Floats, prior: Sequence[float] | None, p: FillParams) -> Floats:
    """Hour-of-week rates, each level shrunk toward the one above it."""
    total, rise = float(hours.sum()), float(sums.sum())
    base = np.full(HOURS_PER_WEEK, rise / total if total > 0 else 0.0)
    if prior is not None:
        shape = np.maximum(np.asarray(prior, dtype=np.float64), 0.0)
        weight = p.min_history_h / 4
        mean = (rise + weight * shape.mean()) / (total + weight)
        base = shape * (mean / shape.mean()) if shape.mean() > 0 else np.full_like(base, mean)
    rates: Floats = base
    for group in _GROUPS:
        # Move each group by its rise beyond the current rates, damped by pseudo-hours.
        n = int(group.max()) + 1
        excess = np.bincount(group, sums - rates * hours, n)
        rates = rates + (excess / (np.bincount(group, hours, n) + p.shrink_weight))[group]
    # Noise can leave an hour below 0: clip it but keep the week's total rise.
    clipped = np.maximum(rates, 0.0)
    if clipped.sum() > 0:
        clipped *= max(float(rates.sum()), 0.0) / float(clipped.sum())
    return clipped


def _spread(
    t: Floats, smooth: Floats, seg: Ints, rates: Floats, tz: str, q: tuple[float, float]
) -> tuple[float, float]:
    """Quantiles of realised/predicted rise over past 24-hour windows between collections."""
    if len(t) < _MIN_WINDOWS:
        return _DEFAULT_SPREAD
    j = np.minimum(np.searchsorted(t, t + 23.75), len(t) - 1)
    g = _cumulative(rates, tz, t)
    predicted = g[j] - g
    # Windows are chosen on what was predicted, not on what happened (that would bias the
    # ratio): those predicted to stay clear of full, so the cap at 100 hides no rise.
    ok = (np.abs(t[j] - t - 24) <= 0.75) & (seg[j] == seg) & (predicted > 1.0)
    ok &= smooth + 1.5 * predicted < FULL_PCT
    if ok.sum() < _MIN_WINDOWS:
        return _DEFAULT_SPREAD
    lo, hi = np.quantile((smooth[j] - smooth)[ok] / predicted[ok], q)
    return max(float(lo), 0.0), max(float(hi), float(lo), 0.0)


@lru_cache(maxsize=128)
def _utc_offsets(tz: str, year: int) -> tuple[tuple[float, float], ...]:
    """(UTC hour, offset in hours from then on) at the start of ``year`` and at each change."""
    zone = ZoneInfo(tz)

    def offset(h: float) -> float:
        delta = datetime.fromtimestamp(h * 3600, zone).utcoffset()
        return delta.total_seconds() / 3600 if delta is not None else 0.0

    start = datetime(year, 1, 1, tzinfo=UTC)
    first = start.timestamp() / 3600
    changes = [(first, offset(first))]
    for day in range((start.replace(year=year + 1) - start).days):
        lo, hi = first + 24 * day, first + 24 * (day + 1)
        if offset(hi) == changes[-1][1]:
            continue
        while hi - lo > 1 / 240:  # bisect to a quarter-minute, then round to the minute
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if offset(mid) == changes[-1][1] else (lo, mid)
        changes.append((round(hi * 60) / 60, offset(hi)))
    return tuple(changes)


def _local(tz: str, t: Floats) -> tuple[Floats, Floats, Floats, Ints]:
    """Local hours of UTC hours ``t``, the changes of offset around them, and which applies."""
    first, last = (datetime.fromtimestamp(float(x) * 3600, UTC).year for x in (t.min(), t.max()))
    rows = np.array([r for year in range(first, last + 1) for r in _utc_offsets(tz, year)])
    at, offset = rows[:, 0], rows[:, 1]
    k = np.searchsorted(at, t, side="right") - 1
    return t + offset[k], at, offset, k


def _hour_of_week(t: Floats, tz: str) -> Ints:
    return np.floor(_local(tz, t)[0] - _MONDAY_H).astype(np.intp) % HOURS_PER_WEEK


def _antiderivative(cum: Floats, local: Floats) -> Floats:
    """Integral of the hour-of-week rates from the epoch's Monday to local hour ``local``."""
    weeks, r = np.divmod(local - _MONDAY_H, HOURS_PER_WEEK)
    h = np.minimum(r.astype(np.intp), HOURS_PER_WEEK - 1)
    return np.asarray(weeks * cum[-1] + cum[h] + (cum[h + 1] - cum[h]) * (r - h), dtype=np.float64)


def _cumulative(rates: Floats, tz: str, t: Floats) -> Floats:
    """Fill the rates accumulate up to each UTC hour in ``t``, from an origin shared only within
    this call. Where the UTC offset changes, local time jumps (an hour lost or repeated); the
    jump's worth of fill is taken back out, so the result integrates over elapsed time."""
    cum = np.concatenate(([0.0], np.cumsum(rates)))
    local, at, offset, k = _local(tz, t)
    jumps = np.zeros(len(at))
    jumps[1:] = _antiderivative(cum, at[1:] + offset[1:])
    jumps[1:] -= _antiderivative(cum, at[1:] + offset[:-1])
    return _antiderivative(cum, local) - np.cumsum(jumps)[k]
