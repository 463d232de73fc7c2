"""A real town's roads from the shared OpenStreetMap extract of Rutland."""

from pathlib import Path

import pytest

from analytics.geo.geometry import haversine_m
from analytics.geo.osm import OsmError, load_osm
from analytics.geo.roads import RoadClass
from simulators.world import build_world
from tests.conftest import shared_data

EXTRACT = shared_data("osm/rutland-latest.osm.pbf")
OAKHAM = (52.6697, -0.7269)

needs_extract = pytest.mark.skipif(EXTRACT is None, reason="needs the shared OpenStreetMap extract")


@needs_extract
def test_oakham_is_the_town() -> None:
    """The busiest High Street of the extract is Oakham's; the network around it is connected
    and has every kind of road a crew drives."""
    assert EXTRACT is not None
    network = load_osm(EXTRACT)
    zone = network.zones[0].polygon
    centre = ((zone[0][1] + zone[2][1]) / 2, (zone[0][0] + zone[2][0]) / 2)
    assert haversine_m(*centre, *OAKHAM) < 1000
    classes = {e.road_class for e in network.edges}
    assert {RoadClass.HIGH_STREET, RoadClass.PRIMARY, RoadClass.RESIDENTIAL} <= classes
    path = network.shortest_path(network.depot, len(network.nodes) - 1)
    assert path[0] == network.depot and path[-1] == len(network.nodes) - 1


@needs_extract
def test_world_on_osm_places_devices_on_its_streets() -> None:
    """Bins and counters of an OpenStreetMap world stand on its roads, counters in the zone."""
    assert EXTRACT is not None
    world = build_world("oak", seed=1, bins=50, counters=4, osm=EXTRACT)
    assert all(haversine_m(b.device.lat, b.device.lon, *OAKHAM) < 3500 for b in world.town.bins)
    assert {c.device.zone for c in world.town.counters} == {"town-centre"}


def test_unreadable_extract_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not an extract raises OsmError naming it."""
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(OsmError, match=r"bad\.osm\.pbf"):
        load_osm(bad)
