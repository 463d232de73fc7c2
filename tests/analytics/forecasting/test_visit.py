"""The best time to visit today: the quietest stretch of open-ish hours, said plainly."""

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.forecasting.visit import VisitHour, VisitRules, best_time, hours_by_zone

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, tzinfo=LONDON)

# A shopping street's usual day: dead at night, a lunchtime peak, an afternoon tail.
SHOPS = {8: 60, 9: 200, 10: 300, 11: 400, 12: 500, 13: 500, 14: 450, 15: 300, 16: 250}
SHOPS |= {17: 160, 18: 150, 19: 80, 20: 40}


def shops(hour: int) -> float:
    return float(SHOPS.get(hour, 10))


def two_days(
    usual: Callable[[int], float],
    forecast: Callable[[int], float] | None = None,
    spread: float = 0.1,
    start: datetime = MONDAY,
) -> list[VisitHour]:
    """Today and tomorrow hour by hour, forecast ``forecast`` (else the usual) within
    ``spread`` of itself."""
    out = []
    for k in range(48):
        at = start + timedelta(hours=k)
        f = (forecast or usual)(k)
        out.append(VisitHour(at, f, f * (1 - spread), f * (1 + spread), usual(at.hour)))
    return out


def at(hour: int, minute: int = 20) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


def on_shops(k: int) -> float:
    return shops(k % 24)


@pytest.mark.parametrize(
    ("hour", "kind", "words", "start", "end"),
    [
        (3, "later", "Quieter after 17:00.", 17, 19),
        (9, "later", "Quieter after 17:00.", 17, 19),
        (16, "later", "Quieter after 17:00.", 17, 19),
        (
            18,
            "all day",
            "Much the same for the rest of today: no quieter time to wait for.",
            18,
            19,
        ),
        (21, "tomorrow", "Nothing more today; quietest tomorrow between 17:00 and 19:00.", 17, 19),
    ],
)
def test_quietest_stretch_of_a_shopping_day(
    hour: int, kind: str, words: str, start: int, end: int
) -> None:
    """The answer is the quietest open-ish stretch left today (the hours around it within its
    interval), never the small hours or the hour before the shops open; after hours it is
    tomorrow's."""
    advice = best_time(two_days(shops, on_shops), at(hour))
    assert (advice.kind, advice.sentence) == (kind, words)
    assert advice.best_from is not None and advice.best_until is not None
    assert (advice.best_from.hour, advice.best_until.hour) == (start, end)
    day = MONDAY.day + (kind == "tomorrow")
    assert advice.best_from.day == day and advice.best_from.tzinfo == LONDON


def test_never_recommends_dead_hours() -> None:
    """Hours outside the window, or usually under a quarter of the day's peak, are not
    recommended, however quiet their forecast."""
    advice = best_time(two_days(shops, on_shops), at(3))
    assert advice.best_from is not None and advice.best_from.hour >= 9
    assert advice.best_from.hour not in (8, 19, 20)
    narrow = best_time(two_days(shops, on_shops), at(3), VisitRules(opens=10, closes=16))
    assert narrow.sentence == "Quietest between 10:00 and 11:00."


def test_a_lull_between_busy_times() -> None:
    """A dip in the middle of the day is said as a stretch with its start and end."""
    busy = {10: 300, 11: 300, 12: 120, 13: 110, 14: 300, 15: 300, 16: 300}

    def usual(hour: int) -> float:
        return float(busy.get(hour, 300 if 9 <= hour <= 18 else 5))

    advice = best_time(two_days(usual, lambda k: usual(k % 24)), at(9, 45))
    assert advice.kind == "between"
    assert advice.sentence == "Quietest between 12:00 and 14:00."


def test_busy_all_afternoon_suggests_tomorrow() -> None:
    """When even the quietest hour left today is near the day's usual peak, tomorrow's quiet
    stretch is suggested instead."""

    def event(k: int) -> float:
        return 480.0 if k < 24 and 12 <= k < 20 else shops(k % 24)

    advice = best_time(two_days(shops, event), at(14))
    assert advice.kind == "tomorrow"
    assert advice.sentence == "Busy all afternoon; quieter tomorrow evening (17:00 to 19:00)."
    assert advice.best_from == MONDAY + timedelta(days=1, hours=17)


def test_quietest_now() -> None:
    """When the hours from now are the quietest left, the answer is now, until they end."""

    def usual(hour: int) -> float:
        return 300.0 if 8 <= hour < 20 else 5.0

    def lull(k: int) -> float:
        return {10: 100.0, 11: 105.0}.get(k, usual(k % 24))

    advice = best_time(two_days(usual, lull), at(10, 50))
    assert (advice.kind, advice.sentence) == ("now", "Quietest now, until 12:00.")


def test_no_quieter_time_when_the_day_is_flat_within_its_interval() -> None:
    """Hours that could well be as quiet as the quietest are not told apart: a flat day says
    so rather than naming one hour."""

    def flat(hour: int) -> float:
        return 100.0 if 8 <= hour < 20 else 5.0

    def wobble(k: int) -> float:
        return flat(k % 24) + (k % 3)

    advice = best_time(two_days(flat, wobble, spread=0.2), at(11))
    assert advice.kind == "all day"
    assert "no quieter time" in advice.sentence


def test_no_forecast_is_unknown_not_a_guess() -> None:
    """Without forecast hours (a broken counter's are withheld) the answer is unknown."""
    history_only = [
        VisitHour(h.start, None, None, None, h.usual) for h in two_days(shops, on_shops)
    ]
    for hours in ([], history_only):
        advice = best_time(hours, at(10))
        assert advice.kind == "unknown" and "no forecast" in advice.sentence
        assert advice.best_from is None and advice.best_until is None


def test_the_rest_of_today_only() -> None:
    """Past hours give the day's usual shape but are never recommended."""
    hours = two_days(shops, on_shops)
    advice = best_time(hours, at(13))
    assert advice.best_from is not None and advice.best_from >= at(13, 0)


def test_rows_are_read_in_local_time() -> None:
    """Database rows (UTC) become local hours per zone, so 08:00 means 08:00 in the town."""
    rows = [
        {"zone": "market", "ts": datetime(2026, 7, 1, 7, tzinfo=ZoneInfo("UTC"))}
        | {"forecast": 1.0, "lo80": 0.5, "hi80": 2.0, "usual": 1.0}
    ]
    (hour,) = hours_by_zone(rows, LONDON)["market"]
    assert hour.start.hour == 8 and hour.start.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("opens", 20), ("closes", 25), ("min_usual_share", 1.5), ("busy_share", 0.0)],
)
def test_rules_are_checked(field: str, value: float) -> None:
    """Rules out of range are refused on construction."""
    with pytest.raises(ValueError, match="Expected"):
        VisitRules(**{field: value})  # type: ignore[arg-type]
