"""What makes one day unlike another for a council: its time zone, holidays and events.

A :class:`Calendar` is data the council enters (or a built-in, see
:mod:`analytics.forecasting.calendars`); :func:`day_table` turns it into one row of day
features per local date, which the forecaster joins onto every hour of that date.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from ingest.kernel.params import require, require_in

HOLIDAY_HORIZON_DAYS = 14
"""Days to or from a public holiday are counted up to this many (further is 'far')."""


@dataclass(frozen=True)
class Event:
    """A day the council expects to differ: a market, a parade, a concert.

    Parameters
    ----------
    day
        Local date of the event.
    name
        What it is (for people; the forecaster does not read it).
    uplift
        The council's expected multiplier on footfall that day (1.5 = half as busy again),
        applied to the forecast and its interval; ``None`` when unknown, in which case the
        model learns what events do from past event days, if the history has any.
    """

    day: date
    name: str
    uplift: float | None = None

    def __post_init__(self) -> None:
        if self.uplift is not None:
            require_in("uplift", self.uplift, 0, 20, lo_open=True)


def zone_exists(name: str) -> bool:
    """Whether ``name`` is a time zone this machine knows (IANA, e.g. ``Europe/London``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Calendar:
    """A council's time zone, public holidays, school holidays and events.

    Parameters
    ----------
    timezone
        IANA time zone of the council; hour-of-week and dates are taken in it, so the weekly
        pattern survives daylight-saving changes.
    public_holidays
        Local dates of public holidays.
    school_holidays
        School holidays as (first day, last day) ranges, both inclusive.
    events
        Event days the council has entered.
    """

    timezone: str = "UTC"
    public_holidays: frozenset[date] = field(default_factory=frozenset)
    school_holidays: tuple[tuple[date, date], ...] = ()
    events: tuple[Event, ...] = ()

    def __post_init__(self) -> None:
        require(zone_exists(self.timezone), f"Expected an IANA time zone, got {self.timezone!r}.")
        backwards = any(first > last for first, last in self.school_holidays)
        require(not backwards, "Expected school holiday ranges with first <= last.")

    def with_events(self, events: Iterable[Event]) -> "Calendar":
        """This calendar with ``events`` added to its own."""
        return replace(self, events=(*self.events, *events))

    def with_timezone(self, timezone: str) -> "Calendar":
        """This calendar in another time zone (holidays stay on their local dates)."""
        return replace(self, timezone=timezone)

    def special_days(self) -> frozenset[date]:
        """Public holidays and event days: days whose counts say little about ordinary days."""
        return self.public_holidays | {e.day for e in self.events}


def _days_to_holiday(days: list[date], holidays: frozenset[date], step: int) -> list[int]:
    out = []
    for day in days:
        n = 0
        while n <= HOLIDAY_HORIZON_DAYS and day + timedelta(days=step * n) not in holidays:
            n += 1
        out.append(n)
    return out


def day_table(calendar: Calendar, first: date, last: date) -> pl.DataFrame:
    """One row per local date from ``first`` to ``last`` with the calendar's day features.

    Returns
    -------
    polars.DataFrame
        ``date``; ``holiday``, ``school``, ``event`` (0/1); ``uplift`` (the largest entered
        uplift of the day's events, null when none); ``to_holiday`` and ``from_holiday``
        (days to the next and since the last public holiday, 0 on one, capped at
        ``HOLIDAY_HORIZON_DAYS + 1``).
    """
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    uplift: dict[date, float] = {}
    for e in calendar.events:
        if e.uplift is not None:
            uplift[e.day] = max(uplift.get(e.day, 0.0), e.uplift)
    event_days = {e.day for e in calendar.events}
    ph = calendar.public_holidays
    return pl.DataFrame(
        {
            "date": days,
            "holiday": [int(d in ph) for d in days],
            "school": [int(any(a <= d <= b for a, b in calendar.school_holidays)) for d in days],
            "event": [int(d in event_days) for d in days],
            "uplift": [uplift.get(d) for d in days],
            "to_holiday": _days_to_holiday(days, ph, 1),
            "from_holiday": _days_to_holiday(days, ph, -1),
        },
        schema={
            "date": pl.Date,
            "holiday": pl.Int8,
            "school": pl.Int8,
            "event": pl.Int8,
            "uplift": pl.Float64,
            "to_holiday": pl.Int16,
            "from_holiday": pl.Int16,
        },
    )
