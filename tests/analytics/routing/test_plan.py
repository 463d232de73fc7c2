"""Choosing bins and routing them on small synthetic towns: overflow is planned, skips are
explained, infeasible requests say what was left out, windows and incidents are honoured."""

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.geo.geometry import moved
from analytics.routing.fill import FillReading, fit_fill_model
from analytics.routing.planner import Shift, make_plan
from analytics.routing.schema import Plan
from analytics.routing.select import BinState, SelectionParams, choose
from analytics.routing.travel import haversine_matrix
from analytics.routing.vrp import Fleet, Visit, solve_routes

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 10, 13, 7, 0, tzinfo=LONDON)  # a Tuesday
NEXT = START + timedelta(days=1)
DEPOT = (52.6697, -0.7269)


def _readings(
    level_now: float,
    rate_h: float,
    now: datetime,
    hours: int = 21 * 24,
    flags: tuple[str, ...] = (),
) -> list[FillReading]:
    """Half-hourly readings of a bin filling at ``rate_h``, emptied whenever it reached the level
    it has now (at least 80%), ending at ``level_now`` at ``now``."""
    cycle = (max(level_now, 80.0) + 1) / rate_h
    since_empty = level_now / rate_h
    out = []
    for k in range(hours * 2, 0, -1):
        t = now - timedelta(minutes=30 * k)
        age = (since_empty - (now - t).total_seconds() / 3600) % cycle
        out.append(FillReading(t.astimezone(UTC), round(rate_h * age, 1)))
    out.append(FillReading(now.astimezone(UTC), level_now, flags))
    return out


def _bin(
    name: str,
    level: float,
    rate: float,
    north: float,
    east: float,
    *,
    zone: str | None = None,
    capacity: int = 240,
    flags: tuple[str, ...] = (),
    silent_h: float = 0.0,
) -> BinState:
    heard = START - timedelta(hours=silent_h)
    model = fit_fill_model(
        name, _readings(level, rate, heard, flags=flags), START.astimezone(UTC), tz="Europe/London"
    )
    lat, lon = moved(*DEPOT, east, north)
    return BinState(name, lat, lon, capacity, model, zone=zone, street=f"{name} Street")


def _plan(bins: list[BinState], fleet: Fleet | None = None, **shift_kw: object) -> Plan:
    shift = Shift(start=START, next_opportunity=NEXT, fleet=fleet or Fleet(), **shift_kw)  # type: ignore[arg-type]
    return make_plan(
        "testtown",
        bins,
        DEPOT,
        shift,
        lambda pts: haversine_matrix(list(pts)),
        seconds=0.3,
        seed=1,
    )


def _planned(plan: Plan) -> set[str]:
    return {s.device_id for r in plan.routes for s in r.stops}


@pytest.mark.parametrize("seed", range(4))
def test_a_bin_that_will_overflow_is_always_planned(seed: int) -> None:
    """Every bin whose upper forecast passes 100% by the next shift is on a route."""
    rng = random.Random(seed)
    bins = [
        _bin(
            f"b{i}",
            rng.uniform(0, 75),
            rng.uniform(0.3, 3.5),
            rng.uniform(-2000, 2000),
            rng.uniform(-2000, 2000),
        )
        for i in range(30)
    ]
    plan = _plan(bins)
    at_risk = {
        b.device_id for b in bins if b.model is not None and b.model.predict(NEXT).hi_pct >= 100
    }
    assert at_risk, "the town should have bins at risk of overflowing"
    assert at_risk <= _planned(plan)
    assert not plan.left_out


def test_skipped_bins_are_reported_with_their_reason() -> None:
    """A slow, nearly empty bin is skipped, listed with its expected fill, and not routed."""
    plan = _plan([_bin("slow", 5, 0.2, 300, 0), _bin("full", 90, 2.0, -300, 0)])
    assert _planned(plan) == {"full"}
    (skipped,) = plan.skipped
    assert skipped.device_id == "slow" and skipped.decision == "skip"
    assert "expected by" in skipped.reason and skipped.predicted_fill_pct is not None


def test_capacity_too_small_for_must_bins_says_what_was_left_out() -> None:
    """With room for one bin, the others that must be emptied are listed as left out."""
    bins = [_bin(f"m{i}", 95, 2.0, 200 * i, 100) for i in range(4)]
    fleet = Fleet(vehicles=1, capacity_litres=300, trips=1)
    plan = _plan(bins, fleet)
    assert len(_planned(plan)) == 1
    assert len(plan.left_out) == 3
    assert all("did not fit" in b.reason and b.decision == "must" for b in plan.left_out)
    assert {b.device_id for b in plan.left_out} | _planned(plan) == {b.device_id for b in bins}


def test_zone_window_is_kept() -> None:
    """High-street bins are emptied before 10:00 even when they lie at the far end."""
    bins = [_bin(f"r{i}", 90, 1.5, 400 * i, 0) for i in range(1, 8)]
    bins.append(_bin("hs", 90, 3.0, 3200, 0, zone="high-street"))
    windows = {"high-street": (time(7, 0), time(7, 20))}
    plan = _plan(bins, Fleet(vehicles=1, service_s=600), windows=windows)
    stop = next(s for r in plan.routes for s in r.stops if s.device_id == "hs")
    assert stop.arrival.astimezone(LONDON).time() <= time(7, 20)
    order = [s.device_id for s in plan.routes[0].stops]
    assert order[0] == "hs", order


def test_fire_is_not_routed_and_tilted_is() -> None:
    """A bin reporting fire is left to the incident process; a tipped-over bin is visited."""
    plan = _plan(
        [
            _bin("burning", 90, 2.0, 100, 0, flags=("fire",)),
            _bin("tipped", 10, 0.2, -100, 0, flags=("tilted",)),
        ]
    )
    assert _planned(plan) == {"tipped"}
    (fire,) = plan.skipped
    assert fire.device_id == "burning" and "fire" in fire.reason


def test_worth_bin_is_taken_when_close_and_left_when_far() -> None:
    """An optional bin next to the route is emptied; one far off it is not."""
    near = _bin("near", 50, 0.8, 1000, 30)  # about 75% by the end of the next shift
    far = _bin("far", 50, 0.8, -3000, -3000)
    must = _bin("must", 95, 2.0, 1000, 0)
    plan = _plan([must, near, far])
    assert _planned(plan) == {"must", "near"}
    reasons = {b.device_id: b.reason for b in plan.skipped}
    assert "not worth the detour" in reasons["far"]


def test_silent_sensor_is_planned_from_history() -> None:
    """A bin silent for a day is still planned, from its history, and the reason says so."""
    silent = _bin("quiet", 60, 2.0, 200, 0, silent_h=24)
    choice = choose(silent, START, NEXT, SelectionParams())
    assert choice.decision == "must"
    assert "silent" in choice.reason
    assert choice.fill_now_pct is not None and choice.fill_now_pct > 90


def test_saving_compares_with_emptying_every_bin() -> None:
    """The plan reports the distance of emptying every bin with the same fleet, and more."""
    bins = [
        _bin(f"b{i}", 10 + 8 * i, 2.0 if i % 2 else 0.3, 300 * i, 200 * (i % 3)) for i in range(10)
    ]
    plan = _plan(bins)
    assert plan.saving is not None
    assert plan.saving.bins_all == 10
    assert plan.saving.all_bins_distance_m > plan.saving.plan_distance_m > 0
    assert plan.saving.distance_saved_pct > 0


def test_solver_respects_capacity_and_trips() -> None:
    """Loads per trip never exceed the vehicle's capacity; two trips carry twice as much."""
    points = [DEPOT] + [moved(*DEPOT, 0, 100 * i) for i in range(1, 7)]
    matrix = haversine_matrix(points)
    visits = [Visit(point=i, load_litres=200, service_s=60, required=True) for i in range(1, 7)]
    one = solve_routes(
        matrix.distance_m,
        matrix.duration_s,
        visits,
        Fleet(vehicles=1, capacity_litres=600, trips=1),
        seconds=0.2,
    )
    two = solve_routes(
        matrix.distance_m,
        matrix.duration_s,
        visits,
        Fleet(vehicles=1, capacity_litres=600, trips=2),
        seconds=0.2,
    )
    assert len(one.dropped) == 3 and one.routes[0].load_litres == 600
    assert not two.dropped and two.routes[0].trips == 2


def test_bin_about_to_overflow_is_emptied_before_it_does() -> None:
    """A bin that could overflow within the hour is reached within the hour, although the
    shortest loop meets it only after four or five slow stops whichever way it runs."""
    bins = [_bin(f"w{i}", 85, 0.5, 500 * i, -300) for i in range(1, 5)]
    bins += [_bin(f"e{i}", 85, 0.5, 500 * i, 300) for i in range(1, 6)]
    bins.append(_bin("urgent", 97, 3.0, 2500, 0))
    plan = _plan(bins, Fleet(vehicles=1, service_s=1200, trips=1, capacity_litres=20_000))
    stop = next(s for r in plan.routes for s in r.stops if s.device_id == "urgent")
    assert stop.arrival <= START + timedelta(hours=1)
    assert not plan.left_out
