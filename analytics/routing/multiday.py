"""Rolling multi-day collection: choose each bin's visit day within a horizon, route today.

Each morning every bin gets a deadline day within the horizon: the last shift after which its
upper forecast would reach overflow before the next shift's crew could reach it (today if it is
at its threshold now). Bins due today must go. A bin due on a later day ``d`` is optional today,
with a prize (metres of detour worth driving) equal to what it would cost on day ``d`` (its
cheapest insertion among the bins due that day, or from the depot) scaled by the share of day
``d``'s fill it already holds: a 60% bin on a street the truck passes today is cheap to insert
and is taken, while a 70% bin on an outlying street whose round comes later waits for it. Only
today's routes are executed; tomorrow the plan is made again from new readings (an
inventory-routing heuristic solved as one prize-collecting VRP per morning).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from analytics.routing.select import Forecaster
from analytics.routing.vrp import Fleet, Solved, Visit, solve_routes
from ingest.kernel.params import require_in

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MultiDayParams:
    """Parameters of the rolling multi-day plan.

    Parameters
    ----------
    horizon_days
        Days ahead a bin's visit day is chosen within (today included).
    threshold_pct
        A bin at this fill now is due today.
    overflow_pct
        Fill at which litter spills; the upper forecast must stay below it.
    reach_h
        Hours into a shift a bin left the day before may wait for its crew.
    overflow_hour_m
        Metres of driving worth one bin-hour of overflow: the prize of a second pass, in the
        second half of the shift, to a bin filling more than ``overflow_pct`` a day (0: none).
    """

    horizon_days: int = 5
    threshold_pct: float = 80.0
    overflow_pct: float = 100.0
    reach_h: float = 8.0
    overflow_hour_m: int = 0

    def __post_init__(self) -> None:
        require_in("horizon_days", self.horizon_days, 1, 14)
        require_in("threshold_pct", self.threshold_pct, 10, 100)
        require_in("overflow_pct", self.overflow_pct, 50, 150)
        require_in("reach_h", self.reach_h, 0, 24)
        require_in("overflow_hour_m", self.overflow_hour_m, 0, 100_000)


@dataclass(frozen=True)
class MultiDayBin:
    """A bin to plan: its point in the travel matrix (0 is the depot), size and fill model."""

    point: int
    capacity_litres: int
    model: Forecaster
    service_s: int


def deadline_day(model: Forecaster, start: datetime, params: MultiDayParams) -> int:
    """The last day (0 = today) the bin may be emptied without its upper forecast reaching
    overflow; ``horizon_days`` when it can wait beyond the horizon."""
    if model.predict(start).median_pct >= params.threshold_pct:
        return 0
    for k in range(params.horizon_days):
        reach = start + timedelta(days=k + 1, hours=params.reach_h)
        if model.predict(reach).hi_pct >= params.overflow_pct:
            return k
    return params.horizon_days


def _insertion_m(distance: FloatArray, point: int, others: Sequence[int]) -> int:
    """What visiting ``point`` adds to a round through ``others`` (and the depot): its cheapest
    insertion between two of them, ``d(j, point) + d(point, k) - d(j, k)``."""
    s = np.array([0, *(j for j in others if j != point)])
    into, out_of = distance[s, point], distance[point, s]
    added = into[:, None] + out_of[None, :] - distance[np.ix_(s, s)]
    return max(0, int(added.min()))


def plan_today(
    bins: Sequence[MultiDayBin],
    start: datetime,
    distance_m: Sequence[Sequence[int]],
    duration_s: Sequence[Sequence[int]],
    fleet: Fleet,
    params: MultiDayParams,
    *,
    seed: int = 1,
    iterations: int = 1000,
) -> tuple[list[int], Solved]:
    """Today's routes of the rolling multi-day plan.

    Returns, for each of the solver's visits, its index into ``bins`` (a bin filling more than
    ``overflow_pct`` a day may have two: a second pass when it is worth
    ``overflow_hour_m``), and the solved routes; bins due today are required, the others carry
    prizes.
    """
    deadlines = [deadline_day(b.model, start, params) for b in bins]
    distance = np.asarray(distance_m, dtype=np.float64)
    by_day: dict[int, list[int]] = {}
    for b, d in zip(bins, deadlines, strict=True):
        by_day.setdefault(d, []).append(b.point)
    visits: list[Visit] = []
    owners: list[int] = []
    half = fleet.shift_s // 2
    for n, (b, d) in enumerate(zip(bins, deadlines, strict=True)):
        per_day = b.model.predict(start + timedelta(days=1)).median_pct
        per_day -= b.model.predict(start).median_pct
        if params.overflow_hour_m and per_day > params.overflow_pct:
            # Emptied in the first half, it refills to overflow after overflow_pct / per_day
            # of a day and would stay overflowing until tomorrow's crew without a second pass.
            hours = 24 * (1 - params.overflow_pct / per_day)
            prize = round(params.overflow_hour_m * hours)
            full = round(b.capacity_litres * min(per_day / 2, 100) / 100)
            visits.append(Visit(b.point, full, b.service_s, False, prize, (half, fleet.shift_s)))
            owners.append(n)
            visits.append(Visit(b.point, full, b.service_s, True, window_s=(0, half)))
            owners.append(n)
            continue
        owners.append(n)
        now = min(max(b.model.predict(start).median_pct, 0.0), 100.0)
        load = round(b.capacity_litres * now / 100)
        if d == 0:
            visits.append(Visit(b.point, load, b.service_s, required=True))
            continue
        then = b.model.predict(start + timedelta(days=d)).median_pct
        share = now / then if then > 0 else 0.0
        prize = round(_insertion_m(distance, b.point, by_day[d]) * min(share, 1.0))
        visits.append(Visit(b.point, load, b.service_s, required=False, prize=prize))
    solved = solve_routes(
        distance_m, duration_s, visits, fleet, seed=seed, strict=True, iterations=iterations
    )
    return owners, solved
