"""Road coverage: segments from a network or GeoJSON, and passes matched from trip tracks."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from analytics.geo.geometry import haversine_m, moved
from analytics.potholes.coverage import (
    CoverageParams,
    Segment,
    Track,
    match_passes,
    segments_from_geojson,
    segments_from_network,
)
from simulators.roadgen import generate_town
from simulators.town import CENTRE

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _line(north_m: float, east_from: float, east_to: float, step: float = 25.0) -> tuple:
    n = int(abs(east_to - east_from) // step) + 1
    return tuple(
        moved(*CENTRE, east_from + (east_to - east_from) * k / (n - 1), north_m) for k in range(n)
    )


def _track(device: str, points: tuple, minute: int = 0) -> Track:
    start = T0 + timedelta(minutes=minute)
    return Track(device, start, start + timedelta(minutes=5), points)


MAIN = Segment("main", "Main Street", "primary", _line(0, 0, 200, 200))
PARALLEL = Segment("back", "Back Lane", "residential", _line(60, 0, 200, 200))
CROSS = Segment(
    "cross",
    "Cross Road",
    "residential",
    (moved(*CENTRE, 100, -100), moved(*CENTRE, 100, 100)),
)


def test_a_track_along_a_road_passes_it_and_not_its_neighbours() -> None:
    """Driving Main Street passes it, not the lane 60 m away nor the road it crosses."""
    found = match_passes([MAIN, PARALLEL, CROSS], [_track("p1-aa", _line(3, -50, 250))])
    assert {c.segment_id: c.passes for c in found} == {"main": 1, "back": 0, "cross": 0}


def test_a_track_covering_less_than_half_a_segment_is_no_pass() -> None:
    """Touching the first 60 m of a 200 m segment is not a pass; 140 m of it is."""
    short, long_ = _track("a", _line(0, -40, 60)), _track("b", _line(0, -40, 140))
    found = match_passes([MAIN], [short, long_])
    assert found[0].passes == 1 and found[0].last_pass == long_.ts_end


def test_gps_noise_within_the_radius_still_matches() -> None:
    """Points up to 12 m off the centre line (GPS error) still count; 30 m off do not."""
    near = _track("a", _line(12, 0, 200))
    far = _track("b", _line(30, 0, 200))
    assert match_passes([MAIN], [near, far])[0].passes == 1


def test_phones_are_counted_per_salt_period() -> None:
    """Passes count every track; phones count pseudonyms of one period at most."""
    tracks = [
        _track(d, _line(0, 0, 200), i)
        for i, d in enumerate(
            [
                "p5-aaaaaaaaaaaaaaaa",
                "p5-aaaaaaaaaaaaaaaa",
                "p5-bbbbbbbbbbbbbbbb",
                "p6-cccccccccccccccc",
            ]
        )
    ]
    c = match_passes([MAIN], tracks)[0]
    assert (c.passes, c.phones) == (4, 2)


def test_a_gap_in_the_track_is_not_drawn_straight() -> None:
    """Two points 300 m apart are a gap, so the road between them is not passed."""
    gap = _track("a", (moved(*CENTRE, -50, 0), moved(*CENTRE, 250, 0)))
    assert match_passes([MAIN], [gap])[0].passes == 0


def test_network_segments_cover_every_edge_once() -> None:
    """Segments of a generated town add up to its road length and none is over the limit."""
    net = generate_town(seed=3)
    segs = segments_from_network(net, max_length_m=200)
    total = sum(e.length_m for e in net.edges)
    assert sum(s.length_m for s in segs) == pytest.approx(total, rel=1e-6)
    assert len({s.segment_id for s in segs}) == len(segs)
    longest_edge = max(e.length_m for e in net.edges)
    assert max(s.length_m for s in segs) <= max(200, longest_edge) + 1e-6


def test_geojson_lines_are_cut_into_segments() -> None:
    """A 1 km LineString becomes pieces of at most 200 m with its name kept."""
    line = _line(0, 0, 1000, 50)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Long Road", "highway": "primary"},
                "geometry": {"type": "LineString", "coordinates": [[lo, la] for la, lo in line]},
            }
        ],
    }
    segs = segments_from_geojson(doc)
    assert len(segs) == 5 and {s.name for s in segs} == {"Long Road"}
    assert all(s.length_m <= 200 + 1 for s in segs)
    assert sum(s.length_m for s in segs) == pytest.approx(
        sum(haversine_m(*a, *b) for a, b in itertools.pairwise(line))
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        (
            {"type": "FeatureCollection", "features": [{"geometry": {"type": "Point"}}]},
            "feature 1: expected a LineString",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {"geometry": {"type": "LineString", "coordinates": [[0, 95], [0, 1]]}}
                ],
            },
            "feature 1: a line needs",
        ),
    ],
)
def test_bad_geojson_names_the_feature(doc: dict, message: str) -> None:
    """Bad road files are refused with the feature at fault."""
    with pytest.raises(ValueError, match=message):
        segments_from_geojson(doc)


def test_parameters_are_checked() -> None:
    """Out-of-range matching parameters are refused on construction."""
    with pytest.raises(ValueError, match="match_radius_m"):
        CoverageParams(match_radius_m=0)
