"""What makes one day unlike another: public and school holidays, weather, special events.

Dates are facts for England (bank holidays as published by GOV.UK; school holidays as typical
term breaks of English local authorities). The day-to-day weather effect is a seeded AR(1)
process, so two runs with the same seed see the same 'weather'.
"""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

BANK_HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        "2025-01-01",
        "2025-04-18",
        "2025-04-21",
        "2025-05-05",
        "2025-05-26",
        "2025-08-25",
        "2025-12-25",
        "2025-12-26",
        "2026-01-01",
        "2026-04-03",
        "2026-04-06",
        "2026-05-04",
        "2026-05-25",
        "2026-08-31",
        "2026-12-25",
        "2026-12-28",
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-03",
        "2027-05-31",
        "2027-08-30",
        "2027-12-27",
        "2027-12-28",
    )
)
"""Bank holidays in England and Wales, 2025 to 2027."""

# Typical English school holidays (first and last day), by month and day: they move a little
# between councils and years, which is within what the simulated footfall needs.
_SCHOOL_BREAKS = (
    ((2, 16), (2, 20)),
    ((3, 30), (4, 10)),
    ((5, 25), (5, 29)),
    ((7, 22), (9, 2)),
    ((10, 26), (10, 30)),
    ((12, 21), (12, 31)),
    ((1, 1), (1, 2)),
)


def is_school_holiday(day: date) -> bool:
    """Whether ``day`` falls in a typical English school holiday."""
    md = (day.month, day.day)
    return any(first <= md <= last for first, last in _SCHOOL_BREAKS)


@dataclass(frozen=True)
class DayFactors:
    """How a day scales footfall and litter relative to an ordinary day of its weekday."""

    day: date
    weather: float
    bank_holiday: bool
    school_holiday: bool
    event: str | None
    event_boost: float

    @property
    def footfall(self) -> float:
        """Multiplier on expected footfall."""
        f = self.weather * self.event_boost
        if self.bank_holiday:
            f *= 0.75  # shops shut or short hours; fewer commuters
        if self.school_holiday:
            f *= 1.1  # families in town on weekdays
        return f

    @property
    def litter(self) -> float:
        """Multiplier on how fast bins fill (people, and events, drop litter)."""
        return 0.5 + 0.5 * self.footfall


def day_factors(
    start: date, days: int, seed: int, events_per_month: float = 1.5
) -> list[DayFactors]:
    """Factors for ``days`` consecutive days from ``start``, reproducible from ``seed``.

    Parameters
    ----------
    start
        First day.
    days
        Number of days.
    seed
        Seed of the weather process and of the event days.
    events_per_month
        Mean number of special event days (markets, fairs, parades) per 30 days.
    """
    if days < 0:
        raise ValueError("Expected days >= 0.")
    if not 0 <= events_per_month <= 30:
        raise ValueError("Expected events_per_month in [0, 30].")
    rng = random.Random(f"calendar-{seed}")
    weather_state = 0.0
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        # Weather persists for a few days: AR(1) on the log scale, a sunny spell lifts footfall.
        weather_state = 0.6 * weather_state + rng.gauss(0, 0.12)
        event = None
        boost = 1.0
        if rng.random() < events_per_month / 30:
            event = rng.choice(("market", "fair", "parade", "concert"))
            boost = rng.uniform(1.4, 2.2)
        out.append(
            DayFactors(
                day,
                math.exp(weather_state),
                day in BANK_HOLIDAYS,
                is_school_holiday(day),
                event,
                boost,
            )
        )
    return out
