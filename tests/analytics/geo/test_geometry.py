"""The geometry kernel: great-circle distances, flat offsets and the local projection."""

import math

import pytest

from analytics.geo.geometry import (
    EARTH_RADIUS_M,
    METRES_PER_DEGREE,
    LocalProjection,
    haversine_m,
    local_distance_m,
    metres_per_degree_lon,
    moved,
    offset_m,
)

DEGREE_SCALE = METRES_PER_DEGREE / (EARTH_RADIUS_M * math.pi / 180)
"""How much longer the flat projection's degree is than the haversine sphere's (about 0.11%)."""

POINTS = [(52.6369, -1.1398), (-33.8688, 151.2093), (0.0, 0.0), (64.1466, -21.9426)]
OFFSETS = [(0.0, 0.0), (25.0, 0.0), (0.0, -40.0), (-310.5, 1200.25), (1800.0, -2500.0)]


def test_haversine_lands_end_to_john_o_groats() -> None:
    """Land's End to John o' Groats is the published 968.9 km."""
    lands_end = (50 + 3 / 60 + 59 / 3600, -(5 + 42 / 60 + 53 / 3600))
    john_o_groats = (58 + 38 / 60 + 38 / 3600, -(3 + 4 / 60 + 12 / 3600))
    assert haversine_m(*lands_end, *john_o_groats) == pytest.approx(968_900, abs=100)


def test_haversine_quarter_meridian_and_symmetry() -> None:
    """Equator to pole is a quarter of the sphere's circumference, either way round."""
    quarter = math.pi * EARTH_RADIUS_M / 2
    assert haversine_m(0.0, 10.0, 90.0, 10.0) == pytest.approx(quarter, rel=1e-12)
    assert haversine_m(90.0, 10.0, 0.0, 10.0) == pytest.approx(quarter, rel=1e-12)
    assert haversine_m(52.6, -1.1, 52.6, -1.1) == 0.0


def test_a_degree_of_longitude_shrinks_with_latitude() -> None:
    """A degree of longitude is a full degree at the equator, half of one at 60°."""
    assert metres_per_degree_lon(0.0) == METRES_PER_DEGREE
    assert metres_per_degree_lon(60.0) == pytest.approx(METRES_PER_DEGREE / 2, rel=1e-12)


@pytest.mark.parametrize("origin", POINTS)
@pytest.mark.parametrize(("east", "north"), OFFSETS)
def test_offset_and_moved_round_trip(
    origin: tuple[float, float], east: float, north: float
) -> None:
    """Moving a point by (east, north) and measuring its offset gives (east, north) back."""
    lat, lon = moved(*origin, east, north)
    assert offset_m(*origin, lat, lon) == pytest.approx((east, north), abs=1e-6)
    assert moved(*origin, *offset_m(*origin, lat, lon)) == pytest.approx((lat, lon), abs=1e-12)


def test_offset_is_east_then_north() -> None:
    """A point north-east of the origin has a positive east and north offset, in that order."""
    east, north = offset_m(52.0, -1.0, 52.001, -0.998)
    assert north == pytest.approx(0.001 * METRES_PER_DEGREE)
    assert east == pytest.approx(0.002 * METRES_PER_DEGREE * math.cos(math.radians(52.0)))
    assert east > north > 0


@pytest.mark.parametrize("origin", POINTS)
@pytest.mark.parametrize(("east", "north"), OFFSETS[1:])
def test_local_distance_matches_haversine_at_street_scale(
    origin: tuple[float, float], east: float, north: float
) -> None:
    """Over a few km the flat distance is the haversine one on the same degree, to 3 mm."""
    lat, lon = moved(*origin, east, north)
    flat = local_distance_m(*origin, lat, lon)
    assert flat == pytest.approx(haversine_m(*origin, lat, lon) * DEGREE_SCALE, abs=0.003)
    assert flat == pytest.approx(math.hypot(east, north), rel=2e-3)
    assert local_distance_m(lat, lon, *origin) == pytest.approx(flat, abs=1e-9)


@pytest.mark.parametrize("origin", POINTS)
def test_local_projection_round_trip(origin: tuple[float, float]) -> None:
    """A projected point comes back to its latitude and longitude; x, y and x + iy agree."""
    projection = LocalProjection(origin[0])
    for east, north in OFFSETS:
        lat, lon = moved(*origin, east, north)
        x, y = projection.xy(lat, lon)
        assert projection.latlon(x, y) == pytest.approx((lat, lon), abs=1e-12)
        assert projection.complex(lat, lon) == complex(x, y)


def test_local_projection_measures_metres() -> None:
    """Differences of projected points are the offsets in metres from the projection's origin."""
    origin = (52.6369, -1.1398)
    projection = LocalProjection(origin[0])
    a = projection.complex(*origin)
    for east, north in OFFSETS:
        b = projection.complex(*moved(*origin, east, north))
        assert b - a == pytest.approx(complex(east, north), abs=1e-6)
