"""The shipped real towns: Oakham's extract is found beside the code and the simulated world
stands on its real streets."""

from collections import Counter
from pathlib import Path

from analytics.geo.roads import RoadNetwork
from simulators.towns import OAKHAM, load_roads
from simulators.world import build_world


def _street(network: RoadNetwork, lat: float, lon: float) -> str:
    """The name of the road edge nearest a point (flat distance to the edge's middle and ends)."""

    def distance(i: int) -> float:
        e = network.edges[i]
        pts = [network.point_along(e, f) for f in (0.0, 0.5, 1.0)]
        return min((p[0] - lat) ** 2 + ((p[1] - lon) * 0.61) ** 2 for p in pts)

    return network.edges[min(range(len(network.edges)), key=distance)].name


def test_oakham_is_shipped_beside_the_code() -> None:
    """The extract is package data found relative to the module, and reading it gives the
    town's named zones; another extract is read with the loader's defaults."""
    assert OAKHAM.path.is_file() and OAKHAM.path.parent.name == "towns"
    assert OAKHAM.path.stat().st_size < 300_000
    network = load_roads(OAKHAM.path)
    assert [z.name for z in network.zones] == ["market-place", "high-street", "station"]
    assert len(network.edges) > 1000


def test_oakham_world_stands_on_its_streets(tmp_path: Path) -> None:
    """Counters stand on the High Street and Market Place, spread over both zones; bins on
    named streets of Oakham; potholes about one per km of road; the same seed, the same world."""
    world = build_world("oak", seed=1, bins=40, counters=6, osm=OAKHAM.path)
    network = world.network
    for counter in world.town.counters:
        lat, lon = counter.device.lat, counter.device.lon
        assert _street(network, lat, lon) in ("High Street", "Market Place")
        assert counter.device.zone in ("high-street", "market-place")
    assert {c.device.zone for c in world.town.counters} == {"high-street", "market-place"}
    streets = Counter(_street(network, b.device.lat, b.device.lon) for b in world.town.bins)
    assert streets["High Street"] + streets["Market Place"] > 0
    assert len([s for s in streets if s]) >= 10
    km = sum(e.length_m for e in network.edges) / 1000
    potholes = sum(1 for f in world.features if f.kind == "pothole")
    assert 0.8 * km <= potholes <= 1.2 * km
    assert build_world("oak", seed=1, bins=40, counters=6, osm=OAKHAM.path) == world
