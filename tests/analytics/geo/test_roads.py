"""The generated road network: reproducible, connected, routable, and placed where it should be."""

import itertools
import json
import math
import random
from collections import deque

import pytest

from analytics.geo.geometry import haversine_m, offset_m
from analytics.geo.roads import RoadClass, RoadNetwork
from simulators.features import RoadFeature, place_features
from simulators.roadgen import TownParams, generate_town

SMALL = TownParams(grid=3, block_m=150, ring_radius_m=900, high_street_length_m=400, zones=("a",))
LONG_HIGH_STREET = TownParams(grid=2, high_street_length_m=1500)
SHAPES = [TownParams(), SMALL, LONG_HIGH_STREET]


@pytest.fixture(scope="module")
def town() -> RoadNetwork:
    return generate_town(seed=1)


def geojson_text(network: RoadNetwork) -> str:
    return json.dumps(network.to_geojson(), sort_keys=True)


def path_length_m(network: RoadNetwork, path: list[int]) -> float:
    return sum(network.edge_between(a, b).length_m for a, b in itertools.pairwise(path))


def distance_to_edges_m(network: RoadNetwork, lat: float, lon: float) -> float:
    """Shortest distance from a point to any edge, in a flat projection around the point."""

    def xy(node: int) -> tuple[float, float]:
        n = network.nodes[node]
        return offset_m(lat, lon, n.lat, n.lon)

    best = math.inf
    for e in network.edges:
        (ax, ay), (bx, by) = xy(e.u), xy(e.v)
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, -(ax * dx + ay * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def edge_classes_near(network: RoadNetwork, feature: RoadFeature) -> set[RoadClass]:
    """Road classes of the edges passing within a metre of a feature."""
    classes = set()
    for e in network.edges:
        alone = RoadNetwork(network.nodes, (e,), network.depot)
        if distance_to_edges_m(alone, feature.lat, feature.lon) < 1.0:
            classes.add(e.road_class)
    return classes


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_same_seed_same_network(seed: int) -> None:
    """The same seed gives an equal network and byte-identical GeoJSON."""
    a, b = generate_town(seed=seed), generate_town(seed=seed)
    assert a == b
    assert geojson_text(a) == geojson_text(b)


@pytest.mark.parametrize(("seed_a", "seed_b"), [(1, 2), (7, 8), (1, 1001)])
def test_different_seeds_differ(seed_a: int, seed_b: int) -> None:
    """Different seeds give different networks."""
    assert geojson_text(generate_town(seed=seed_a)) != geojson_text(generate_town(seed=seed_b))


@pytest.mark.parametrize("params", SHAPES)
@pytest.mark.parametrize("seed", range(1, 9))
def test_every_node_reachable_from_depot(params: TownParams, seed: int) -> None:
    """Despite the removed residential streets, every node can be reached from the depot."""
    network = generate_town(params, seed=seed)
    seen, queue = {network.depot}, deque([network.depot])
    while queue:
        for m in network.neighbours(queue.popleft()):
            if m not in seen:
                seen.add(m)
                queue.append(m)
    assert len(seen) == len(network.nodes)


def test_grid_has_streets_removed(town: RoadNetwork) -> None:
    """Some junctions inside the grid are T-junctions or dead ends, so it is not a perfect grid."""
    degrees = [len(town.neighbours(n.node_id)) for n in town.nodes]
    assert sum(d < 4 for d in degrees) > 0.2 * len(degrees)
    assert max(degrees) <= 5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shortest_path_is_a_valid_route(town: RoadNetwork, seed: int) -> None:
    """Paths run between the requested nodes over real edges; their time matches the speeds."""
    rng = random.Random(seed)
    for _ in range(20):
        a, b = rng.randrange(len(town.nodes)), rng.randrange(len(town.nodes))
        path = town.shortest_path(a, b)
        assert (path[0], path[-1]) == (a, b)
        assert len(set(path)) == len(path)
        for p, q in itertools.pairwise(path):
            assert q in town.neighbours(p)
        legs = [town.edge_between(p, q).length_m for p, q in itertools.pairwise(path)]
        expected = sum(m / v for m, v in zip(legs, town.leg_speeds(path), strict=True))
        assert town.travel_time_s(a, b) == pytest.approx(expected)
        assert len(town.route_points(path)) == len(path)


def test_shortest_path_is_fastest(town: RoadNetwork) -> None:
    """Travel times obey the triangle inequality, and a node to itself takes no time."""
    rng = random.Random(5)
    for _ in range(30):
        a, b, c = (rng.randrange(len(town.nodes)) for _ in range(3))
        assert (
            town.travel_time_s(a, c) <= town.travel_time_s(a, b) + town.travel_time_s(b, c) + 1e-9
        )
    assert town.shortest_path(4, 4) == [4]
    assert town.travel_time_s(4, 4) == 0.0


def test_shortest_path_rejects_unknown_nodes(town: RoadNetwork) -> None:
    """Asking for a node that does not exist is an error, not an empty route."""
    with pytest.raises(ValueError, match="Expected node"):
        town.shortest_path(0, len(town.nodes))


@pytest.mark.parametrize(
    ("cls", "speed"),
    [
        (RoadClass.RING, 17.9),
        (RoadClass.PRIMARY, 13.4),
        (RoadClass.HIGH_STREET, 8.9),
        (RoadClass.RESIDENTIAL, 8.9),
        (RoadClass.SERVICE, 4.5),
    ],
)
def test_road_classes_exist_with_their_speeds(
    town: RoadNetwork, cls: RoadClass, speed: float
) -> None:
    """Every road class is present, and its edges run at the class's default speed."""
    edges = town.edges_by_class(cls)
    assert edges
    assert cls.default_speed_mps == speed
    assert {e.speed_mps for e in edges} == {speed}


@pytest.mark.parametrize("params", SHAPES)
def test_high_street_runs_through_the_zones(params: TownParams) -> None:
    """Every stretch of high street lies in a zone, every zone holds some, and the length fits."""
    network = generate_town(params, seed=3)
    street = network.edges_by_class(RoadClass.HIGH_STREET)
    zones = [network.zone_of(*network.point_along(e, 0.5)) for e in street]
    assert None not in zones
    assert set(zones) == set(params.zones)
    assert sum(e.length_m for e in street) == pytest.approx(params.high_street_length_m, rel=0.02)
    depot = network.nodes[network.depot]
    assert network.zone_of(depot.lat, depot.lon) is None


@pytest.mark.parametrize("min_length_m", [0.0, 500.0, 1000.0, 2000.0])
def test_random_trips_are_long_enough(town: RoadNetwork, min_length_m: float) -> None:
    """Random trips are connected paths at least the requested length."""
    rng = random.Random(11)
    for _ in range(25):
        path = town.random_trip(rng, min_length_m=min_length_m)
        assert len(path) >= 2
        assert path_length_m(town, path) >= min_length_m


def test_random_trip_is_reproducible(town: RoadNetwork) -> None:
    """The same random.Random seed gives the same trips."""
    assert town.random_trip(random.Random(3)) == town.random_trip(random.Random(3))


def test_random_trip_too_long_is_an_error(town: RoadNetwork) -> None:
    """A trip longer than the town is wide cannot be found, and says so."""
    with pytest.raises(ValueError, match="Expected two nodes"):
        town.random_trip(random.Random(1), min_length_m=50_000)


@pytest.mark.parametrize(
    ("potholes", "humps", "manholes", "rough"), [(0, 0, 0, 0), (40, 12, 25, 6)]
)
def test_place_features_counts_and_ids(
    town: RoadNetwork, potholes: int, humps: int, manholes: int, rough: int
) -> None:
    """Exactly the requested number of each kind, with sequential ids and sensible values."""
    features = place_features(town, random.Random(1), potholes, humps, manholes, rough)
    wanted = {"pothole": potholes, "speed_hump": humps, "manhole": manholes, "rough": rough}
    for kind, count in wanted.items():
        of_kind = [f for f in features if f.kind == kind]
        prefix = kind.replace("_", "-")
        assert [f.feature_id for f in of_kind] == [f"{prefix}-{n:04d}" for n in range(1, count + 1)]
    assert all(0.0 <= f.severity <= 1.0 for f in features)
    assert all(50.0 <= f.length_m <= 300.0 for f in features if f.kind == "rough")
    assert all(f.length_m < 5.0 for f in features if f.kind != "rough")


def test_place_features_lie_on_the_network(town: RoadNetwork) -> None:
    """Every feature is within a metre of a road; humps only on residential or high streets."""
    features = place_features(town, random.Random(2), 15, 10, 10, 5)
    for f in features:
        assert distance_to_edges_m(town, f.lat, f.lon) < 1.0
    for f in features:
        if f.kind == "speed_hump":
            assert edge_classes_near(town, f) <= {RoadClass.RESIDENTIAL, RoadClass.HIGH_STREET}


def test_place_features_deterministic(town: RoadNetwork) -> None:
    """The same seed places the same features; another seed places others."""
    a = place_features(town, random.Random(9), 10, 5, 5, 2)
    assert a == place_features(town, random.Random(9), 10, 5, 5, 2)
    assert a != place_features(town, random.Random(10), 10, 5, 5, 2)


def test_place_features_rejects_negative_counts(town: RoadNetwork) -> None:
    """A negative count is an error."""
    with pytest.raises(ValueError, match="Expected feature counts"):
        place_features(town, random.Random(1), -1, 0, 0, 0)


def test_geojson_is_well_shaped(town: RoadNetwork) -> None:
    """A FeatureCollection of road lines, one depot point and closed zone polygons, [lon, lat]."""
    doc = json.loads(geojson_text(town))
    assert doc["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert kinds.count("road") == len(town.edges)
    assert kinds.count("depot") == 1
    assert kinds.count("zone") == len(town.zones)
    positions = []
    for f in doc["features"]:
        assert f["type"] == "Feature"
        geometry, props = f["geometry"], f["properties"]
        if geometry["type"] == "LineString":
            assert set(props) >= {"road_class", "name", "speed_mps", "length_m"}
            assert RoadClass(props["road_class"]).default_speed_mps == props["speed_mps"]
            assert len(geometry["coordinates"]) == 2
            positions += geometry["coordinates"]
        elif geometry["type"] == "Point":
            positions.append(geometry["coordinates"])
        else:
            assert geometry["type"] == "Polygon"
            ring = geometry["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) >= 4
            positions += ring
    # Oakham is at about 52.67 N, 0.73 W: longitude must come first.
    assert all(-0.8 < lon < -0.65 and 52.6 < lat < 52.7 for lon, lat in positions)


def test_haversine_m() -> None:
    """A degree of latitude is about 111.2 km, and distance is symmetric and zero to itself."""
    assert haversine_m(52.0, -0.7, 53.0, -0.7) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(52.1, -0.7, 52.2, -0.6) == pytest.approx(haversine_m(52.2, -0.6, 52.1, -0.7))
    assert haversine_m(52.1, -0.7, 52.1, -0.7) == 0.0


@pytest.mark.parametrize(
    "changes",
    [
        {"grid": 0},
        {"block_m": 5.0},
        {"ring_radius_m": 300.0},
        {"high_street_length_m": 5000.0},
        {"zones": ("a", "a")},
        {"zones": ("",)},
        {"centre": (95.0, 0.0)},
    ],
)
def test_town_params_validated(changes: dict[str, object]) -> None:
    """Out-of-range town parameters are refused on construction."""
    with pytest.raises(ValueError, match="Expected"):
        TownParams(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lat", "severity", "length_m"),
    [(52.67, 1.5, 1.0), (52.67, -0.1, 1.0), (52.67, 0.5, -1.0), (91.0, 0.5, 1.0)],
)
def test_road_feature_validated(lat: float, severity: float, length_m: float) -> None:
    """A feature needs a real latitude, a severity in [0, 1] and a non-negative length."""
    with pytest.raises(ValueError, match="Expected"):
        RoadFeature("pothole-0001", "pothole", lat, -0.72, severity, length_m)
