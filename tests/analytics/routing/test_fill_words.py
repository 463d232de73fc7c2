"""Fills in words: no crew ever reads a fill over 100%; the risk of overflowing is a time."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.routing.fill_words import about_pct, clock, first_reaching, visit_words
from tests.analytics.routing.test_plan import NEXT, START, _bin, _plan

LONDON = ZoneInfo("Europe/London")
DAY = datetime(2026, 10, 13, 7, 0, tzinfo=LONDON)
_OVER_100 = re.compile(r"\b(1\d\d|[2-9]\d\d|\d{4,})(\.\d+)?%")


def test_words_for_each_case() -> None:
    at_11 = DAY.replace(hour=11, minute=4)
    assert visit_words(130.0, 150.0, DAY, True, DAY, LONDON) == "full now"
    assert visit_words(70.0, 90.0, at_11, True, DAY, LONDON) == "will overflow about 11:00"
    assert visit_words(70.0, 90.0, at_11, False, DAY, LONDON) == "could overflow about 11:00"
    tomorrow = at_11 + timedelta(days=1)
    # A risk on a later day is not the crew's today: the fill by their visit is.
    assert visit_words(70.0, 90.0, tomorrow, False, DAY, LONDON) == "about 90% by your visit"
    assert visit_words(40.0, 61.0, None, False, DAY, LONDON) == "about 60% by your visit"
    assert visit_words(40.0, None, None, False, DAY, LONDON) == "about 40% now"
    assert visit_words(None, None, None, False, DAY, LONDON) == "no reading yet"
    assert about_pct(289.0) == "full" and about_pct(-3.0) == "about 0%"


def test_clock_rounds_to_the_quarter_hour_in_local_time() -> None:
    assert clock(datetime(2026, 10, 13, 9, 53, tzinfo=UTC), DAY, LONDON) == "11:00"
    assert clock(datetime(2026, 10, 13, 9, 52, tzinfo=UTC), DAY, LONDON) == "10:45"


@pytest.mark.parametrize("rate", [0.5, 2.0, 7.0])
def test_first_reaching_finds_the_crossing(rate: float) -> None:
    start = DAY.astimezone(UTC)
    end = start + timedelta(days=2)

    def fill(t: datetime) -> float:
        return 20 + rate * (t - start).total_seconds() / 3600

    found = first_reaching(fill, 100.0, start, end)
    expected = start + timedelta(hours=80 / rate)
    if expected > end:
        assert found is None
    else:
        assert found is not None and timedelta(0) <= found - expected <= timedelta(minutes=15)


def test_a_plan_never_shows_a_fill_over_100() -> None:
    """Bins filling far past full before the next collection: every stop's reason and words
    stay within 100%, and the overflowing ones say when."""
    bins = [
        _bin("full", 99, 6.0, 100, 0, silent_h=6),  # past full before the shift
        _bin("racing", 60, 9.0, 300, 100),  # overflows mid-shift
        _bin("steady", 50, 1.2, -200, 50),
    ]
    plan = _plan(bins)
    stops = {s.device_id: s for r in plan.routes for s in r.stops}
    assert {"full", "racing"} <= stops.keys()
    for s in [*stops.values(), *plan.skipped]:
        assert not _OVER_100.search(s.reason), s.reason
    full = stops["full"]
    assert full.fill_now_pct is not None and full.fill_now_pct > 100  # the model's own figure
    assert full.reason.startswith("full now")
    racing = stops["racing"]
    assert racing.overflow_at is not None and START <= racing.overflow_at <= NEXT
    words = visit_words(
        racing.fill_now_pct,
        racing.fill_at_visit_pct,
        racing.overflow_at,
        racing.overflow_likely,
        racing.arrival,
        LONDON,
    )
    assert re.fullmatch(r"(will|could) overflow about \d\d:\d\d|full now", words), words
    for s in stops.values():
        assert s.fill_at_visit_pct is None or 0 <= s.fill_at_visit_pct <= 100
