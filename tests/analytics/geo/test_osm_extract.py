"""Cutting a town out of an OpenStreetMap extract, and reading its centre streets and named
zones (on the shipped extract of Oakham, so no shared data is needed)."""

from pathlib import Path

import osmium
import pytest

from analytics.geo.bbox import BBox, parse_bbox
from analytics.geo.geometry import haversine_m
from analytics.geo.osm import EXTRACT_TAGS, OsmError, extract_town, load_osm
from analytics.geo.roads import RoadClass
from tests.conftest import REPO

OAKHAM = REPO / "simulators" / "towns" / "oakham.osm.pbf"
CENTRE_BOX = parse_bbox("-0.7350,52.6660,-0.7200,52.6740")


def _inside(box: BBox, lat: float, lon: float) -> bool:
    return box.min_lon <= lon <= box.max_lon and box.min_lat <= lat <= box.max_lat


def test_extract_keeps_whole_roads_touching_the_box(tmp_path: Path) -> None:
    """The cut holds every drivable way with a node in the box, whole, with only the tags the
    loader reads, no editing metadata, and the source's replication timestamp."""
    out = tmp_path / "centre.osm.pbf"
    ways = extract_town(OAKHAM, out, CENTRE_BOX)
    assert ways > 50
    locations: dict[int, tuple[float, float]] = {}
    cut: list[tuple[set[str], list[int], str, int]] = []
    for obj in osmium.FileProcessor(str(out), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Node):
            locations[obj.id] = (obj.lat, obj.lon)
        elif isinstance(obj, osmium.osm.Way):
            refs = [nd.ref for nd in obj.nodes]
            cut.append(({k for k, _ in obj.tags}, refs, obj.user, obj.changeset))
    assert len(cut) == ways
    for keys, refs, user, changeset in cut:
        assert keys <= set(EXTRACT_TAGS) and user == "" and changeset == 0
        assert all(ref in locations for ref in refs)
        assert any(_inside(CENTRE_BOX, *locations[ref]) for ref in refs)
    reader = osmium.io.Reader(str(out), osmium.osm.osm_entity_bits.NOTHING)
    assert reader.header().get("osmosis_replication_timestamp") == "2022-07-20T20:21:45Z"
    reader.close()


def test_extract_is_reproducible(tmp_path: Path) -> None:
    """The same cut gives the same bytes."""
    a, b = tmp_path / "a.osm.pbf", tmp_path / "b.osm.pbf"
    extract_town(OAKHAM, a, CENTRE_BOX)
    extract_town(OAKHAM, b, CENTRE_BOX)
    assert a.read_bytes() == b.read_bytes()


def test_extract_of_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    """A source that is not an extract raises OsmError naming it."""
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(OsmError, match=r"bad\.osm\.pbf"):
        extract_town(bad, tmp_path / "out.osm.pbf", CENTRE_BOX)


def test_named_zones_are_boxes_around_their_streets() -> None:
    """Each named zone holds its streets' roads near the centre, the first zone wins where
    they overlap, and the named centre streets are the high-street class."""
    zones = (("market-place", ("Market Place",)), ("high-street", ("High Street",)))
    network = load_osm(OAKHAM, high_streets=("High Street", "Market Place"), zones=zones)
    assert [z.name for z in network.zones] == ["market-place", "high-street"]
    named = {e.name for e in network.edges_by_class(RoadClass.HIGH_STREET)}
    assert named == {"High Street", "Market Place"}
    for edge in network.edges:
        if edge.name in ("High Street", "Market Place"):
            lat, lon = network.point_along(edge, 0.5)
            assert network.zone_of(lat, lon) in ("market-place", "high-street")
    market = next(e for e in network.edges if e.name == "Market Place")
    assert network.zone_of(*network.point_along(market, 0.5)) == "market-place"
    far = max(network.nodes, key=lambda n: haversine_m(n.lat, n.lon, 52.6699, -0.7274))
    assert network.zone_of(far.lat, far.lon) is None


def test_a_zone_of_unknown_streets_is_a_clear_error() -> None:
    """A zone naming no street of the town raises OsmError naming the zone."""
    with pytest.raises(OsmError, match="nowhere"):
        load_osm(OAKHAM, zones=(("nowhere", ("Acacia Avenue",)),))
