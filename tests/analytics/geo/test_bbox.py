"""Bounding boxes: the one parser of ``min_lon,min_lat,max_lon,max_lat``, and widening."""

import pytest

from analytics.geo.bbox import WORLD, BBox, parse_bbox, widened
from analytics.geo.geometry import haversine_m


def test_parses_four_numbers_longitude_first() -> None:
    """The text's order is min lon, min lat, max lon, max lat; spaces around numbers are fine."""
    box = parse_bbox("-0.8, 52.6,-0.7,52.7")
    assert box == BBox(min_lon=-0.8, min_lat=52.6, max_lon=-0.7, max_lat=52.7)
    assert box == (-0.8, 52.6, -0.7, 52.7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3", "bbox must be min_lon,min_lat,max_lon,max_lat"),
        ("1,2,3,4,5", "bbox must be min_lon,min_lat,max_lon,max_lat"),
        ("a,b,c,d", "bbox values must be numbers"),
        ("1,2,,4", "bbox values must be numbers"),
        ("10,50,0,51", "min < max"),
        ("1,2,0,3", "min < max"),
        ("0,1,1,1", "min < max"),
        ("1,2,3,91", "latitudes in [-90, 90]"),
        ("-181,0,0,1", "longitudes in [-180, 180]"),
        ("nan,0,1,1", "min < max"),
    ],
)
def test_bad_text_raises_with_the_problem(text: str, message: str) -> None:
    """A malformed or impossible box raises ValueError whose message names the problem."""
    with pytest.raises(ValueError, match=r"^bbox ") as caught:
        parse_bbox(text)
    assert message in str(caught.value)


def test_widened_by_metres_on_every_side() -> None:
    """Widening moves each edge out by the margin, in metres on the ground."""
    box = BBox(-0.75, 52.66, -0.70, 52.68)
    wide = widened(box, 50.0)
    mid = (box.min_lat + box.max_lat) / 2
    assert haversine_m(box.min_lat, -0.7, wide.min_lat, -0.7) == pytest.approx(50.0, rel=0.01)
    assert haversine_m(wide.max_lat, -0.7, box.max_lat, -0.7) == pytest.approx(50.0, rel=0.01)
    assert haversine_m(mid, wide.min_lon, mid, box.min_lon) == pytest.approx(50.0, rel=0.01)
    assert haversine_m(mid, box.max_lon, mid, wide.max_lon) == pytest.approx(50.0, rel=0.01)


def test_widened_stays_within_the_world() -> None:
    """A box at the world's edge is clamped; near a pole the widening stays finite."""
    assert widened(BBox(-180.0, -90.0, 180.0, 90.0), 1000.0) == WORLD
    polar = widened(BBox(10.0, 89.99, 11.0, 90.0), 50.0)
    assert polar.max_lat == 90.0 and -180.0 <= polar.min_lon < 10.0
