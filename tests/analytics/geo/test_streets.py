"""Points named after the council's roads: the street, the nearest cross street, "near" when off
the road, nothing far from any road; checked on a small made-up crossroads and on the real
roads of Rutland's OpenStreetMap extract when it is at hand."""

import pytest

from analytics.geo.geometry import haversine_m, moved
from analytics.geo.streets import NEAR_STREET_M, NamedRoad, StreetNamer
from tests.conftest import shared_data

ORIGIN = (52.6700, -0.7300)


def _east(m: float, north: float = 0.0) -> tuple[float, float]:
    return moved(*ORIGIN, m, north)


# High Street runs west-east through ORIGIN; Church Street runs north from 150 m east of ORIGIN; an
# unnamed service road runs south from ORIGIN; Mill Lane runs parallel, 300 m north.
ROADS = [
    NamedRoad("High Street", "primary", (_east(-400), ORIGIN, _east(150), _east(600))),
    NamedRoad("Church Street", "residential", (_east(150), _east(150, 250))),
    NamedRoad("", "service", (ORIGIN, _east(0, -200))),
    NamedRoad("Mill Lane", "residential", (_east(-400, 300), _east(600, 300))),
]


def test_street_and_nearest_cross_street() -> None:
    namer = StreetNamer(ROADS)
    assert namer.describe(*_east(100, 8)) == "High Street, near Church Street"
    assert namer.describe(*_east(150, 120)) == "Church Street, near High Street"
    # Far from any junction: the street alone.
    assert namer.describe(*_east(-350, -5)) == "High Street"


def test_off_the_road_is_near_and_far_is_nothing() -> None:
    namer = StreetNamer(ROADS)
    place = namer.place(*_east(-300, -120))  # 120 m south of High Street, by the service road
    assert place is not None and not place.on_street
    assert str(place) == "near High Street"
    assert namer.place(*_east(0, -NEAR_STREET_M - 150)) is None
    # The unnamed road never names a point, however close.
    assert namer.describe(*_east(2, -190)) == "near High Street"


def test_nearest_of_two_parallel_streets() -> None:
    namer = StreetNamer(ROADS)
    assert namer.describe(*_east(-300, 280)) == "Mill Lane"
    assert namer.describe(*_east(-300, 20)) == "High Street"


def test_no_roads_names_nothing() -> None:
    assert StreetNamer([]).describe(*ORIGIN) is None


EXTRACT = shared_data("osm/rutland-latest.osm.pbf")


@pytest.mark.skipif(EXTRACT is None, reason="the Rutland extract is not at hand")
def test_real_roads_name_real_places() -> None:
    """On Oakham's real roads: a point on High Street by the Market Place is named High
    Street (with a real cross street), every bin-like point along named roads gets its own
    road's name, and naming is quick enough for a page."""
    from analytics.geo.osm import load_osm
    from analytics.potholes.coverage import segments_from_network

    assert EXTRACT is not None
    network = load_osm(EXTRACT, radius_m=2000)
    segments = segments_from_network(network)
    namer = StreetNamer(NamedRoad(s.name, s.road_class, s.points) for s in segments)
    named = [s for s in segments if s.name and s.length_m > 60]
    assert len(named) > 100
    wrong = []
    for s in named:
        (lat1, lon1), (lat2, lon2) = s.points[0], s.points[-1]
        mid = ((lat1 + lat2) / 2, (lon1 + lon2) / 2)
        if haversine_m(*mid, *s.points[len(s.points) // 2]) > 5:
            continue  # a bent segment: its chord's middle is off the road
        place = namer.place(*mid)
        if place is None or place.street != s.name:
            wrong.append((s.name, place))
    assert len(wrong) <= 0.03 * len(named), wrong[:10]
