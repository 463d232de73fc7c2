"""A lower bound on the km of any collection policy that lets no bin overflow.

Split the period into windows of whole days (shift start to shift start), of every start and
every length up to ``MAX_WINDOW_DAYS``. Within a window ``w`` of days, any such policy drives at
least ``need(w)`` km:

* **Tours**: a bin receiving 100% or more within the window must be emptied within it, or it
  ends the window at 100% or more. The window's routes all start and end at the depot, so
  joined there they make one closed walk through the depot and every such bin; shortcut
  (road distances obey the triangle inequality) it is a tour of those points, at least as long
  as the Held-Karp bound of the travelling salesman over them: the best of Lagrangian 1-trees
  under the shorter of the two directions' distances (any multipliers give a valid bound;
  a subgradient search picks good ones; a minimum spanning tree is the first and weakest).
* **Visits**: a bin that receives ``F`` % within the window needs at least
  ``floor((F - 100) / 100) + 1`` emptyings in it (each removes less than 100%, since it never
  overflows, and it starts at 0 or more), and each is entered by its own arc of some route, at
  least the shortest arc into it from the depot or another bin.

The km of the days then solve a small linear programme: the least total with every window's
days adding up to its need. Its constraints are intervals of days, so placing each window's
shortfall on its last day, windows taken by their last day, is optimal. The result is at
least the best single split into windows (each such split is a subset of the constraints).
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
MAX_WINDOW_DAYS = 7
HELD_KARP_ITERATIONS = 100


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


def _one_tree(sym: FloatArray, pi: FloatArray) -> tuple[float, FloatArray]:
    """Weight of the minimum 1-tree under ``sym[i, j] + pi[i] + pi[j]`` (node 0 special: a
    spanning tree of the others plus node 0's two cheapest edges), and each node's degree."""
    n = len(sym)
    cost = sym + pi[:, None] + pi[None, :]
    degree = np.zeros(n)
    best = cost[1].copy()
    parent = np.ones(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    done[0] = done[1] = True
    total = 0.0
    for _ in range(n - 2):
        k = int(np.argmin(np.where(done, np.inf, best)))
        total += float(best[k])
        degree[k] += 1
        degree[parent[k]] += 1
        done[k] = True
        closer = cost[k] < best
        best = np.where(closer, cost[k], best)
        parent = np.where(closer, k, parent)
    two = np.argsort(cost[0, 1:])[:2] + 1
    total += float(cost[0, two].sum())
    degree[0] += 2
    degree[two] += 1
    return total, degree


def held_karp_m(
    distance: FloatArray, points: Sequence[int], iterations: int = HELD_KARP_ITERATIONS
) -> float:
    """A lower bound on the shortest closed walk through ``points`` (depot first): the best
    Held-Karp 1-tree bound found, under the shorter of the two directions' distances."""
    if len(points) < 2:
        return 0.0
    idx = np.asarray(points)
    sub = distance[np.ix_(idx, idx)]
    sym = np.minimum(sub, sub.T)
    if len(points) == 2:
        return 2 * float(sym[0, 1])
    pi = np.zeros(len(points))
    best = mst_m(distance, points)
    # Polyak's step towards a target a little above the spanning tree (tours of street bins
    # run 10-20% above it) or the best bound so far, the step halved whenever it stalls.
    target, scale, stall = 1.2 * best, 2.0, 0
    for _ in range(iterations):
        weight, degree = _one_tree(sym, pi)
        bound = weight - 2 * float(pi.sum())
        if bound > best:
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 5:
                scale, stall = scale / 2, 0
        gradient = degree - 2
        if not gradient.any():
            break  # the 1-tree is a tour: the bound is exact
        target = max(target, 1.05 * best)
        pi += scale * (target - bound) / float((gradient**2).sum()) * gradient
    return best


def window_needs(
    distance: FloatArray, daily_fill_pct: FloatArray, overflow_pct: float
) -> dict[tuple[int, int], float]:
    """Metres each window of days ``[a, b)`` needs (tours and visits, the larger)."""
    days = daily_fill_pct.shape[1]
    n = daily_fill_pct.shape[0]
    into = np.array([float(np.delete(distance[:, i + 1], i + 1).min()) for i in range(n)])
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(daily_fill_pct, axis=1)], axis=1)
    tours: dict[frozenset[int], float] = {}
    needs = {}
    for a in range(days):
        for b in range(a + 1, days + 1):
            fill = cumulative[:, b] - cumulative[:, a]
            # min_visits of every bin at once
            fewest = np.where(fill >= overflow_pct, (fill - overflow_pct) // overflow_pct + 1, 0)
            need = float(fewest @ into)
            if b - a <= MAX_WINDOW_DAYS:
                forced = frozenset(int(i) + 1 for i in np.flatnonzero(fill >= overflow_pct))
                if forced not in tours:
                    # Less a metre a leg: rounded road distances may break the triangle
                    # inequality by that much.
                    tour = held_karp_m(distance, [0, *sorted(forced)]) - len(forced) - 1
                    tours[forced] = max(0.0, tour)
                need = max(need, tours[forced])
            needs[(a, b)] = need
    return needs


def cover_days(days: int, needs: dict[tuple[int, int], float]) -> float:
    """The least total of per-day amounts with each window ``[a, b)``'s days adding up to
    ``needs[(a, b)]``: windows by last day, each shortfall put on its last day."""
    amount = np.zeros(days)
    for (a, b), need in sorted(needs.items(), key=lambda item: (item[0][1], -item[0][0])):
        short = need - float(amount[a:b].sum())
        if short > 0:
            amount[b - 1] += short
    return float(amount.sum())


def windows_bound_m(distance: FloatArray, daily_fill_pct: FloatArray, overflow_pct: float) -> float:
    """The bound in metres; ``daily_fill_pct[i, t]`` is bin ``i``'s litter on day ``t``, bin
    ``i`` being matrix point ``i + 1`` and 0 the depot."""
    days = daily_fill_pct.shape[1]
    return cover_days(days, window_needs(distance, daily_fill_pct, overflow_pct))


def km_lower_bound(
    distance_m: Sequence[Sequence[int]], daily_fill_pct: FloatArray, overflow_pct: float = 100.0
) -> float:
    """km no policy can beat without a bin reaching ``overflow_pct``.
    ``daily_fill_pct[i, t]``: bin ``i``'s litter on day ``t``."""
    distance = np.asarray(distance_m, dtype=np.float64)
    return windows_bound_m(distance, daily_fill_pct, overflow_pct) / 1000
