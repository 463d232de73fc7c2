"""Turn a count and its usual value into a level residents understand."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ingest.kernel.params import require, require_in

Level = Literal["quiet", "usual", "busy", "very busy", "unknown"]


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
    if total == 0:
        return "unknown", "No people counters in this zone."
    if reporting == 0 or count is None:
        return "unknown", "No counter in this zone has reported recently."
    if reporting < thresholds.min_reporting_share * total:
        return "unknown", f"Only {reporting} of {total} counters are reporting."
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
