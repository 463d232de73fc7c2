"""Rolling multi-day collection: choose each bin's visit day within a horizon, route today.

Each morning every bin gets a deadline day within the horizon: the last shift after which its
upper forecast would reach overflow before the next shift's crew could reach it (today if it is
at its threshold now). Bins due today must go. The other bins' visit days are then chosen
together (:func:`assign_days`): each bin goes on the day, no later than its deadline, where its
insertion among that day's bins plus the cost of a lift is least per point of fill collected,
so bins gather on the days whose rounds pass them. A bin planned for a later day ``d`` is
optional today, with a prize (metres of detour worth driving) equal to what it would cost on
day ``d`` scaled by the share of day ``d``'s fill it already holds, less a lift: a 60% bin on a
street the truck passes today is cheap to insert and is taken, while a 70% bin on an outlying
street whose round comes later waits for it. Only today's routes are executed; tomorrow the
plan is made again from new readings (an inventory-routing heuristic solved as one
prize-collecting VRP per morning).
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
    lift_m
        Metres of driving one lift is worth (the crew's minute at the bin): what keeps a bin
        on today's street from being emptied every time a truck passes it half full.
    """

    horizon_days: int = 5
    threshold_pct: float = 80.0
    overflow_pct: float = 100.0
    reach_h: float = 8.0
    overflow_hour_m: int = 0
    lift_m: int = 400

    def __post_init__(self) -> None:
        require_in("horizon_days", self.horizon_days, 1, 14)
        require_in("threshold_pct", self.threshold_pct, 10, 100)
        require_in("overflow_pct", self.overflow_pct, 50, 150)
        require_in("reach_h", self.reach_h, 0, 24)
        require_in("overflow_hour_m", self.overflow_hour_m, 0, 100_000)
        require_in("lift_m", self.lift_m, 0, 100_000)


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


def assign_days(
    distance: FloatArray,
    points: Sequence[int],
    deadlines: Sequence[int],
    fills: FloatArray,
    lift_m: float,
    rounds: int = 4,
) -> list[int]:
    """Each bin's visit day within the horizon, chosen with the other bins' days.

    Every bin starts on its deadline day; then, round by round, each bin moves to the day, no
    later than its deadline, that costs least per point of fill it collects: its cheapest
    insertion among the bins of that day (and the depot) plus ``lift_m``, divided by its fill
    then (emptying a bin earlier, less full, brings its next emptying forward: the cost of a
    lift is spread over less litter). A bin thus joins an earlier round that passes nearby
    rather than wait alone for its deadline.
    Bins with no deadline within the horizon stand for the rounds beyond it and may move
    earlier too.

    Parameters
    ----------
    distance
        Travel matrix, depot at 0.
    points
        Each bin's index in ``distance``.
    deadlines
        Each bin's last day (0 = today; ``horizon_days``: beyond the horizon).
    fills
        ``fills[n, t]``: bin ``n``'s median forecast fill at the shift of day ``t``,
        ``t = 0 .. horizon_days``.
    lift_m
        Metres of driving one lift is worth.
    rounds
        Passes over the bins (stops early when no bin moves).

    Returns
    -------
    list[int]
        Each bin's day, at most its deadline.
    """
    days = list(deadlines)
    for _ in range(rounds):
        moved = False
        for n, deadline in enumerate(deadlines):
            if deadline == 0:
                continue
            best, best_cost = days[n], np.inf
            for t in range(deadline, -1, -1):  # ties go to the later day, the fuller bin
                others = [points[m] for m in range(len(days)) if days[m] == t and m != n]
                added = _insertion_m(distance, points[n], others) + lift_m
                cost = added / max(float(fills[n, t]), 1.0)
                if cost < best_cost - 1e-9:
                    best, best_cost = t, cost
            moved |= best != days[n]
            days[n] = best
        if not moved:
            break
    return days


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
    ``overflow_hour_m``), and the solved routes. Bins due today are required; the others carry
    prizes: what emptying them on their planned day (:func:`assign_days`) would cost, scaled by
    the share of that day's fill they already hold, less the cost of a lift.
    """
    deadlines = [deadline_day(b.model, start, params) for b in bins]
    distance = np.asarray(distance_m, dtype=np.float64)
    horizon = params.horizon_days
    fills = np.array(
        [
            [b.model.predict(start + timedelta(days=t)).median_pct for t in range(horizon + 1)]
            for b in bins
        ],
        dtype=np.float64,
    ).reshape(len(bins), horizon + 1)
    points = [b.point for b in bins]
    planned = assign_days(distance, points, deadlines, fills, params.lift_m)
    by_day: dict[int, list[int]] = {}
    for b, d in zip(bins, planned, strict=True):
        by_day.setdefault(d, []).append(b.point)
    visits: list[Visit] = []
    owners: list[int] = []
    half = fleet.shift_s // 2
    for n, (b, d) in enumerate(zip(bins, deadlines, strict=True)):
        per_day = fills[n, 1] - fills[n, 0]
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
        now = min(max(float(fills[n, 0]), 0.0), 100.0)
        load = round(b.capacity_litres * now / 100)
        if d == 0:
            visits.append(Visit(b.point, load, b.service_s, required=True))
            continue
        # Worth emptying today when its detour today, plus a lift, costs no more per point of
        # fill than emptying it later would: on its planned day or, planned for today, on the
        # cheapest later day it may wait for.
        later = [planned[n]] if planned[n] > 0 else range(1, d + 1)
        prize = min(
            (_insertion_m(distance, b.point, by_day.get(t, [])) + params.lift_m)
            * min(now / fills[n, t] if fills[n, t] > 0 else 0.0, 1.0)
            for t in later
        )
        prize = max(0.0, prize - params.lift_m)
        visits.append(Visit(b.point, load, b.service_s, required=False, prize=round(prize)))
    solved = solve_routes(
        distance_m, duration_s, visits, fleet, seed=seed, strict=True, iterations=iterations
    )
    return owners, solved
