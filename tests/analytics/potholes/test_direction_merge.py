"""One pothole is one pothole: clusters of both directions of travel over one spot merge, on
one road where the roads are known, and stored potholes keep one id across refreshes."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from analytics.geo.geometry import moved
from analytics.potholes.confirm import (
    ConfirmParams,
    DeviceReport,
    cluster_reports,
    confirm,
    group_reports,
)
from analytics.potholes.coverage import Segment
from analytics.potholes.coverage_store import store_segments
from analytics.potholes.merge import RoadLookup
from analytics.potholes.store import refresh_potholes
from ingest.contract.payloads import BumpReport
from tests.potholes_data import LAT as STORE_LAT
from tests.potholes_data import LON as STORE_LON
from tests.potholes_data import insert_bumps

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
LAT, LON = 51.5, -0.1
JOLT = [0.0, 0.05, -0.1, -1.4, 1.6, -0.6, 0.2, 0.05, 0.0, 0.0, 0.0]
NOW = datetime.now(UTC).replace(microsecond=0)


def _at(east_m: float, north_m: float, lat: float = LAT, lon: float = LON) -> tuple[float, float]:
    return moved(lat, lon, east_m, north_m)


def _passes(
    tag: str, east_m: float, north_m: float, heading: float, phones: int = 3
) -> list[DeviceReport]:
    """``phones`` distinct phones' jolts at one point, driving at ``heading``."""
    lat, lon = _at(east_m, north_m)
    return [
        DeviceReport(
            f"{tag}-{n}",
            BumpReport(
                ts=T0 + timedelta(minutes=n),
                lat=lat,
                lon=lon,
                speed_mps=10.0,
                peak_z_g=1.6,
                accuracy_m=4.0,
                heading_deg=heading,
                sample_hz=20.0,
                samples_z_g=JOLT,
            ),
        )
        for n in range(phones)
    ]


def _road(name: str, *points: tuple[float, float]) -> Segment:
    return Segment(name, name, "residential", tuple(_at(e, n) for e, n in points))


# An east-west street through the origin, cut in two at x = 1 m (a cut as a long road has);
# a parallel street 8 m north; a side street from a T junction at x = 10 m going north.
MAIN_WEST = _road("main-w", (-200, 0), (1, 0))
MAIN_EAST = _road("main-e", (1, 0), (200, 0))
PARALLEL = _road("parallel", (-200, 8), (200, 8))
SIDE = _road("side", (10, 0), (10, 200))


def test_both_directions_over_one_spot_are_one_pothole() -> None:
    """Eastbound and westbound clusters 4 m apart are one pothole with both headings' evidence."""
    east = _passes("east", -1.0, -1.5, 90.0)  # each direction's jolt lands a little past it
    west = _passes("west", 3.0, 1.5, 270.0)
    reports = east + west
    assert len(cluster_reports(reports)) == 2  # the clustering alone keeps directions apart
    (alone,) = confirm(east)
    (pothole,) = confirm(reports)
    assert (pothole.reports, pothole.devices, pothole.state) == (6, 6, "confirmed")
    assert pothole.heading_deg is None  # seen both ways, no direction is its own
    assert pothole.confidence > alone.confidence
    assert len(confirm(reports, params=ConfirmParams(merge_m=0))) == 2  # the setting turns it off


def test_two_potholes_20_m_apart_on_one_road_stay_two() -> None:
    """Two potholes 20 m apart, each seen both ways, are two potholes of six reports each."""
    reports = _passes("a-e", 0.0, -1.0, 90.0) + _passes("a-w", 3.0, 1.0, 270.0)
    reports += _passes("b-e", 20.0, -1.0, 90.0) + _passes("b-w", 23.0, 1.0, 270.0)
    potholes = confirm(reports, roads=RoadLookup([MAIN_WEST, MAIN_EAST, PARALLEL, SIDE]))
    assert [p.reports for p in potholes] == [6, 6]


@pytest.mark.parametrize(
    ("first", "second", "with_roads", "without_roads"),
    [
        ((0.0, 0.5, 90.0), (0.0, 7.5, 270.0), 2, 1),  # Main Street and the parallel street
        ((5.0, -0.5, 90.0), (10.5, 5.5, 180.0), 2, 1),  # Main Street and the side street
        ((-2.0, -1.0, 90.0), (4.0, 1.0, 270.0), 1, 1),  # one spot of Main Street, across its cut
    ],
)
def test_roads_keep_nearby_potholes_of_other_roads_apart(
    first: tuple[float, float, float],
    second: tuple[float, float, float],
    with_roads: int,
    without_roads: int,
) -> None:
    """Close clusters on two different roads stay apart when the roads are known."""
    reports = _passes("one", *first) + _passes("two", *second)
    roads = RoadLookup([MAIN_WEST, MAIN_EAST, PARALLEL, SIDE])
    assert len(group_reports(reports, roads=roads)) == with_roads
    assert len(group_reports(reports)) == without_roads


def test_far_from_any_known_road_merges_by_distance() -> None:
    """A spot no known road reaches (a car park) merges by distance alone."""
    reports = _passes("one", 0.0, 60.0, 90.0) + _passes("two", 4.0, 61.0, 270.0)
    assert len(group_reports(reports, roads=RoadLookup([MAIN_WEST, MAIN_EAST]))) == 1


def _stored(conn: psycopg.Connection, council: str) -> list[tuple[int, str, int, int | None]]:
    return conn.execute(
        "SELECT pothole_id, state, devices, duplicate_of FROM pothole WHERE council = %s "
        "ORDER BY pothole_id",
        (council,),
    ).fetchall()


def test_stored_per_direction_potholes_merge_into_the_oldest(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """Two stored potholes of one spot (one per direction) become one: the older keeps its id,
    the newer is its duplicate, and later refreshes change nothing."""
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=2))
    insert_bumps(
        conn,
        council,
        [f"q{i}-{uid}" for i in range(3)],
        NOW - timedelta(hours=1),
        east_m=4.0,
        heading=270.0,
    )
    apart = refresh_potholes(conn, council, now=NOW, params=ConfirmParams(merge_m=0))
    assert apart["inserted"] == 2
    (older, _, _, _), (newer, _, _, _) = _stored(conn, council)
    counts = refresh_potholes(conn, council, now=NOW)
    assert (counts["clusters"], counts["inserted"], counts["merged"]) == (1, 0, 1)
    merged = [(older, "confirmed", 6, None), (newer, "duplicate", 3, older)]
    assert _stored(conn, council) == merged
    again = refresh_potholes(conn, council, now=NOW)
    assert (again["inserted"], again["updated"], again["changed"], again["merged"]) == (0, 1, 0, 0)
    assert _stored(conn, council) == merged


def test_stored_roads_keep_parallel_streets_apart(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """With the council's roads imported, potholes 8 m apart on two streets are two."""
    ends = ((-100.0, STORE_LAT, STORE_LON), (100.0, STORE_LAT, STORE_LON))
    streets = [
        Segment(name, name, "residential", tuple(_at(east, north, *at) for north, *at in ends))
        for name, east in (("west", 0.0), ("east", 8.0))
    ]
    store_segments(conn, council, streets)
    insert_bumps(
        conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1), heading=0.0
    )
    insert_bumps(
        conn,
        council,
        [f"q{i}-{uid}" for i in range(3)],
        NOW - timedelta(hours=1),
        east_m=8.0,
        heading=180.0,
    )
    assert refresh_potholes(conn, council, now=NOW)["inserted"] == 2
