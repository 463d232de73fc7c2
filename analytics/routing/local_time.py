"""Hour-of-week rates over UTC time: local hours of UTC hours, and the rates' integral across
changes of UTC offset (DST), so a forecast integrates over elapsed time.

Times are hours from the Unix epoch, UTC, as float arrays; rates are 168 per-hour figures from
Monday 00:00 local time.
"""

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from ingest.kernel.params import require

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]

HOURS_PER_WEEK = 168

_MONDAY_H = 96.0  # hours from the Unix epoch (a Thursday) to Monday 1970-01-05 00:00


def epoch_hours(ts: datetime) -> float:
    """Hours from the Unix epoch of a timezone-aware ``ts``."""
    require(ts.tzinfo is not None, "Expected a timezone-aware datetime.")
    return ts.timestamp() / 3600


def hour_of_week(t: Floats, tz: str) -> Ints:
    """Local hour of week (0 is Monday 00:00 in ``tz``) of each UTC hour in ``t``."""
    return np.floor(_local(tz, t)[0] - _MONDAY_H).astype(np.intp) % HOURS_PER_WEEK


def cumulative(rates: Floats, tz: str, t: Floats) -> Floats:
    """Fill the rates accumulate up to each UTC hour in ``t``, from an origin shared only within
    this call. Where the UTC offset changes, local time jumps (an hour lost or repeated); the
    jump's worth of fill is taken back out, so the result integrates over elapsed time."""
    cum = np.concatenate(([0.0], np.cumsum(rates)))
    local, at, offset, k = _local(tz, t)
    jumps = np.zeros(len(at))
    jumps[1:] = _antiderivative(cum, at[1:] + offset[1:])
    jumps[1:] -= _antiderivative(cum, at[1:] + offset[:-1])
    return _antiderivative(cum, local) - np.cumsum(jumps)[k]


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


def _antiderivative(cum: Floats, local: Floats) -> Floats:
    """Integral of the hour-of-week rates from the epoch's Monday to local hour ``local``."""
    weeks, r = np.divmod(local - _MONDAY_H, HOURS_PER_WEEK)
    h = np.minimum(r.astype(np.intp), HOURS_PER_WEEK - 1)
    return np.asarray(weeks * cum[-1] + cum[h] + (cum[h + 1] - cum[h]) * (r - h), dtype=np.float64)
