"""The rolling multi-day plan: which bins go today, which wait for a later round, and the bound."""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.routing.bound import cover_days, held_karp_m, km_lower_bound, min_visits, mst_m
from analytics.routing.fill import FillForecast
from analytics.routing.multiday import (
    MultiDayBin,
    MultiDayParams,
    assign_days,
    deadline_day,
    plan_today,
)
from analytics.routing.vrp import Fleet

START = datetime(2026, 10, 5, 7, tzinfo=UTC)
# A road along one line: the depot at 0 m, bins at these positions (metres east).
POSITIONS = (0, 5000, 2500, -4000)


@dataclass(frozen=True)
class _Linear:
    """A bin filling at a steady rate, known exactly."""

    level: float
    per_day: float
    stale: bool = False
    stuck: bool = False
    flags: tuple[str, ...] = ()
    last_reading_at: datetime | None = None

    def predict(self, at: datetime) -> FillForecast:
        value = self.level + self.per_day * (at - START).total_seconds() / 86400
        return FillForecast(at, value, value, value)


def _plan(levels: list[tuple[float, float]]) -> list[int]:
    distance = [[abs(a - b) for b in POSITIONS] for a in POSITIONS]
    duration = [[d // 10 for d in row] for row in distance]
    bins = [
        MultiDayBin(i + 1, 240, _Linear(level, rate), 60) for i, (level, rate) in enumerate(levels)
    ]
    owners, solved = plan_today(
        bins, START, distance, duration, Fleet(vehicles=1), MultiDayParams(), iterations=200
    )
    return sorted(owners[v] for r in solved.routes for v in r.visits)


def test_cheap_bin_goes_today_and_outlying_bin_waits_for_its_day() -> None:
    """A 60% bin on the way to a full one is taken today; a 70% bin on an outlying street,
    which need not go before day 2, waits."""
    levels = [(95.0, 20.0), (60.0, 20.0), (70.0, 10.0)]
    assert deadline_day(_Linear(70.0, 10.0), START, MultiDayParams()) == 2
    assert _plan(levels) == [0, 1]


@pytest.mark.parametrize("level", [75.0, 85.0, 99.0])
def test_bin_due_today_is_never_left_however_far(level: float) -> None:
    """A bin that would overflow before tomorrow's crew reaches it goes today, even outlying."""
    levels = [(10.0, 5.0), (10.0, 5.0), (level, 40.0)]
    assert deadline_day(_Linear(level, 40.0), START, MultiDayParams()) == 0
    assert 2 in _plan(levels)


def test_bin_that_can_wait_beyond_the_horizon_is_not_forced() -> None:
    """A nearly empty, slow bin has no deadline within the horizon."""
    params = MultiDayParams(horizon_days=3)
    assert deadline_day(_Linear(5.0, 1.0), START, params) == 3


def test_bound_counts_visits_and_tours() -> None:
    """Fewest visits follow the litter; a forced bin costs the way there and back."""
    assert [min_visits(f) for f in (50, 100, 199, 200, 350)] == [0, 1, 1, 2, 3]
    distance = np.array([[abs(a - b) for b in POSITIONS] for a in POSITIONS], dtype=float)
    assert mst_m(distance, [0, 1, 2, 3]) == 9000
    # Bin 3 receives 120% on day 0 alone: any policy must drive there and back (a metre a
    # leg is given away to rounding).
    daily = np.array([[10.0, 10.0], [10.0, 10.0], [120.0, 0.0]])
    assert km_lower_bound(distance.astype(int).tolist(), daily) == pytest.approx(8.0, abs=0.01)
    # Both ends of the road: 18 km out and back, where the spanning tree says 9.
    assert held_karp_m(distance, [0, 1, 2, 3]) == pytest.approx(18_000)


def _shortest_tour(distance: np.ndarray) -> float:
    n = len(distance)
    return min(
        sum(distance[a, b] for a, b in itertools.pairwise((0, *order, 0)))
        for order in itertools.permutations(range(1, n))
    )


@pytest.mark.parametrize("seed", range(6))
def test_held_karp_is_between_spanning_tree_and_shortest_tour(seed: int) -> None:
    """The tour bound never exceeds the shortest tour, and improves on the spanning tree."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 1000, (7, 2))
    distance = np.sqrt(((points[:, None] - points[None]) ** 2).sum(axis=-1))
    distance *= 1 + 0.2 * rng.uniform(0, 1, distance.shape)  # one-way streets
    for k in range(len(distance)):  # shortest paths: the triangle inequality holds
        distance = np.minimum(distance, distance[:, k : k + 1] + distance[k : k + 1, :])
    tour = held_karp_m(distance, list(range(7)))
    assert mst_m(distance, list(range(7))) < tour <= _shortest_tour(distance) + 1e-6


def test_overlapping_windows_add_up_tighter_than_any_split() -> None:
    """Days shared by two windows serve both; the total is the least that covers every one."""
    # Windows [0, 2) and [1, 3) need 10 each, [0, 3) needs 15: 5 on day 1 and 5 on day 2
    # would not do ([0, 2) has 5), the least is 15 with 10 on day 1 and 5 on day 2.
    needs = {(0, 2): 10.0, (1, 3): 10.0, (0, 3): 15.0}
    assert cover_days(3, needs) == pytest.approx(15.0)
    assert cover_days(3, {(0, 1): 4.0, (1, 2): 4.0, (0, 2): 6.0}) == pytest.approx(8.0)
    assert cover_days(4, {(0, 4): 7.0, (2, 3): 3.0}) == pytest.approx(7.0)


def test_bound_stays_below_a_feasible_schedule() -> None:
    """On a road with bins filling 40% a day, the bound is at most what emptying them all
    every other day drives, and more than the old spanning-tree bound."""
    distance = np.array([[abs(a - b) for b in POSITIONS] for a in POSITIONS], dtype=float)
    daily = np.full((3, 8), 40.0)
    every_other_day = 4 * 18.0  # both ends of the road, on days 0, 2, 4, 6
    bound = km_lower_bound(distance.astype(int).tolist(), daily)
    assert 8 * 9.0 / 3 < bound <= every_other_day


def test_days_gather_near_an_earlier_round() -> None:
    """A bin due on day 3 beside the bins of day 1's round joins day 1; an outlying one with
    no round near it waits for its deadline."""
    positions = (0, 5000, 5100, 5050, -4000, 2000)
    distance = np.array([[abs(a - b) for b in positions] for a in positions], dtype=float)
    deadlines = [1, 1, 3, 3, 0]
    fills = np.tile(np.array([50.0, 60.0, 70.0, 80.0, 90.0, 100.0]), (5, 1))
    days = assign_days(distance, [1, 2, 3, 4, 5], deadlines, fills, lift_m=400)
    assert days == [1, 1, 1, 3, 0]


@pytest.mark.parametrize(("per_day", "passes"), [(60.0, 1), (95.0, 1), (150.0, 2)])
def test_second_pass_only_for_bins_filling_over_a_bin_a_day(per_day: float, passes: int) -> None:
    """A bin filling over 100% a day gets a second, later pass; slower bins get one."""
    distance = [[abs(a - b) for b in POSITIONS] for a in POSITIONS]
    duration = [[d // 10 for d in row] for row in distance]
    bins = [
        MultiDayBin(1, 240, _Linear(90.0, per_day), 60),
        MultiDayBin(2, 240, _Linear(10.0, 5.0), 60),
    ]
    params = MultiDayParams(overflow_hour_m=500)
    owners, solved = plan_today(
        bins, START, distance, duration, Fleet(vehicles=1), params, iterations=200
    )
    lifts = [owners[v] for r in solved.routes for v in r.visits]
    assert lifts.count(0) == passes and lifts.count(1) <= 1
