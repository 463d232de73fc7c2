"""Turn a count into levels residents understand: against what is usual for the hour of the
week (relative), and against the place's own busy hours (absolute, so that "busier than usual" at
6 a.m. does not read as crowded)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ingest.kernel.params import require, require_in

Level = Literal["quiet", "usual", "busy", "very busy", "unknown"]
Crowd = Literal["quiet", "moderate", "busy", "at its busiest", "unknown"]


@dataclass(frozen=True)
class LevelThresholds:
    """Ratios of now to usual that separate the levels.

    Parameters
    ----------
    quiet_below
        Below this ratio a zone is ``quiet``.
    busy_from
        From this ratio a zone is ``busy``.
    very_busy_from
        From this ratio a zone is ``very busy``.
    min_reporting_share
        Fewer reporting counters than this share of the zone's counters make the level
        ``unknown``: a partial picture is not a quiet street.
    """

    quiet_below: float = 0.7
    busy_from: float = 1.3
    very_busy_from: float = 1.8
    min_reporting_share: float = 0.5

    def __post_init__(self) -> None:
        ordered = 0 < self.quiet_below < 1 < self.busy_from < self.very_busy_from
        require(ordered, "Expected 0 < quiet_below < 1 < busy_from < very_busy_from.")
        require_in("min_reporting_share", self.min_reporting_share, 0, 1, lo_open=True)


def _not_reporting(
    count: int | None, reporting: int, total: int, min_reporting_share: float
) -> str | None:
    """Why the counters of a zone cannot say how busy it is now (always a reason when
    ``count`` is missing), or ``None`` if they can."""
    if total == 0:
        return "No people counters in this zone."
    if reporting == 0 or count is None:
        return "No counter in this zone has reported recently."
    if reporting < min_reporting_share * total:
        return f"Only {reporting} of {total} counters are reporting."
    return None


def busy_level(
    count: int | None,
    usual: float | None,
    reporting: int,
    total: int,
    thresholds: LevelThresholds = LevelThresholds(),
) -> tuple[Level, str]:
    """Return the level and a plain-language reason.

    Missing or partial data gives ``unknown``, never ``quiet``.
    """
    missing = _not_reporting(count, reporting, total, thresholds.min_reporting_share)
    if missing is not None or count is None:
        return "unknown", missing or ""
    if usual is None:
        return "unknown", "Not enough history yet to know what is usual at this time."
    if usual < 1:
        return (
            ("usual", "Usually empty at this time, and it is now.")
            if count == 0
            else ("busy", "Usually empty at this time, but people are about now.")
        )
    ratio = count / usual
    if ratio < thresholds.quiet_below:
        return "quiet", f"Quieter than usual for this time of the week ({ratio:.0%} of usual)."
    if ratio < thresholds.busy_from:
        return "usual", f"About as busy as usual for this time of the week ({ratio:.0%})."
    if ratio < thresholds.very_busy_from:
        return "busy", f"Busier than usual for this time of the week ({ratio:.0%} of usual)."
    return "very busy", f"Much busier than usual for this time of the week ({ratio:.0%} of usual)."


def zone_level(row: Mapping[str, Any]) -> tuple[Level, str]:
    """:func:`busy_level` of a zone row as ``zone_counts_now`` returns it."""
    return busy_level(
        row["count_last_hour"],
        row["usual_count"],
        row["counters_reporting"],
        row["counters_total"],
    )


@dataclass(frozen=True)
class CrowdThresholds:
    """Shares of a place's busy hour that separate its absolute levels.

    A place's busy hour is the ``peak_quantile`` of its hourly counts over the last four weeks
    (from the counters reporting now): the 90th percentile is about the top two or three hours
    of a typical day, so it tracks the place's ordinary daily peak rather than one record
    Saturday, and a counter glitch in a single hour cannot move it.

    Parameters
    ----------
    peak_quantile
        Quantile of the hourly counts that makes the place's busy hour.
    quiet_below
        Below this share of the busy hour the place is ``quiet`` (for itself): a third of a
        peak-hour crowd leaves plenty of room.
    busy_from
        From this share it is ``busy``: as many people as on most days' busiest hours.
    busiest_from
        From this share it is ``at its busiest``: more than its ordinary peak, the crowd of a
        Saturday afternoon or an event.
    min_history_hours
        Fewer counted hours than this (a week) give ``unknown``: not enough seen to know what
        busy means here.
    min_reporting_share
        As :class:`LevelThresholds`: a partial picture is not a quiet street.
    """

    peak_quantile: float = 0.9
    quiet_below: float = 0.35
    busy_from: float = 0.7
    busiest_from: float = 1.1
    min_history_hours: int = 168
    min_reporting_share: float = 0.5

    def __post_init__(self) -> None:
        require_in("peak_quantile", self.peak_quantile, 0.5, 1)
        ordered = 0 < self.quiet_below < self.busy_from < self.busiest_from
        require(ordered, "Expected 0 < quiet_below < busy_from < busiest_from.")
        require_in("min_history_hours", self.min_history_hours, 1, 24 * 28)
        require_in("min_reporting_share", self.min_reporting_share, 0, 1, lo_open=True)


@dataclass(frozen=True)
class Crowding:
    """How crowded a place is now in its own terms: the level, the hour's count as a share of
    the place's busy hour (``None`` when unknown), and a sentence residents can read."""

    level: Crowd
    share: float | None
    sentence: str


def crowd_level(
    count: int | None,
    peak: float | None,
    history_hours: int,
    reporting: int,
    total: int,
    thresholds: CrowdThresholds = CrowdThresholds(),
) -> Crowding:
    """How crowded a place is now against its own busy hour ``peak`` (the ``peak_quantile`` of
    ``history_hours`` hourly counts), whatever the time of day.

    Missing or partial data, or too little history, gives ``unknown``, never ``quiet``.
    """
    missing = _not_reporting(count, reporting, total, thresholds.min_reporting_share)
    if missing is not None or count is None:
        why = (missing or "").lower()
        return Crowding("unknown", None, f"We can't tell how crowded it is: {why}")
    if peak is None or peak < 1 or history_hours < thresholds.min_history_hours:
        return Crowding(
            "unknown", None, "We can't tell how crowded it is yet: too little history here."
        )
    share = count / peak
    # Rounded to tens: "about 30%" is what the figure can bear.
    about = f"about {max(round(share * 10) * 10, 10)}%" if count else "nobody counted, 0%"
    of_busy = f"{about} of the crowd at its busy times"
    if share < thresholds.quiet_below:
        return Crowding("quiet", share, f"Quiet for this place: {of_busy}.")
    if share < thresholds.busy_from:
        return Crowding("moderate", share, f"Moderately busy for this place: {of_busy}.")
    if share < thresholds.busiest_from:
        return Crowding("busy", share, "Busy: as crowded as it usually gets at its busy times.")
    return Crowding("at its busiest", share, f"At its busiest: {of_busy}.")


def zone_crowding(
    row: Mapping[str, Any], thresholds: CrowdThresholds = CrowdThresholds()
) -> Crowding:
    """:func:`crowd_level` of a ``zone_counts_now`` row joined with its ``zone_peaks`` row
    (``peak_count``, ``history_hours``; absent for a zone without history)."""
    return crowd_level(
        row["count_last_hour"],
        row.get("peak_count"),
        row.get("history_hours") or 0,
        row["counters_reporting"],
        row["counters_total"],
        thresholds,
    )


_PARTS = (
    (5, "early morning"),
    (8, "morning"),
    (12, "lunchtime"),
    (14, "afternoon"),
    (17, "evening"),
    (21, "night"),
)
_OPENERS: dict[str, str] = {
    "quiet": "Quieter than usual",
    "usual": "About as busy as usual",
    "busy": "Busier than usual",
    "very busy": "Much busier than usual",
}


def part_of_day(local: datetime) -> str:
    """'morning', 'lunchtime', … for a local time."""
    name = "night"
    for start, part in _PARTS:
        if local.hour >= start:
            name = part
    return name


def sentence(level: Level, local: datetime) -> str:
    """The level as residents would say it: "Busier than usual for a Saturday lunchtime"."""
    if level == "unknown":
        return "We can't tell how busy it is right now: not enough counters are reporting."
    part = part_of_day(local)
    # The small hours belong to the night before: 02:00 on Sunday is Saturday night.
    day = (local - timedelta(hours=5) if local.hour < 5 else local).strftime("%A")
    if part == "night":
        return f"{_OPENERS[level]} for a {day} night."
    return f"{_OPENERS[level]} for a {day} {part}."
