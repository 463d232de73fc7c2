"""A bin's fill readings and what to trust of them: runs frozen by a stuck sensor, sustained
drops that are collections, and the median-smoothed fill between collections."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from analytics.routing.local_time import Floats, Ints
from ingest.kernel.params import require

_DROP_WINDOW = 5  # readings either side of a drop; at least 3 each side must agree
_SMOOTH = np.arange(-1, 2)  # the median filter's window, in readings


@dataclass(frozen=True)
class FillReading:
    """One fill reading: ``ts`` timezone-aware, ``fill_pct`` as reported (0-100)."""

    ts: datetime
    fill_pct: float
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require(self.ts.tzinfo is not None, "Expected a timezone-aware ts.")
        require(bool(np.isfinite(self.fill_pct)), "Expected a finite fill_pct.")


def trusted(
    readings: Sequence[FillReading], now_h: float | None, stuck_after_h: float
) -> tuple[Ints, Floats, Floats, bool, FillReading | None]:
    """Indices of the trustworthy readings in time order, their hours and fills, whether the
    sensor is stuck now, and the latest reading. Readings after ``now_h`` (hours from the
    epoch) are ignored; a run frozen for ``stuck_after_h`` hours or more is dropped but for its
    first reading: it is the last genuine value."""
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
    frozen = t[end][run] - t[start][run] >= stuck_after_h
    keep = ~frozen | start
    return idx[keep], t[keep], y[keep], bool(frozen[-1]), readings[int(idx[-1])]


def drops(y: Floats, drop_pct: float) -> list[int]:
    """Indices of the first reading after each sustained drop of at least ``drop_pct``."""
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


COARSE_AFTER_H = 6.0
"""Readings this far apart (median) or more are coarse: a bin can be emptied and refilled within
a few readings, so one fall is an emptying (a sustained drop needs readings the bin lacks)."""


def collections_at(t: Floats, y: Floats, drop_pct: float) -> list[int]:
    """Indices of the first reading after each collection: a sustained drop of ``drop_pct`` on
    dense readings, a single fall of ``drop_pct`` between consecutive coarse ones."""
    if len(t) > 1 and float(np.median(np.diff(t))) >= COARSE_AFTER_H:
        return [int(i) + 1 for i in np.flatnonzero(y[:-1] - y[1:] >= drop_pct)]
    return drops(y, drop_pct)


def smoothed(y: Floats, seg: Ints) -> Floats:
    """Median of each reading and its neighbours within its stretch between collections."""
    if not len(y):
        return y
    first = np.searchsorted(seg, seg, side="left")[:, None]
    last = np.searchsorted(seg, seg, side="right")[:, None] - 1
    window = np.clip(np.arange(len(y))[:, None] + _SMOOTH, first, last)
    return np.asarray(np.median(y[window], axis=1), dtype=np.float64)
