"""Collection routes with PyVRP: capacity, shift length, service time, time windows, and bins
that are worth emptying only when a vehicle passes nearby (prize-collecting clients).

Bins that must be emptied are modelled as optional clients with a prize above the most any one
visit can add to a route (twice the longest leg, by the triangle inequality, and then some).
PyVRP then visits every one of them whenever the fleet can, and when it cannot (too little
capacity or shift time) it leaves some out instead of returning an infeasible plan, so the plan
can say which bins did not fit. The prize is kept no larger than that: a prize orders of
magnitude above the distances swamps PyVRP's penalties for overloading, and the search then
prefers overloaded routes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pyvrp import Model, ProblemData, Route, solve
from pyvrp.stop import MaxIterations, MaxRuntime

from analytics.routing.errors import PlanError
from ingest.kernel.params import require, require_in


def must_prize(distance_m: Sequence[Sequence[int]]) -> int:
    """A prize that makes leaving out a must-collect bin never pay while it fits."""
    longest = max((max(row) for row in distance_m), default=0)
    return 4 * longest + 10_000


@dataclass(frozen=True)
class Fleet:
    """The vehicles of one shift.

    Parameters
    ----------
    vehicles
        How many vehicles (and crews) are available.
    capacity_litres
        Loose litter each vehicle takes before it must tip.
    shift_s
        Longest shift, depot to depot, in seconds (driving, service and tipping).
    service_s
        Time to empty one bin (park, walk, lift, return).
    large_bin_service_s
        Time to empty a bin of ``large_bin_litres`` or more (a wheeled container on a lift).
    large_bin_litres
        Size from which a bin counts as large.
    trips
        Trips per shift: a vehicle may return to the depot to tip and go out again.
    tip_s
        Time to tip the load at the depot, on every return (between trips and at the end).
    """

    vehicles: int = 2
    capacity_litres: int = 8_000
    shift_s: int = 7 * 3600
    service_s: int = 60
    large_bin_service_s: int = 180
    large_bin_litres: int = 660
    trips: int = 2
    tip_s: int = 15 * 60

    def __post_init__(self) -> None:
        require_in("vehicles", self.vehicles, 1, 200)
        require_in("capacity_litres", self.capacity_litres, 100, 200_000)
        require_in("shift_s", self.shift_s, 600, 24 * 3600)
        require(
            0 <= self.service_s <= 3600 and 0 <= self.large_bin_service_s <= 3600,
            "Expected service times in [0, 3600].",
        )
        require_in("trips", self.trips, 1, 10)
        require_in("tip_s", self.tip_s, 0, 3 * 3600)

    def service_time(self, capacity_litres: int) -> int:
        """Seconds to empty a bin of this size."""
        large = capacity_litres >= self.large_bin_litres
        return self.large_bin_service_s if large else self.service_s


@dataclass(frozen=True)
class Visit:
    """A bin the solver may visit: index ``point`` in the travel matrix (0 is the depot)."""

    point: int
    load_litres: int
    service_s: int
    required: bool
    prize: int = 0
    window_s: tuple[int, int] | None = None  # earliest, latest arrival from shift start


@dataclass(frozen=True)
class SolvedRoute:
    """One vehicle's route: indices into the visits list, arrivals (s from shift start)."""

    visits: list[int]
    arrivals_s: list[int]
    trip_of: list[int]  # trip number (0-based) of each visit: a new trip starts at the depot
    distance_m: int
    duration_s: int
    load_litres: int
    trips: int


@dataclass(frozen=True)
class Solved:
    """The routes, and the visits no route took."""

    routes: list[SolvedRoute]
    dropped: list[int]
    cost: int


def solve_routes(
    distance_m: Sequence[Sequence[int]],
    duration_s: Sequence[Sequence[int]],
    visits: Sequence[Visit],
    fleet: Fleet,
    *,
    seconds: float = 5.0,
    seed: int = 1,
    strict: bool = False,
    iterations: int | None = None,
) -> Solved:
    """Route ``visits`` from the depot (matrix index 0) with PyVRP, minimising distance.

    Required visits get :func:`must_prize`; optional ones their own prize (in metres: the detour
    worth driving to empty them today). Raises :class:`PlanError` when the search finds no
    feasible plan at all (a time window no vehicle can meet, say). With ``strict``, required
    visits are hard constraints instead: the plan visits them all or raises. With
    ``iterations``, the search stops after that many iterations instead of ``seconds``: the same
    inputs then give the same routes whatever the machine's load (used by evaluations).
    """
    require_in("seconds", seconds, 0, 3600, lo_open=True)
    size = len(distance_m)
    require(
        all(len(row) == size for row in distance_m) and len(duration_s) == size,
        "Expected square travel matrices of equal size.",
    )
    if not visits:
        return Solved([], [], 0)
    data = _data(distance_m, duration_s, visits, fleet, strict=strict)
    stop = MaxIterations(iterations) if iterations else MaxRuntime(seconds)
    result = solve(data, stop=stop, seed=seed, display=False)
    best = result.best
    if not best.is_feasible():
        raise PlanError(
            "no feasible plan: a time window or the shift length cannot be met by any vehicle"
        )
    routes = [_solved_route(route, visits, fleet) for route in best.routes()]
    visited = {i for route in routes for i in route.visits}
    dropped = [i for i in range(len(visits)) if i not in visited]
    return Solved(routes, dropped, int(result.cost()))


def _data(
    distance_m: Sequence[Sequence[int]],
    duration_s: Sequence[Sequence[int]],
    visits: Sequence[Visit],
    fleet: Fleet,
    *,
    strict: bool,
) -> ProblemData:
    """PyVRP's problem: one vehicle type, the visits as clients, and the matrices as arrays
    (the same data as a model with every leg added as an edge, without building 4 million
    edge objects for 2,000 bins)."""
    size = len(distance_m)
    prize_of_must = must_prize(distance_m)
    model = Model()
    locations = [model.add_location(x=float(i), y=0.0) for i in range(size)]
    depot = model.add_depot(locations[0], name="depot")
    model.add_vehicle_type(
        num_available=fleet.vehicles,
        capacity=[fleet.capacity_litres],
        start_depot=depot,
        end_depot=depot,
        shift_duration=fleet.shift_s,
        reload_depots=[depot] if fleet.trips > 1 else [],
        max_reloads=fleet.trips - 1,
    )
    for visit in visits:
        require(0 < visit.point < size, f"Expected visit points in [1, {size - 1}].")
        early, late = visit.window_s if visit.window_s else (0, fleet.shift_s)
        model.add_client(
            locations[visit.point],
            delivery=[min(visit.load_litres, fleet.capacity_litres)],
            service_duration=visit.service_s,
            tw_early=early,
            tw_late=late,
            prize=prize_of_must if visit.required else min(visit.prize, prize_of_must - 1),
            required=strict and visit.required,
        )
    distance = np.array(distance_m, dtype=np.int64).reshape(size, size)
    duration = np.array(duration_s, dtype=np.int64).reshape(size, size)
    # Every return to the depot ends in tipping, mid-shift or at the end of it.
    duration[1:, 0] += fleet.tip_s
    np.fill_diagonal(distance, 0)
    np.fill_diagonal(duration, 0)
    # PyVRP's stubs type a matrix as ``ndarray[int, ...]``, which no 2-D array matches.
    return model.data().replace(
        distance_matrices=[distance],  # type: ignore[list-item]
        duration_matrices=[duration],  # type: ignore[list-item]
    )


def _solved_route(route: Route, visits: Sequence[Visit], fleet: Fleet) -> SolvedRoute:
    """One of PyVRP's routes as indices into ``visits``, arrivals and trips."""
    order = [a.idx for a in route if a.is_client()]
    return SolvedRoute(
        visits=order,
        arrivals_s=[int(a.start_time) for a in route if a.is_client()],
        trip_of=[int(a.trip) for a in route if a.is_client()],
        distance_m=int(route.distance()),
        duration_s=int(route.duration()),
        load_litres=sum(min(visits[i].load_litres, fleet.capacity_litres) for i in order),
        trips=route.num_trips(),
    )
