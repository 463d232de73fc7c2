"""The rolling multi-day plan: which bins go today, which wait for a later round, and the bound."""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.routing.bound import km_lower_bound, min_visits, mst_m
from analytics.routing.fill import FillForecast
from analytics.routing.multiday import MultiDayBin, MultiDayParams, deadline_day, plan_today
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


def test_bound_counts_visits_and_spanning_trees() -> None:
    """Fewest visits follow the litter; the windows bound is the spanning tree of forced bins."""
    assert [min_visits(f) for f in (50, 100, 199, 200, 350)] == [0, 1, 1, 2, 3]
    distance = np.array([[abs(a - b) for b in POSITIONS] for a in POSITIONS], dtype=float)
    assert mst_m(distance, [0, 1, 2, 3]) == 9000
    # Bin 3 receives 120% on day 0 alone: any policy must reach it (and back, in km it drives).
    daily = np.array([[10.0, 10.0], [10.0, 10.0], [120.0, 0.0]])
    assert km_lower_bound(distance.astype(int).tolist(), daily) == pytest.approx(4.0)


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
