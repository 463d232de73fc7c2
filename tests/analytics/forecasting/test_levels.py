"""How crowded a place is in its own terms: the hour's count against its busy hour."""

import pytest

from analytics.forecasting.levels import (
    CrowdThresholds,
    busy_level,
    crowd_level,
    zone_crowding,
)

WEEKS = 24 * 28


@pytest.mark.parametrize(
    ("count", "level", "words"),
    [
        (0, "quiet", "Quiet for this place: nobody counted, 0% of the crowd at its busy times."),
        (60, "quiet", "Quiet for this place: about 20% of the crowd at its busy times."),
        (139, "quiet", "Quiet for this place: about 30% of the crowd at its busy times."),
        (
            140,
            "moderate",
            "Moderately busy for this place: about 40% of the crowd at its busy times.",
        ),
        (
            279,
            "moderate",
            "Moderately busy for this place: about 70% of the crowd at its busy times.",
        ),
        (280, "busy", "Busy: as crowded as it usually gets at its busy times."),
        (439, "busy", "Busy: as crowded as it usually gets at its busy times."),
        (440, "at its busiest", "At its busiest: about 110% of the crowd at its busy times."),
        (920, "at its busiest", "At its busiest: about 230% of the crowd at its busy times."),
    ],
)
def test_thresholds_are_shares_of_the_busy_hour(count: int, level: str, words: str) -> None:
    """Under 35% of the busy hour is quiet, under 70% moderate, under 110% busy, then at its
    busiest; the share is said to the nearest ten."""
    crowd = crowd_level(count, 400.0, WEEKS, 3, 3)
    assert (crowd.level, crowd.sentence) == (level, words)
    assert crowd.share == pytest.approx(count / 400)


def test_busier_than_usual_at_dawn_is_still_quiet() -> None:
    """Three times the usual 6 a.m. count is 'very busy' against usual, and still quiet for a
    place whose busy hours see 400 people."""
    assert busy_level(60, 20.0, 3, 3)[0] == "very busy"
    assert crowd_level(60, 400.0, WEEKS, 3, 3).level == "quiet"


@pytest.mark.parametrize(
    ("count", "peak", "hours", "reporting", "total", "why"),
    [
        (None, 400.0, WEEKS, 0, 3, "no counter in this zone has reported recently"),
        (50, 400.0, WEEKS, 1, 3, "only 1 of 3 counters are reporting"),
        (50, 400.0, WEEKS, 0, 0, "no people counters in this zone"),
        (50, 400.0, 100, 3, 3, "too little history"),
        (50, None, WEEKS, 3, 3, "too little history"),
        (50, 0.0, WEEKS, 3, 3, "too little history"),
    ],
)
def test_unknown_rather_than_quiet(
    count: int | None, peak: float | None, hours: int, reporting: int, total: int, why: str
) -> None:
    """Silent or partial counters, or too little history, give unknown, never quiet."""
    crowd = crowd_level(count, peak, hours, reporting, total)
    assert crowd.level == "unknown" and crowd.share is None and why in crowd.sentence


def test_zone_row_without_history_is_unknown() -> None:
    """A zone with counts now but no peak figures (no history) is unknown."""
    row = {"count_last_hour": 50, "counters_reporting": 1, "counters_total": 1}
    assert zone_crowding(row).level == "unknown"
    assert zone_crowding(row | {"peak_count": 100.0, "history_hours": WEEKS}).level == "moderate"


@pytest.mark.parametrize(
    "changes",
    [
        {"quiet_below": 0.8},
        {"busiest_from": 0.5},
        {"peak_quantile": 0.2},
        {"min_history_hours": 0},
        {"min_reporting_share": 0.0},
    ],
)
def test_thresholds_are_checked(changes: dict[str, float]) -> None:
    """Thresholds out of order or range are refused on construction."""
    with pytest.raises(ValueError, match="Expected"):
        CrowdThresholds(**changes)  # type: ignore[arg-type]
