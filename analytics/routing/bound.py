"""A lower bound on the km of any collection policy that lets no bin overflow.

Two bounds on the true litter, each provably at most the km of any such policy; the larger is
reported:

* **Visits**: a bin that receives ``F`` % of litter over the period needs at least
  ``floor((F - 100) / 100) + 1`` emptyings (each removes less than 100%, since it never
  overflows, and it starts at 0 or more), and every visit enters the bin by its own arc of some
  route, at least the shortest arc into it from the depot or another bin.
* **Windows**: split the period into windows of ``L`` whole days (shift start to shift start).
  A bin receiving 100% or more within a window must be emptied within it, or it ends the window
  at 100% or more. The routes driven in the window all start at the depot, so together they
  form a connected walk through the depot and every such bin, at least as long as the minimum
  spanning tree of those points under the shorter of the two directions' distances. The sum
  over windows is a bound for each ``L``; the best ``L`` is kept.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
MAX_WINDOW_DAYS = 7


def min_visits(fill_pct: float, overflow_pct: float = 100.0) -> int:
    """Fewest emptyings that keep a bin below ``overflow_pct`` while ``fill_pct`` arrives."""
    if fill_pct < overflow_pct:
        return 0
    return int((fill_pct - overflow_pct) // overflow_pct) + 1


def mst_m(distance: FloatArray, points: Sequence[int]) -> float:
    """Weight of the minimum spanning tree over ``points`` (Prim's algorithm), each edge
    weighing the shorter of its two directions."""
    if len(points) < 2:
        return 0.0
    idx = np.asarray(points)
    sub = distance[np.ix_(idx, idx)]
    sym = np.minimum(sub, sub.T)
    best = sym[0].copy()
    done = np.zeros(len(idx), dtype=bool)
    done[0] = True
    total = 0.0
    for _ in range(len(idx) - 1):
        k = int(np.argmin(np.where(done, np.inf, best)))
        total += float(best[k])
        done[k] = True
        best = np.minimum(best, sym[k])
    return total


def visits_bound_m(distance: FloatArray, fill_pct: Sequence[float], overflow_pct: float) -> float:
    """The visits bound: bin ``i`` is matrix point ``i + 1``, 0 the depot."""
    total = 0.0
    for i, fill in enumerate(fill_pct):
        into = np.delete(distance[:, i + 1], i + 1)
        total += min_visits(fill, overflow_pct) * float(into.min())
    return total


def windows_bound_m(distance: FloatArray, daily_fill_pct: FloatArray, overflow_pct: float) -> float:
    """The windows bound; ``daily_fill_pct[i, t]`` is bin ``i``'s litter on day ``t``."""
    days = daily_fill_pct.shape[1]
    best = 0.0
    for length in range(1, min(MAX_WINDOW_DAYS, days) + 1):
        total = 0.0
        for start in range(0, days, length):
            fill = daily_fill_pct[:, start : start + length].sum(axis=1)
            forced = [0, *(int(i) + 1 for i in np.flatnonzero(fill >= overflow_pct))]
            total += mst_m(distance, forced)
        best = max(best, total)
    return best


def km_lower_bound(
    distance_m: Sequence[Sequence[int]], daily_fill_pct: FloatArray, overflow_pct: float = 100.0
) -> float:
    """km no policy can beat without a bin reaching ``overflow_pct``: the larger of the visits
    and windows bounds. ``daily_fill_pct[i, t]``: bin ``i``'s litter on day ``t``."""
    distance = np.asarray(distance_m, dtype=np.float64)
    total = daily_fill_pct.sum(axis=1)
    visits = visits_bound_m(distance, [float(f) for f in total], overflow_pct)
    return max(visits, windows_bound_m(distance, daily_fill_pct, overflow_pct)) / 1000
