"""Fills in words for crews and residents: never a fill over 100%, and the risk as a time.

The fill model's forecasts run past 100% on purpose (the planner needs to know how far past),
but "193%" means nothing at the kerb: a bin is full, or will be about a time, or is about
60% by the crew's visit. Every page, export and table that shows a fill to people takes its
words from here.
"""

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

STEP = timedelta(minutes=15)
"""How finely the moment a forecast reaches a level is found."""


def shown_pct(pct: float) -> float:
    """A fill as people may see it: within 0 to 100%."""
    return min(max(pct, 0.0), 100.0)


def pct_words(pct: float) -> str:
    """``"full"`` at 100% or more, else the whole percentage."""
    return "full" if pct >= 100 else f"{shown_pct(pct):.0f}%"


def about_pct(pct: float) -> str:
    """A forecast fill to the nearest 5% ("about 60%"); ``"full"`` at 100% or more."""
    return "full" if pct >= 100 else f"about {5 * round(shown_pct(pct) / 5):.0f}%"


def first_reaching(
    fill_at: Callable[[datetime], float], level: float, start: datetime, end: datetime
) -> datetime | None:
    """The first moment in [start, end] (to :data:`STEP`) at which ``fill_at`` reaches
    ``level``, or None; ``fill_at`` must not fall over time (a bin left alone only fills)."""
    if fill_at(start) >= level:
        return start
    if end <= start or fill_at(end) < level:
        return None
    low, high = start, end
    while high - low > STEP:
        mid = low + (high - low) / 2
        if fill_at(mid) >= level:
            high = mid
        else:
            low = mid
    return high


def clock(moment: datetime, day_of: datetime, zone: tzinfo | None) -> str:
    """``"11:00"`` on the same local day as ``day_of``, else ``"Tue 07:00"``; rounded to the
    quarter hour, since forecasts are no finer."""
    local = moment.astimezone(zone) if zone and moment.tzinfo else moment
    local += timedelta(minutes=7.5)
    local = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    ref = day_of.astimezone(zone) if zone and day_of.tzinfo else day_of
    return f"{local:%H:%M}" if local.date() == ref.date() else f"{local:%a %H:%M}"


def _same_day(a: datetime, b: datetime, zone: tzinfo | None) -> bool:
    def local(t: datetime) -> datetime:
        return t.astimezone(zone) if zone and t.tzinfo else t

    return local(a).date() == local(b).date()


def visit_words(
    fill_now_pct: float | None,
    fill_at_visit_pct: float | None,
    overflow_at: datetime | None,
    overflow_likely: bool,
    day_of: datetime,
    zone: tzinfo | None,
) -> str:
    """What a crew reads about a stop visited at ``day_of``: "full now", "will overflow about
    11:00" (that day; "could" when only the upper forecast gets there) or "about 60% by your
    visit" (a risk on a later day is the reason's to state, not the crew's to act on)."""
    if fill_now_pct is not None and fill_now_pct >= 100:
        return "full now"
    if overflow_at is not None and _same_day(overflow_at, day_of, zone):
        verb = "will" if overflow_likely else "could"
        return f"{verb} overflow about {clock(overflow_at, day_of, zone)}"
    if fill_at_visit_pct is not None:
        return f"{about_pct(fill_at_visit_pct)} by your visit"
    if fill_now_pct is not None:
        return f"{about_pct(fill_now_pct)} now"
    return "no reading yet"
