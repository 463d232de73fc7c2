"""What makes one day unlike another: public and school holidays, weather, special events.

Dates are England's (``analytics.forecasting.calendars``, the facts the forecasts use too).
The day-to-day weather effect is a seeded AR(1) process, so two runs with the same seed see
the same 'weather'.
"""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from analytics.forecasting.calendars import BANK_HOLIDAYS, is_school_holiday
from ingest.kernel.params import require, require_in


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
    require(days >= 0, "Expected days >= 0.")
    require_in("events_per_month", events_per_month, 0, 30)
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
