"""Replay a simulated town and compare collection policies on the same truth.

Policies: fixed daily collection of every bin, fixed every-other-day collection, and
smartstreets' plan (fill models fitted on what the sensors said, bins chosen, routes solved).
All three face the same litter, sensor noise and stuck sensors (see :mod:`simulators.waste`), start
from the same history (a warm-up under daily collection) and drive the same road network with
the same fleet. Reported: km driven, bins lifted, overflow bin-hours, crew hours.
"""

import copy
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from analytics.routing.bound import km_lower_bound, min_visits
from analytics.routing.errors import PlanError
from analytics.routing.fill import FillForecast, FillModel, FillReading, fit_fill_model
from analytics.routing.multiday import MultiDayBin, MultiDayParams
from analytics.routing.multiday import plan_today as multiday_today
from analytics.routing.planner import Shift, make_plan
from analytics.routing.select import BinState, SelectionParams
from analytics.routing.travel import TravelMatrix, network_matrix
from analytics.routing.vrp import Fleet, Visit, solve_routes
from ingest.kernel.params import require_in
from simulators.footfall import LOCAL
from simulators.town import SimBin
from simulators.waste import FillReplay, FillTruth, draw_truth
from simulators.world import build_world

# "foresight" is a bound, not a policy: smartstreets' selection and routing fed the true future
# fill instead of forecasts, to show how much of the gap to any target is forecasting.
# "multi-day" chooses each bin's visit day within a horizon (analytics.routing.multiday).
# "lower bound" is no policy: km no policy can beat without overflow (bound.km_lower_bound).
# "+ 2nd passes" adds a second pass, late in the shift, to bins forecast to fill over 100% in
# the day; "bigger bins" instead doubles the capacity of the bins that filled over 100% on some
# day of the warm-up (their litter in percent halves; loads in litres are not doubled).
SECOND, BIGGER = "multi-day + 2nd passes", "multi-day, bigger bins"
POLICIES = ("daily", "every-other-day", "smartstreets", "multi-day", SECOND, BIGGER, "foresight")
HISTORY_DAYS = 42
BOUND = "lower bound"


@dataclass(frozen=True)
class EvaluationParams:
    """What to replay.

    Parameters
    ----------
    days
        Days compared, after the warm-up.
    seed
        Seed of the town, its litter and the route search.
    bins
        Bins in the town.
    warmup_days
        Days of history under daily collection before the comparison starts.
    iterations
        Route search iterations per plan: a count rather than a time limit, so that a run
        gives the same figures however loaded the machine is.
    first_day
        First day of the warm-up.
    """

    days: int = 28
    seed: int = 1
    bins: int = 150
    warmup_days: int = 14
    iterations: int = 3000
    first_day: date = date(2026, 9, 7)
    shift_start: time = time(7, 0)
    # Enough trips that emptying every bin always fits, so the fixed policies are feasible.
    fleet: Fleet = field(default_factory=lambda: Fleet(vehicles=2, trips=4))
    selection: SelectionParams = field(default_factory=SelectionParams)
    horizon_days: int = 5
    overflow_hour_m: int = 300  # metres of driving worth one bin-hour of overflow

    def __post_init__(self) -> None:
        require_in("horizon_days", self.horizon_days, 1, 14)
        require_in("days", self.days, 1, 366)
        require_in("bins", self.bins, 5, 2000)
        require_in("warmup_days", self.warmup_days, 3, 60)
        require_in("iterations", self.iterations, 10, 1_000_000)


@dataclass(frozen=True)
class PolicyResult:
    """What one policy cost and how well it kept the streets clean."""

    policy: str
    km: float
    bins_lifted: int
    overflow_bin_hours: float
    crew_hours: float


@dataclass
class _Tally:
    metres: float = 0.0
    seconds: float = 0.0


def _shift_step(truth: FillTruth, day: date, at: time) -> int:
    return truth.step_of(datetime.combine(day, at, tzinfo=LOCAL))


def _route_all(
    matrix: TravelMatrix, sims: Sequence[SimBin], levels: Sequence[float], params: EvaluationParams
) -> tuple[list[tuple[int, int]], _Tally]:
    """Route every bin with what is in it (the truck tips when full); returns (bin index,
    seconds after shift start) per lift, and the cost."""
    visits = []
    for i, (sim, level) in enumerate(zip(sims, levels, strict=True)):
        litres = sim.device.capacity_litres or 0
        load = round(litres * min(max(level, 0.0), 100.0) / 100)
        visits.append(
            Visit(
                point=i + 1,
                load_litres=load,
                service_s=params.fleet.service_time(litres),
                required=True,
            )
        )
    solved = solve_routes(
        matrix.distance_m,
        matrix.duration_s,
        visits,
        params.fleet,
        seed=params.seed,
        strict=True,
        iterations=params.iterations,
    )
    if solved.dropped:
        raise PlanError(f"the fleet cannot empty all {len(sims)} bins in one shift")
    cost = _Tally(
        sum(r.distance_m for r in solved.routes), sum(r.duration_s for r in solved.routes)
    )
    lifts = [(v, a) for r in solved.routes for v, a in zip(r.visits, r.arrivals_s, strict=True)]
    return lifts, cost


@dataclass(frozen=True)
class _Foresight:
    """A bin's true future fill, as if forecasts were perfect."""

    truth: FillTruth
    index: int
    step: int
    level: float
    stale: bool = False
    stuck: bool = False
    flags: tuple[str, ...] = ()
    last_reading_at: datetime | None = None

    def predict(self, at: datetime) -> FillForecast:
        end = max(self.step, min(self.truth.step_of(at), self.truth.steps))
        value = self.level + float(self.truth.increments[self.index, self.step : end].sum())
        return FillForecast(at, value, value, value)


def _models(
    replay: FillReplay, sims: Sequence[SimBin], step: int, foresight: bool
) -> list[FillModel | _Foresight]:
    """Each bin's fill model fitted on its sensor and the crews' records (or its true future)."""
    truth = replay.truth
    now = truth.time_of(step)
    since = step - HISTORY_DAYS * 24 * 60 // truth.step_min
    models: list[FillModel | _Foresight] = []
    for i, sim in enumerate(sims):
        if foresight:
            models.append(_Foresight(truth, i, step, float(replay.level[i])))
            continue
        times, values = replay.readings(i, since)
        readings = [FillReading(t, float(v)) for t, v in zip(times, values, strict=True)]
        emptied = [truth.time_of(k) for k in replay.collections[i] if since <= k < step]
        models.append(
            fit_fill_model(sim.device.device_id, readings, now, tz=str(LOCAL), collections=emptied)
        )
    return models


def _multiday_day(
    replay: FillReplay,
    sims: Sequence[SimBin],
    step: int,
    matrix: TravelMatrix,
    params: EvaluationParams,
    second_pass: bool = False,
) -> tuple[list[tuple[int, int]], _Tally]:
    """The rolling multi-day plan's routes for the shift at ``step``."""
    models = _models(replay, sims, step, foresight=False)
    bins = []
    for i, (sim, model) in enumerate(zip(sims, models, strict=True)):
        litres = sim.device.capacity_litres or 0
        bins.append(MultiDayBin(i + 1, litres, model, params.fleet.service_time(litres)))
    sel = params.selection
    mparams = MultiDayParams(
        params.horizon_days,
        sel.threshold_pct,
        sel.overflow_pct,
        overflow_hour_m=params.overflow_hour_m if second_pass else 0,
    )
    start = replay.truth.time_of(step)
    owners, solved = multiday_today(
        bins,
        start,
        matrix.distance_m,
        matrix.duration_s,
        params.fleet,
        mparams,
        seed=params.seed,
        iterations=params.iterations,
    )
    lifts = [
        (owners[v], a) for r in solved.routes for v, a in zip(r.visits, r.arrivals_s, strict=True)
    ]
    cost = _Tally(
        sum(r.distance_m for r in solved.routes), sum(r.duration_s for r in solved.routes)
    )
    return lifts, cost


def _smart_day(
    replay: FillReplay,
    sims: Sequence[SimBin],
    step: int,
    depot: tuple[float, float],
    matrix: TravelMatrix,
    params: EvaluationParams,
    foresight: bool = False,
) -> tuple[list[tuple[int, int]], _Tally]:
    """smartstreets' plan for the shift at ``step``, from the sensors and the crews' records
    (or, with ``foresight``, from the true future fill)."""
    truth = replay.truth
    now = truth.time_of(step)
    states = []
    for sim, model in zip(sims, _models(replay, sims, step, foresight), strict=True):
        d = sim.device
        assert d.capacity_litres is not None
        states.append(BinState(d.device_id, d.lat, d.lon, d.capacity_litres, model, d.zone))
    start = now.astimezone(LOCAL)
    shift = Shift(start=start, next_opportunity=start + timedelta(days=1), fleet=params.fleet)
    plan = make_plan(
        "evaluation",
        states,
        depot,
        shift,
        lambda _points: matrix,
        params.selection,
        iterations=params.iterations,
        seed=params.seed,
        compare=False,
    )
    index = {s.device.device_id: i for i, s in enumerate(sims)}
    lifts = [
        (index[stop.device_id], int((stop.arrival - start).total_seconds()))
        for route in plan.routes
        for stop in route.stops
    ]
    return lifts, _Tally(plan.distance_m, plan.duration_s)


def evaluate(
    params: EvaluationParams | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> list[PolicyResult]:
    """Replay the town under each policy; ``progress(policy, day)`` is called after each day."""
    params = params or EvaluationParams()
    world = build_world("evaluation", seed=params.seed, bins=params.bins, counters=0)
    sims = world.town.bins
    depot_node = world.network.nodes[world.network.depot]
    depot = (depot_node.lat, depot_node.lon)
    matrix = network_matrix(world.network, [depot] + [(b.device.lat, b.device.lon) for b in sims])
    total_days = params.warmup_days + params.days
    truth = draw_truth(sims, params.first_day, total_days + 1, params.seed)
    days = [params.first_day + timedelta(days=d) for d in range(total_days + 1)]
    count_from = _shift_step(truth, days[params.warmup_days], params.shift_start)
    warm = FillReplay(truth, count_from=count_from)
    for day in days[: params.warmup_days]:  # history under daily collection, the same for all
        step = _shift_step(truth, day, params.shift_start)
        warm.advance_to(step)
        fixed_lifts, _ = _route_all(matrix, sims, list(warm.level), params)
        for i, seconds in fixed_lifts:
            warm.empty_at(i, step + seconds // (truth.step_min * 60))
    results = []
    for policy in POLICIES:
        replay, tally = copy.deepcopy(warm), _Tally()
        if policy == BIGGER:
            starts = [
                _shift_step(truth, day, params.shift_start)
                for day in days[: params.warmup_days + 1]
            ]
            peak = np.max(
                [truth.increments[:, a:b].sum(axis=1) for a, b in itertools.pairwise(starts)],
                axis=0,
            )
            replay.truth.increments[peak > 100.0, count_from:] /= 2
        for d, day in enumerate(days[params.warmup_days : total_days]):
            step = _shift_step(truth, day, params.shift_start)
            replay.advance_to(step)
            lifts: list[tuple[int, int]] = []
            cost = _Tally()
            if policy == "daily" or (policy == "every-other-day" and d % 2 == 0):
                lifts, cost = _route_all(matrix, sims, list(replay.level), params)
            elif policy in ("smartstreets", "foresight"):
                lifts, cost = _smart_day(
                    replay, sims, step, depot, matrix, params, policy == "foresight"
                )
            elif policy in ("multi-day", SECOND, BIGGER):
                lifts, cost = _multiday_day(replay, sims, step, matrix, params, policy == SECOND)
            tally.metres += cost.metres
            tally.seconds += cost.seconds
            for i, seconds in lifts:
                replay.empty_at(i, step + seconds // (truth.step_min * 60))
            if progress:
                progress(policy, d + 1)
        replay.advance_to(_shift_step(truth, days[total_days], params.shift_start))
        results.append(
            PolicyResult(
                policy,
                round(tally.metres / 1000, 1),
                replay.lifts,
                round(replay.overflow_hours(), 1),
                round(tally.seconds / 3600, 1),
            )
        )
    starts = [_shift_step(truth, day, params.shift_start) for day in days[params.warmup_days :]]
    daily_fill = np.stack(
        [truth.increments[:, a:b].sum(axis=1) for a, b in itertools.pairwise(starts)],
        axis=1,
    )
    overflow = params.selection.overflow_pct
    results.append(
        PolicyResult(
            BOUND,
            round(km_lower_bound(matrix.distance_m, daily_fill, overflow), 1),
            sum(min_visits(float(f), overflow) for f in daily_fill.sum(axis=1)),
            0.0,
            0.0,
        )
    )
    return results
