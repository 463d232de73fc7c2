"""Built-in calendars: Victoria, Australia (2012-2015) and England (2025-2027).

Victoria's dates are facts: public holidays as gazetted for Victoria (with the substitute
Mondays of those years), and school holidays as the days between the Victorian government
school terms. England's are bank holidays as published by GOV.UK and school holidays as typical term
breaks of English local authorities; the simulated town uses the same facts, so it and its
forecasts agree on what a holiday is.
"""

from collections.abc import Callable
from datetime import date, timedelta

from analytics.forecasting.calendar import Calendar
from analytics.forecasting.calendars_nz import auckland

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


VIC_PUBLIC_HOLIDAYS = frozenset(
    date.fromisoformat(d)
    for d in (
        # 2012
        "2012-01-01", "2012-01-02", "2012-01-26", "2012-03-12", "2012-04-06", "2012-04-07",
        "2012-04-09", "2012-04-25", "2012-06-11", "2012-11-06", "2012-12-25", "2012-12-26",
        # 2013
        "2013-01-01", "2013-01-28", "2013-03-11", "2013-03-29", "2013-03-30", "2013-04-01",
        "2013-04-25", "2013-06-10", "2013-11-05", "2013-12-25", "2013-12-26",
        # 2014
        "2014-01-01", "2014-01-27", "2014-03-10", "2014-04-18", "2014-04-19", "2014-04-21",
        "2014-04-25", "2014-06-09", "2014-11-04", "2014-12-25", "2014-12-26",
        # 2015
        "2015-01-01", "2015-01-26", "2015-03-09", "2015-04-03", "2015-04-04", "2015-04-06",
        "2015-04-25", "2015-06-08", "2015-10-02", "2015-11-03", "2015-12-25", "2015-12-28",
    )
)  # fmt: skip
"""Victorian public holidays 2012-2015 (New Year, Australia Day, Labour Day, Easter, Anzac Day,
Queen's Birthday, Melbourne Cup, Christmas, Boxing Day, 2015's AFL Grand Final Friday)."""

VIC_SCHOOL_HOLIDAYS = tuple(
    (date.fromisoformat(a), date.fromisoformat(b))
    for a, b in (
        ("2011-12-21", "2012-01-29"),
        ("2012-03-31", "2012-04-15"),
        ("2012-06-30", "2012-07-15"),
        ("2012-09-22", "2012-10-07"),
        ("2012-12-22", "2013-01-28"),
        ("2013-03-29", "2013-04-14"),
        ("2013-06-29", "2013-07-14"),
        ("2013-09-21", "2013-10-06"),
        ("2013-12-21", "2014-01-27"),
        ("2014-04-05", "2014-04-21"),
        ("2014-06-28", "2014-07-13"),
        ("2014-09-20", "2014-10-05"),
        ("2014-12-20", "2015-01-26"),
        ("2015-03-28", "2015-04-12"),
        ("2015-06-27", "2015-07-12"),
        ("2015-09-19", "2015-10-04"),
        ("2015-12-19", "2016-01-26"),
    )
)
"""Victorian government school holidays, late 2011 to early 2016 (first and last day)."""


def victoria() -> Calendar:
    """Victoria, Australia, 2012-2015: Australia/Melbourne time, public and school holidays."""
    return Calendar("Australia/Melbourne", VIC_PUBLIC_HOLIDAYS, VIC_SCHOOL_HOLIDAYS)


def _ranges(days: list[date]) -> tuple[tuple[date, date], ...]:
    out: list[tuple[date, date]] = []
    for day in days:
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return tuple(out)


def england() -> Calendar:
    """England, the years of :data:`BANK_HOLIDAYS`: Europe/London time, bank holidays and
    typical school holidays (the simulated town's own)."""
    first, last = min(BANK_HOLIDAYS).year, max(BANK_HOLIDAYS).year
    start = date(first, 1, 1)
    days = [start + timedelta(days=i) for i in range((date(last, 12, 31) - start).days + 1)]
    school = _ranges([d for d in days if is_school_holiday(d)])
    return Calendar("Europe/London", frozenset(BANK_HOLIDAYS), school)


CALENDARS: dict[str, Callable[[], Calendar]] = {
    "vic": victoria,
    "england": england,
    "akl": auckland,
    "none": Calendar,
}
"""Built-in calendars by the name the command line uses."""
