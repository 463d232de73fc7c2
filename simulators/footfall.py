"""How many people pass a counter: daily and weekly rhythm with noise."""

import math
import random
from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/London")

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


def sample_count(rng: random.Random, peak_per_hour: float, start: datetime, end: datetime) -> int:
    """People counted between ``start`` and ``end``: Poisson-like noise around the rhythm."""
    hours = (end - start).total_seconds() / 3600
    mean = expected_rate(peak_per_hour, start + (end - start) / 2) * hours
    if mean <= 0:
        return 0
    # Normal approximation of a Poisson with 10% extra day-to-day spread; never negative.
    value = rng.gauss(mean, math.sqrt(mean) + 0.1 * mean)
    return max(0, round(value))
