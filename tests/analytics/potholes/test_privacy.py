"""Phone privacy: trip ends stay on the phone, ids are stored only as rotating pseudonyms."""

import random
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from analytics.geo.geometry import haversine_m, moved
from ingest.contract.decode import Reading, decode
from ingest.db.pseudonyms import (
    PhonePseudonyms,
    distinct_phones,
    period_of,
    period_of_pseudonym,
    pseudonym,
)
from simulators.phones import RoadFeature, simulate_trip
from simulators.town import CENTRE

START = datetime(2026, 3, 2, 8, tzinfo=UTC)
ROUTE = [CENTRE, moved(*CENTRE, 800, 0), moved(*CENTRE, 800, 600)]  # 1.4 km
SPEEDS = [12.0, 9.0]


def _potholes(*east_m: float) -> list[RoadFeature]:
    return [
        RoadFeature(f"p{e:.0f}", "pothole", *moved(*CENTRE, e, 0.3), severity=1.0) for e in east_m
    ]


@pytest.mark.parametrize("seed", range(4))
def test_no_report_comes_from_the_first_or_last_200_m(seed: int) -> None:
    """Jolts in a trip's first or last 200 m are not sent; the truth marks their hits private."""
    road = _potholes(60, 120, 400, 700)
    trip = simulate_trip(ROUTE, SPEEDS, road, START, random.Random(seed))
    assert trip.hits
    for h in trip.hits:
        assert h.private == (h.feature_id in ("p60", "p120")), h
    for r in trip.reports:
        assert haversine_m(r.lat, r.lon, *ROUTE[0]) > 180
        assert haversine_m(r.lat, r.lon, *ROUTE[-1]) > 180
    shared = simulate_trip(ROUTE, SPEEDS, road, START, random.Random(seed), trip_margin_m=0)
    assert not any(h.private for h in shared.hits)


def test_with_nothing_held_back_the_first_potholes_are_reported() -> None:
    """The same trips with no margin report jolts from the first 200 m (a phone finds about
    half the potholes it hits, so over several trips, not necessarily in each)."""
    road = _potholes(60, 120, 400, 700)
    near_start = [
        r
        for seed in range(4)
        for r in simulate_trip(
            ROUTE, SPEEDS, road, START, random.Random(seed), trip_margin_m=0
        ).reports
        if haversine_m(r.lat, r.lon, *ROUTE[0]) < 180
    ]
    assert near_start


def test_coverage_track_leaves_out_the_trip_ends_and_follows_the_route() -> None:
    """The coverage track starts and ends about 200 m in, has a point every ~25 m and decodes."""
    trip = simulate_trip(ROUTE, SPEEDS, [], START, random.Random(3))
    cov = trip.coverage
    assert cov is not None
    first, last = cov.points[0], cov.points[-1]
    assert 180 <= haversine_m(*first, *ROUTE[0]) <= 260
    assert 180 <= haversine_m(*last, *ROUTE[-1]) <= 260
    gaps = [haversine_m(*a, *b) for a, b in zip(cov.points, cov.points[1:], strict=False)]
    assert 20 <= sum(gaps) / len(gaps) <= 30
    assert START < cov.ts_start < cov.ts_end < START + timedelta(seconds=trip.duration_s)
    body = cov.model_dump_json(exclude_none=True).encode()
    decoded = decode("ss", "ss/v1/t/coverage/phone-1", body, cov.ts_end)
    assert isinstance(decoded, Reading), decoded


def test_a_trip_shorter_than_both_margins_sends_nothing() -> None:
    """A 300 m trip lies wholly within 200 m of one end or the other: no report, no track."""
    short = [CENTRE, moved(*CENTRE, 300, 0)]
    trip = simulate_trip(short, [10.0], _potholes(100, 150, 200), START, random.Random(1))
    assert trip.reports == () and trip.coverage is None
    assert trip.hits and all(h.private for h in trip.hits)


def test_pseudonyms_are_stable_within_a_period_and_unlinkable_across() -> None:
    """Same phone and salt: same pseudonym; another period's salt: an unrelated one."""
    a, b = b"a" * 32, b"b" * 32
    assert pseudonym(a, 7, "c", "phone-1") == pseudonym(a, 7, "c", "phone-1")
    assert pseudonym(a, 7, "c", "phone-1") != pseudonym(a, 7, "c", "phone-2")
    assert pseudonym(a, 7, "c", "phone-1") != pseudonym(a, 7, "d", "phone-1")
    one, two = pseudonym(a, 7, "c", "phone-1"), pseudonym(b, 8, "c", "phone-1")
    assert one[3:] != two[3:] and "phone-1" not in one
    assert period_of_pseudonym(one) == "7" and period_of_pseudonym("phone-1") is None


def test_distinct_phones_never_counts_one_phone_twice() -> None:
    """Phones are counted within each salt period and the largest count is taken."""
    salts = {p: bytes([p]) * 32 for p in (1, 2, 3)}
    one_phone_three_periods = [pseudonym(salts[p], p, "c", "x") for p in (1, 2, 3)]
    assert distinct_phones(one_phone_three_periods) == 1
    three_in_one = [pseudonym(salts[2], 2, "c", f"x{i}") for i in range(3)]
    assert distinct_phones(three_in_one + one_phone_three_periods) == 4  # 3 + x, in period 2
    assert distinct_phones(["raw-1", "raw-2"]) == 2 and distinct_phones([]) == 0


def test_salts_are_shared_and_deleted_when_their_period_ends(
    conn: psycopg.Connection, uid: str
) -> None:
    """Two workers agree on a period's pseudonym; a past period's salt is gone once a new one
    is drawn, so its pseudonyms can no longer be recomputed."""
    now = datetime.now(UTC)
    past = now - timedelta(days=45)
    first, second = PhonePseudonyms(days=30), PhonePseudonyms(days=30)
    assert first(conn, "c", f"p-{uid}", now) == second(conn, "c", f"p-{uid}", now)
    before = first(conn, "c", f"p-{uid}", past)
    periods = {r[0] for r in conn.execute("SELECT period FROM phone_salt WHERE period_days = 30")}
    assert periods == {period_of(now, 30)}
    third = PhonePseudonyms(days=30)
    assert third(conn, "c", f"p-{uid}", past) != before
