"""The best time to visit a place today, from its forecast hours, said plainly.

Residents ask "when is it quieter?", not "what is the forecast at 15:00?". The answer is the
quietest stretch of the rest of today among the hours the place is open-ish: inside a local
window (08:00 to 20:00 by default) and usually at least a quarter as busy as the day's busiest
usual hour, so the quietest hour is never 3 a.m. or the hour before the shops open. A stretch is
the run of hours around the quietest one whose forecast is within that hour's 80% interval: those
hours could well be as quiet, so telling them apart would claim more than the forecast knows.
Without a forecast (a broken counter's is withheld) the answer is ``unknown``, never a guess.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal, Protocol

from analytics.forecasting.levels import part_of_day
from ingest.kernel.params import require, require_in

VisitKind = Literal["now", "later", "between", "all day", "tomorrow", "unknown"]
HOUR = timedelta(hours=1)


class ForecastHour(Protocol):
    """What :func:`best_time` reads of an hour (the page's chart points have it too)."""

    @property
    def start(self) -> datetime: ...
    @property
    def forecast(self) -> float | None: ...
    @property
    def lo80(self) -> float | None: ...
    @property
    def hi80(self) -> float | None: ...
    @property
    def usual(self) -> float | None: ...


@dataclass(frozen=True)
class VisitHour:
    """One local hour of a place: its forecast with the 80% interval, and its usual count; any
    value may be missing (past hours have no forecast)."""

    start: datetime  # local time, aware
    forecast: float | None
    lo80: float | None
    hi80: float | None
    usual: float | None


@dataclass(frozen=True)
class VisitRules:
    """Which hours may be recommended, and when a day counts as busy throughout.

    Parameters
    ----------
    opens
        First local hour that may be recommended.
    closes
        Recommended hours end by this local hour.
    min_usual_share
        An hour is recommended only if its usual count is at least this share of the day's
        busiest usual hour: the place is doing something then.
    busy_share
        When even the quietest hour left today is forecast at this share of the day's busiest
        usual hour or more, today is busy throughout and tomorrow is suggested instead.
    """

    opens: int = 8
    closes: int = 20
    min_usual_share: float = 0.25
    busy_share: float = 0.7

    def __post_init__(self) -> None:
        require(0 <= self.opens < self.closes <= 24, "Expected 0 <= opens < closes <= 24.")
        require_in("min_usual_share", self.min_usual_share, 0, 1)
        require_in("busy_share", self.busy_share, 0, 1, lo_open=True)


@dataclass(frozen=True)
class VisitAdvice:
    """The best time to visit: its kind, a sentence, and the stretch in local time (both
    ``None`` when unknown)."""

    kind: VisitKind
    sentence: str
    best_from: datetime | None
    best_until: datetime | None


def _day_peak(day: Sequence[VisitHour]) -> float | None:
    usual = [h.usual for h in day if h.usual is not None]
    return max(usual) if usual else None


def _open_hours(day: Sequence[VisitHour], rules: VisitRules) -> list[VisitHour]:
    """The hours of one day that may be recommended, with a forecast."""
    peak = _day_peak(day)
    floor = 0.0 if peak is None else rules.min_usual_share * peak
    return [
        h
        for h in day
        if rules.opens <= h.start.hour < rules.closes
        and h.forecast is not None
        and (h.usual is None or h.usual >= floor)
    ]


def _stretch(hours: Sequence[VisitHour]) -> list[VisitHour]:
    """The run of consecutive hours around the quietest one that could well be as quiet."""
    quietest = min(range(len(hours)), key=lambda i: (hours[i].forecast or 0.0, i))
    least = hours[quietest].forecast or 0.0
    limit = max(least, hours[quietest].hi80 or least)

    def joins(i: int, j: int) -> bool:
        """Hour ``j`` is next to ``i`` in time and within the limit."""
        apart = abs(hours[j].start.timestamp() - hours[i].start.timestamp())
        return apart == HOUR.total_seconds() and (hours[j].forecast or 0.0) <= limit

    lo = hi = quietest
    while lo > 0 and joins(lo, lo - 1):
        lo -= 1
    while hi < len(hours) - 1 and joins(hi, hi + 1):
        hi += 1
    return list(hours[lo : hi + 1])


def _clock(at: datetime) -> str:
    return f"{at:%H:%M}"


def _rest_of(now: datetime) -> str:
    """'all day', 'all afternoon' or 'all evening': what is left of today at ``now``."""
    if now.hour < 12:
        return "all day"
    return "all afternoon" if now.hour < 17 else "all evening"


def _least(hours: Sequence[VisitHour]) -> float:
    return min(h.forecast or 0.0 for h in hours)


def _tomorrow(
    hours: Sequence[VisitHour], today: date, rules: VisitRules
) -> tuple[list[VisitHour], bool]:
    """Tomorrow's quietest stretch (nothing without tomorrow's forecast), and whether it takes
    all of tomorrow's open hours."""
    day = [h for h in hours if h.start.date() == today + timedelta(days=1)]
    candidates = _open_hours(day, rules)
    best = _stretch(candidates) if candidates else []
    return best, len(best) == len(candidates)


def _tomorrow_words(best: Sequence[VisitHour], whole: bool) -> str:
    start, end = _clock(best[0].start), _clock(best[-1].start + HOUR)
    if whole:
        return f"much the same tomorrow from {start} to {end}"
    return f"quietest tomorrow between {start} and {end}"


def hours_by_zone(rows: Iterable[Mapping[str, Any]], tz: tzinfo) -> dict[str, list[VisitHour]]:
    """Each zone's hours in local time from rows with ``zone``, ``ts`` (aware), ``forecast``,
    ``lo80``, ``hi80`` and ``usual`` (as the API's ``zone_day_hours`` returns them)."""
    by_zone: dict[str, list[VisitHour]] = defaultdict(list)
    for r in rows:
        by_zone[r["zone"]].append(
            VisitHour(r["ts"].astimezone(tz), r["forecast"], r["lo80"], r["hi80"], r["usual"])
        )
    return dict(by_zone)


def best_time(
    hours: Iterable[ForecastHour], now: datetime, rules: VisitRules = VisitRules()
) -> VisitAdvice:
    """The best time to visit a place for the rest of today.

    Parameters
    ----------
    hours
        The place's hours of today (past ones may come without a forecast: they still give
        the day's usual shape) and of tomorrow, in local time.
    now
        Now, in the same local time.
    rules
        Which hours may be recommended (see :class:`VisitRules`).

    Returns
    -------
    VisitAdvice
        ``now`` (quietest from this hour on), ``later`` (quieter from a time until closing),
        ``between`` (a stretch), ``all day`` (no quieter time left), ``tomorrow`` (today busy
        throughout or over) or ``unknown`` (no forecast).
    """
    tz = now.tzinfo
    ordered = sorted(
        (VisitHour(h.start.astimezone(tz), h.forecast, h.lo80, h.hi80, h.usual) for h in hours),
        key=lambda h: h.start.timestamp(),
    )
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    if not any(h.forecast is not None and h.start >= this_hour for h in ordered):
        return VisitAdvice(
            "unknown",
            "We can't suggest a time: there is no forecast for this place now "
            "(a counter may be out of order).",
            None,
            None,
        )
    today = [h for h in ordered if h.start.date() == now.date()]
    left = [h for h in _open_hours(today, rules) if h.start >= this_hour]
    tomorrow, whole = _tomorrow(ordered, now.date(), rules)
    if not left:
        if not tomorrow:
            return VisitAdvice(
                "unknown", "No forecast for the rest of today's opening hours.", None, None
            )
        words = _tomorrow_words(tomorrow, whole)
        return VisitAdvice(
            "tomorrow",
            f"Nothing more today; {words}.",
            tomorrow[0].start,
            tomorrow[-1].start + HOUR,
        )
    best = _stretch(left)
    start, end = best[0].start, best[-1].start + HOUR
    peak = _day_peak(today)
    # Busy throughout only if the place usually has a quieter time today: a place that is
    # always about as busy is not busy all day, it is the same all day.
    busy = peak is not None and _least(best) >= rules.busy_share * peak
    if busy and any(
        h.usual is not None and h.usual < rules.busy_share * (peak or 0.0)
        for h in _open_hours(today, rules)
    ):
        if tomorrow and _least(tomorrow) < _least(best):
            start, end = tomorrow[0].start, tomorrow[-1].start + HOUR
            return VisitAdvice(
                "tomorrow",
                f"Busy {_rest_of(now)}; quieter tomorrow {part_of_day(start)} "
                f"({_clock(start)} to {_clock(end)}).",
                start,
                end,
            )
        if len(best) == len(left):
            return VisitAdvice("all day", f"Busy {_rest_of(now)}.", start, end)
    if len(best) == len(left):
        return VisitAdvice(
            "all day",
            "Much the same for the rest of today: no quieter time to wait for.",
            start,
            end,
        )
    if start <= this_hour:
        return VisitAdvice("now", f"Quietest now, until {_clock(end)}.", start, end)
    if best[-1] is left[-1]:
        return VisitAdvice("later", f"Quieter after {_clock(start)}.", start, end)
    return VisitAdvice(
        "between", f"Quietest between {_clock(start)} and {_clock(end)}.", start, end
    )
