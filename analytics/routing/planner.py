"""A shift's collection plan: choose the bins, route them, and compare with emptying them all.

Pure: bins, their fill models and a travel matrix in, a :class:`~analytics.routing.schema.Plan`
out. Reading from and writing to the database is in :mod:`analytics.routing.io`.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import partial
from itertools import pairwise

from analytics.routing.errors import PlanError
from analytics.routing.fill_words import shown_pct
from analytics.routing.matrix import TravelMatrix
from analytics.routing.schema import Plan, Saving, SkippedBin, Stop, VehicleRoute
from analytics.routing.select import BinState, Choice, SelectionParams, choose_all
from analytics.routing.vrp import Fleet, Solved, Visit, solve_routes
from ingest.kernel.params import require

TravelFn = Callable[[Sequence[tuple[float, float]]], TravelMatrix]


@dataclass(frozen=True)
class Shift:
    """When a shift runs and what it has.

    Parameters
    ----------
    start
        Start of the shift (tz-aware; its zone is the council's).
    next_opportunity
        Start of the next shift that could empty a bin left today.
    fleet
        Vehicles, capacity, shift length and service times.
    windows
        Zones whose bins must be emptied within local times, e.g. ``{"high-street": (07:00,
        10:00)}`` to clear the high street before the shops open.
    """

    start: datetime
    next_opportunity: datetime
    fleet: Fleet = field(default_factory=Fleet)
    windows: Mapping[str, tuple[time, time]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require(self.start.tzinfo is not None, "Expected a tz-aware shift start.")
        require(self.next_opportunity > self.start, "Expected next_opportunity after start.")


def _window_s(shift: Shift, zone: str | None) -> tuple[int, int] | None:
    if zone is None or zone not in shift.windows:
        return None
    early, late = shift.windows[zone]
    day = shift.start.date()
    tz = shift.start.tzinfo

    def offset(t: time) -> int:
        moment = datetime.combine(day, t, tzinfo=tz)
        return max(0, int((moment - shift.start).total_seconds()))

    lo, hi = offset(early), offset(late)
    return (lo, min(hi, shift.fleet.shift_s)) if hi > lo else None


def _due(window: tuple[int, int] | None, due_s: int | None) -> tuple[int, int] | None:
    """The zone's window, closed no later than when the bin could overflow."""
    if due_s is None:
        return window
    early, late = window or (0, due_s)
    return (early, min(late, due_s)) if min(late, due_s) > early else window


def _solve(
    matrix: TravelMatrix,
    shift: Shift,
    chosen: Sequence[tuple[int, Choice]],
    *,
    required_all: bool,
    seconds: float,
    seed: int,
    iterations: int | None = None,
    urgent: bool = False,
) -> Solved:
    """Solve over the matrix points of ``chosen`` (the depot is point 0); with ``urgent``, bins
    that could overflow during the shift must be reached before they could."""
    points = [0] + [p for p, _ in chosen]
    dist = [[matrix.distance_m[a][b] for b in points] for a in points]
    dur = [[matrix.duration_s[a][b] for b in points] for a in points]
    visits = [
        Visit(
            point=k + 1,
            load_litres=c.load_litres,
            service_s=shift.fleet.service_time(c.bin.capacity_litres),
            required=required_all or c.decision == "must",
            prize=c.prize_m,
            window_s=_due(_window_s(shift, c.bin.zone), c.due_s if urgent else None),
        )
        for k, (_, c) in enumerate(chosen)
    ]
    return solve_routes(
        dist, dur, visits, shift.fleet, seconds=seconds, seed=seed, iterations=iterations
    )


def _skipped(choice: Choice, reason: str | None = None) -> SkippedBin:
    b = choice.bin
    return SkippedBin(
        device_id=b.device_id,
        lat=b.lat,
        lon=b.lon,
        street=b.street,
        zone=b.zone,
        decision=choice.decision,
        reason=reason or choice.reason,
        fill_now_pct=choice.fill_now_pct,
        predicted_fill_pct=choice.predicted_fill_pct,
        overflow_at=choice.overflow_at,
        overflow_likely=choice.overflow_likely,
    )


def _routes(
    solved: Solved,
    chosen: Sequence[tuple[int, Choice]],
    matrix: TravelMatrix,
    shift: Shift,
) -> list[VehicleRoute]:
    routes = []
    for n, route in enumerate(solved.routes, start=1):
        stops: list[Stop] = []
        path: list[tuple[float, float]] = []
        here, trip = 0, 0
        for visit, arrival, trip_no in zip(
            route.visits, route.arrivals_s, route.trip_of, strict=True
        ):
            point, choice = chosen[visit]
            legs = [here, 0, point] if trip_no != trip and here != 0 else [here, point]
            trip = trip_no
            distance = 0
            for a, z in pairwise(legs):
                distance += matrix.distance_m[a][z]
                path.extend(matrix.leg_path(a, z)[1 if path else 0 :])
            here = point
            b = choice.bin
            at = shift.start + timedelta(seconds=arrival)
            fill = None if b.model is None else shown_pct(b.model.predict(at).median_pct)
            stops.append(
                Stop(
                    device_id=b.device_id,
                    lat=b.lat,
                    lon=b.lon,
                    street=b.street,
                    zone=b.zone,
                    decision="worth" if choice.decision == "worth" else "must",
                    reason=choice.reason,
                    fill_now_pct=choice.fill_now_pct,
                    predicted_fill_pct=choice.predicted_fill_pct,
                    fill_at_visit_pct=None if fill is None else round(fill, 1),
                    overflow_at=choice.overflow_at,
                    overflow_likely=choice.overflow_likely,
                    load_litres=float(choice.load_litres),
                    arrival=at,
                    distance_from_previous_m=float(distance),
                )
            )
        path.extend(matrix.leg_path(here, 0)[1 if path else 0 :])
        routes.append(
            VehicleRoute(
                vehicle=n,
                stops=stops,
                distance_m=float(route.distance_m),
                duration_s=float(route.duration_s),
                load_litres=float(route.load_litres),
                path=path,
            )
        )
    return routes


def make_plan(
    council: str,
    bins: Sequence[BinState],
    depot: tuple[float, float],
    shift: Shift,
    travel: TravelFn,
    params: SelectionParams | None = None,
    *,
    seconds: float = 5.0,
    seed: int = 1,
    compare: bool = True,
    iterations: int | None = None,
) -> Plan:
    """Plan one shift: which bins, in which order, by which vehicle.

    With ``compare``, the same fleet is also routed over every bin (fire-flagged ones aside),
    and the plan carries the distance and time saved against that.
    """
    if not bins:
        raise PlanError(f"council {council!r} has no bins registered")
    choices = _choices(bins, shift, params or SelectionParams())
    matrix = travel([depot] + [(b.lat, b.lon) for b in bins])
    chosen = [(i + 1, c) for i, c in enumerate(choices) if c.decision != "skip"]
    solve = partial(_solve, matrix, shift, seconds=seconds, seed=seed, iterations=iterations)
    solved = solve(chosen, required_all=False, urgent=True)
    if any(chosen[k][1].decision == "must" for k in solved.dropped):
        # Reaching every urgent bin in time did not fit: better late than left out.
        solved = solve(chosen, required_all=False, urgent=False)
    routes = _routes(solved, chosen, matrix, shift)
    left_out, skipped = _not_planned(solved, chosen, choices)
    saving = None
    if compare:
        everything = [(i + 1, c) for i, c in enumerate(choices) if c.for_crew]
        saving = _saving(routes, solve(everything, required_all=True), len(everything))
    end = shift.start + timedelta(seconds=shift.fleet.shift_s)
    return Plan(
        council=council,
        shift_date=shift.start.date(),
        shift_start=shift.start,
        shift_end=end,
        depot=depot,
        travel=matrix.source,
        routes=routes,
        skipped=skipped,
        left_out=left_out,
        saving=saving,
        created_at=datetime.now(UTC),
    )


def _choices(bins: Sequence[BinState], shift: Shift, params: SelectionParams) -> list[Choice]:
    """The decision for every bin. A bin left today may be the last stop of the next shift:
    its risk is judged until then."""
    reach_s = shift.fleet.shift_s if params.reach_h is None else params.reach_h * 3600
    horizon = shift.next_opportunity + timedelta(seconds=reach_s)
    return choose_all(bins, shift.start, horizon, params, shift.fleet.shift_s)


def _not_planned(
    solved: Solved, chosen: Sequence[tuple[int, Choice]], choices: Sequence[Choice]
) -> tuple[list[SkippedBin], list[SkippedBin]]:
    """Must-collect bins the routes left out, and the bins skipped: by choice, then the
    worth-collecting ones no route took."""
    left_out, dropped_worth = [], set()
    for k in solved.dropped:
        choice = chosen[k][1]
        if choice.decision == "must":
            left_out.append(
                _skipped(choice, "did not fit the fleet or the shift: " + choice.reason)
            )
        else:
            dropped_worth.add(k)
    skipped = [_skipped(c) for c in choices if c.decision == "skip"]
    skipped += [
        _skipped(chosen[k][1], "not worth the detour today: " + chosen[k][1].reason)
        for k in sorted(dropped_worth)
    ]
    return left_out, skipped


def _saving(routes: Sequence[VehicleRoute], full: Solved, candidates: int) -> Saving:
    """The plan's routes against ``full``, the same fleet routed over all ``candidates`` bins."""
    all_m = float(sum(r.distance_m for r in full.routes))
    plan_m = float(sum(r.distance_m for r in routes))
    return Saving(
        all_bins_distance_m=all_m,
        all_bins_duration_s=float(sum(r.duration_s for r in full.routes)),
        plan_distance_m=plan_m,
        plan_duration_s=float(sum(r.duration_s for r in routes)),
        distance_saved_pct=round(100 * (1 - plan_m / all_m), 1) if all_m else 0.0,
        bins_all=candidates - len(full.dropped),
        bins_planned=sum(len(r.stops) for r in routes),
    )
