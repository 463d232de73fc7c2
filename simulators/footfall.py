"""How many people pass a counter: daily and weekly rhythm, day factors, noise, outages."""

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ingest.kernel.params import require_in

LOCAL = ZoneInfo("Europe/London")

if TYPE_CHECKING:
    from simulators.calendar import DayFactors

# Share of the busiest hour's footfall, by local hour (a shopping street: lunch and evening peaks).
_HOURLY = (
    0.02,
    0.01,
    0.01,
    0.01,
    0.01,
    0.03,
    0.08,
    0.2,
    0.45,
    0.6,
    0.75,
    0.85,
    1.0,
    0.95,
    0.85,
    0.8,
    0.85,
    0.9,
    0.7,
    0.5,
    0.35,
    0.25,
    0.12,
    0.05,
)
_WEEKDAY = (0.85, 0.85, 0.9, 0.95, 1.05, 1.3, 0.8)  # Monday … Sunday


def expected_rate(peak_per_hour: float, at: datetime) -> float:
    """Expected people per hour past a counter at ``at`` (interpolated between hours)."""
    local = at.astimezone(LOCAL)
    h = local.hour + local.minute / 60
    lo, hi = _HOURLY[int(h) % 24], _HOURLY[(int(h) + 1) % 24]
    frac = h - int(h)
    return peak_per_hour * _WEEKDAY[local.weekday()] * (lo + (hi - lo) * frac)


def sample_count(
    rng: random.Random, peak_per_hour: float, start: datetime, end: datetime, factor: float = 1.0
) -> int:
    """People counted between ``start`` and ``end``: Poisson-like noise around the rhythm,
    scaled by the day's ``factor`` (weather, holidays, events)."""
    hours = (end - start).total_seconds() / 3600
    mean = expected_rate(peak_per_hour, start + (end - start) / 2) * hours * factor
    if mean <= 0:
        return 0
    # Normal approximation of a Poisson with 10% extra day-to-day spread; never negative.
    value = rng.gauss(mean, math.sqrt(mean) + 0.1 * mean)
    return max(0, round(value))


@dataclass(frozen=True, slots=True)
class CountPeriod:
    """One counting period: the true count, and whether the counter reported it."""

    start: datetime
    end: datetime
    count: int
    reported: bool


def simulate_counter(
    peak_per_hour: float,
    days: list["DayFactors"],
    rng: random.Random,
    *,
    period_min: int = 15,
    outage_per_day: float = 0.03,
    outage_hours: tuple[float, float] = (1.0, 48.0),
) -> Iterator[CountPeriod]:
    """Counting periods of one counter over ``days``, in time order.

    An outage (power, network, vandalism) starts with probability ``outage_per_day`` and lasts
    between ``outage_hours``; its periods are still yielded with ``reported=False``, so the
    truth shows what was missed while the counter sends nothing (not zeros).
    """
    require_in("period_min", period_min, 1, 1440)
    require_in("outage_per_day", outage_per_day, 0, 1)
    if not days:
        return
    first = days[0].day
    t = datetime(first.year, first.month, first.day, tzinfo=LOCAL).astimezone(UTC)
    end = t + timedelta(days=len(days))
    step = timedelta(minutes=period_min)
    down_until: datetime | None = None
    while t < end:
        local_day = t.astimezone(LOCAL).date()
        factors = days[min((local_day - first).days, len(days) - 1)]
        if down_until is None and rng.random() < outage_per_day * period_min / 1440:
            down_until = t + timedelta(hours=rng.uniform(*outage_hours))
        if down_until is not None and t >= down_until:
            down_until = None
        count = sample_count(rng, peak_per_hour, t, t + step, factors.footfall)
        yield CountPeriod(t, t + step, count, down_until is None)
        t += step
