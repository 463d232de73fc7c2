"""Travel distances and times between collection points: road network, haversine, OSRM."""

import contextlib
import itertools
import json
import random
import statistics
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from analytics.geo.geometry import haversine_m, moved
from analytics.geo.osm import load_osm
from analytics.geo.roads import Edge, Node, RoadClass, RoadNetwork
from analytics.routing.travel import (
    Point,
    TravelError,
    TravelMatrix,
    haversine_matrix,
    network_matrix,
    osrm_matrix,
    travel_matrix,
)
from deploy.embedded import free_port
from simulators.world import build_world
from tests.conftest import shared_data

EXTRACT = shared_data("osm/rutland-latest.osm.pbf")
ORIGIN = (52.67, -0.73)


def at(east_m: float, north_m: float) -> Point:
    """(lat, lon) of a point so many metres east and north of ORIGIN."""
    return moved(*ORIGIN, east_m, north_m)


# A 100 m square A(0, 0) B(0, 100) C(100, 100) D(100, 0), metres east and north. Three sides
# are 10 m/s streets; D-A is a 1 m/s lane, so the fastest way from A to D goes round (300 m,
# 30 s) rather than along it (100 m, 100 s).
CORNERS = [(0, 0), (0, 100), (100, 100), (100, 0)]
SIDES = [(0, 1, 10.0), (1, 2, 10.0), (2, 3, 10.0), (3, 0, 1.0)]
SQUARE = RoadNetwork(
    tuple(Node(i, *at(*xy)) for i, xy in enumerate(CORNERS)),
    tuple(Edge(u, v, RoadClass.RESIDENTIAL, "Side", 100.0, s) for u, v, s in SIDES),
    depot=0,
)
# A; mid A-B on the pavement 5 m off; C-D 20 m from C, 4 m off; D-A 30 m from D, 3 m off;
# C-D 60 m from C, on the kerb.
SQUARE_XY = [(0, 0), (-5, 50), (104, 80), (70, -3), (100, 40)]
SQUARE_POINTS = [at(*xy) for xy in SQUARE_XY]
SQUARE_METRES = (
    (0, 50, 220, 330, 260),
    (50, 0, 170, 280, 210),
    (220, 170, 0, 110, 40),
    (330, 280, 110, 0, 70),
    (260, 210, 40, 70, 0),
)
SQUARE_SECONDS = (
    (0, 5, 22, 60, 26),
    (5, 0, 17, 55, 21),
    (22, 17, 0, 38, 4),
    (60, 55, 38, 0, 34),
    (26, 21, 4, 34, 0),
)


def flat(path: list[Point]) -> list[float]:
    return [c for p in path for c in p]


def path_length_m(path: list[Point]) -> float:
    return sum(haversine_m(*a, *b) for a, b in itertools.pairwise(path))


def circuities(matrix: TravelMatrix, min_m: float = 300.0) -> list[float]:
    """Network over straight-line distance of every pair at least ``min_m`` apart."""
    ratios = []
    for (i, a), (j, b) in itertools.permutations(enumerate(matrix.points), 2):
        if (straight := haversine_m(*a, *b)) >= min_m:
            ratios.append(matrix.distance_m[i][j] / straight)
    return ratios


def test_square_matches_hand_computed_fastest_paths() -> None:
    """Distances and durations on the square are the hand-computed fastest paths, with points
    snapped mid-edge, the distance of the fastest (not the shortest) path, and 0 on the
    diagonal."""
    matrix = network_matrix(SQUARE, SQUARE_POINTS)
    assert matrix.source == "network"
    assert matrix.distance_m == SQUARE_METRES
    assert matrix.duration_s == SQUARE_SECONDS


@pytest.mark.parametrize(
    ("i", "j", "expected_xy"),
    [
        (0, 3, [(0, 0), (0, 100), (100, 100), (100, 0), (70, 0), (70, -3)]),
        (1, 3, [(-5, 50), (0, 50), (0, 100), (100, 100), (100, 0), (70, 0), (70, -3)]),
        (3, 0, [(70, -3), (70, 0), (100, 0), (100, 100), (0, 100), (0, 0)]),
        (2, 4, [(104, 80), (100, 80), (100, 40)]),
        (1, 1, [(-5, 50)]),
    ],
)
def test_square_leg_follows_the_roads(i: int, j: int, expected_xy: list[tuple[int, int]]) -> None:
    """A leg starts at one point, reaches the road at its snapped point, follows the fastest
    path's nodes (or the shared edge) and ends at the other point."""
    path = network_matrix(SQUARE, SQUARE_POINTS).leg_path(i, j)
    assert flat(path) == pytest.approx(flat([at(*xy) for xy in expected_xy]), abs=1e-7)


@pytest.mark.parametrize(("max_snap_m", "reachable"), [(500.0, False), (2500.0, True)])
def test_point_far_from_the_roads(max_snap_m: float, reachable: bool) -> None:
    """A point 1.9 km from the nearest road is an error naming it, unless the limit allows."""
    points = [SQUARE_POINTS[0], at(0, 2000)]
    if reachable:
        matrix = network_matrix(SQUARE, points, max_snap_m=max_snap_m)
        assert matrix.distance_m[0][1] == 100  # snapped to B
    else:
        with pytest.raises(TravelError, match=r"point 1 \(52\.6\d+, -0\.73\) is more than 500 m"):
            network_matrix(SQUARE, points, max_snap_m=max_snap_m)


def test_pair_without_path_is_an_error() -> None:
    """A point on a road not connected to the others raises, naming both points."""
    island = (Node(4, *at(1000, 0)), Node(5, *at(1100, 0)))
    network = RoadNetwork(
        SQUARE.nodes + island,
        (*SQUARE.edges, Edge(4, 5, RoadClass.SERVICE, "Island", 100.0, 5.0)),
        depot=0,
    )
    with pytest.raises(TravelError, match=r"no road path from point 0 .* to point 1"):
        network_matrix(network, [SQUARE_POINTS[0], at(1050, 2)])


@pytest.fixture(scope="module")
def town() -> tuple[RoadNetwork, TravelMatrix]:
    """A generated town and the network matrix of its depot and 200 bins."""
    world = build_world("travel", seed=1, bins=200, counters=0)
    depot = world.network.nodes[world.network.depot]
    points = [(depot.lat, depot.lon)] + [(b.device.lat, b.device.lon) for b in world.town.bins]
    return world.network, network_matrix(world.network, points)


def test_town_matrix_is_square_symmetric_with_zero_diagonal(
    town: tuple[RoadNetwork, TravelMatrix],
) -> None:
    """The depot and 200 bins give a 201 x 201 matrix, 0 on the diagonal, the same both ways
    on two-way roads (to a rounding)."""
    _, matrix = town
    n = len(matrix.points)
    assert n == 201 and len(matrix.duration_s) == n
    for i, j in itertools.product(range(n), repeat=2):
        assert i != j or matrix.distance_m[i][j] == matrix.duration_s[i][j] == 0
        assert abs(matrix.duration_s[i][j] - matrix.duration_s[j][i]) <= 1


def test_town_distances_are_at_least_straight_and_plausibly_circuitous(
    town: tuple[RoadNetwork, TravelMatrix],
) -> None:
    """No drive is shorter than the straight line; the median detour is a town's 1.1-1.6."""
    _, matrix = town
    for (i, a), (j, b) in itertools.permutations(enumerate(matrix.points), 2):
        assert matrix.distance_m[i][j] >= haversine_m(*a, *b) - 1.0
    median = statistics.median(circuities(matrix))
    print(f"generated town: median circuity {median:.3f}")
    assert 1.1 <= median <= 1.6


def test_town_durations_obey_the_triangle_inequality(
    town: tuple[RoadNetwork, TravelMatrix],
) -> None:
    """Going via a third point is never faster than the fastest path (to rounding)."""
    d = town[1].duration_s
    for i, j, k in itertools.permutations(range(40), 3):
        assert d[i][k] <= d[i][j] + d[j][k] + 1


@pytest.mark.parametrize(("i", "j"), [(0, 1), (1, 0), (5, 150), (199, 200), (37, 38)])
def test_town_leg_is_as_long_as_its_distance(
    town: tuple[RoadNetwork, TravelMatrix], i: int, j: int
) -> None:
    """A leg starts and ends at its points and its length is the matrix distance."""
    _, matrix = town
    path = matrix.leg_path(i, j)
    assert path[0] == matrix.points[i] and path[-1] == matrix.points[j]
    assert path_length_m(path) == pytest.approx(matrix.distance_m[i][j], abs=2.0)


@pytest.mark.skipif(EXTRACT is None, reason="needs the shared OpenStreetMap extract")
def test_oakham_network_is_plausibly_circuitous() -> None:
    """On Oakham's real streets no drive beats the straight line and the median detour is
    between 1.1 and 1.8."""
    assert EXTRACT is not None
    network = load_osm(EXTRACT)
    rng = random.Random(1)
    points = [network.point_along(rng.choice(network.edges), rng.random()) for _ in range(60)]
    matrix = network_matrix(network, points)
    assert min(circuities(matrix)) >= 0.99
    median = statistics.median(circuities(matrix))
    print(f"Oakham: median circuity {median:.3f}")
    assert 1.1 <= median <= 1.8


@pytest.mark.parametrize(("circuity", "speed_kmh"), [(1.0, 25.0), (1.3, 25.0), (1.3, 50.0)])
def test_haversine_one_degree_of_latitude(circuity: float, speed_kmh: float) -> None:
    """A degree of latitude is 111.195 km as the crow flies, times the circuity, driven at
    the average speed."""
    matrix = haversine_matrix([(52.0, -0.7), (53.0, -0.7)], circuity=circuity, speed_kmh=speed_kmh)
    metres = 111_195 * circuity
    assert matrix.source == "haversine"
    assert matrix.distance_m[0][1] == pytest.approx(metres, rel=1e-4)
    assert matrix.duration_s[0][1] == pytest.approx(metres / (speed_kmh / 3.6), rel=1e-4)


def test_haversine_is_symmetric_with_straight_legs() -> None:
    """Haversine figures are the same both ways, 0 on the diagonal; legs are straight."""
    rng = random.Random(3)
    points = [at(rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)) for _ in range(20)]
    matrix = haversine_matrix(points)
    for i, j in itertools.product(range(20), repeat=2):
        assert matrix.distance_m[i][j] == matrix.distance_m[j][i]
        assert matrix.duration_s[i][j] == matrix.duration_s[j][i]
        assert (matrix.distance_m[i][j] == 0) == (i == j)
    assert matrix.leg_path(2, 7) == [points[2], points[7]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: haversine_matrix([ORIGIN], circuity=0.9), "Expected circuity in [1, 5]."),
        (lambda: haversine_matrix([ORIGIN], speed_kmh=0), "Expected speed_kmh in (0, 130]."),
        (lambda: haversine_matrix([]), "Expected at least one point."),
        (lambda: haversine_matrix([(91.0, 0.0)]), "Expected lat in [-90, 90]"),
        (lambda: network_matrix(SQUARE, [ORIGIN], max_snap_m=0), "Expected max_snap_m in"),
        (lambda: osrm_matrix("ftp://x", [ORIGIN]), "Expected an http:// or https:// base_url."),
        (lambda: osrm_matrix("http://x", [ORIGIN], timeout_s=0), "Expected timeout_s in"),
        (lambda: osrm_matrix("http://x", [ORIGIN], max_table_size=0), "Expected max_table_s"),
        (lambda: haversine_matrix([ORIGIN]).leg_path(0, 1), "Expected i and j in [0, 0]."),
    ],
)
def test_bad_parameters_are_value_errors(call: Callable[[], object], message: str) -> None:
    """Out-of-range parameters raise ValueError saying what was expected."""
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        call()


# -- OSRM: a real HTTP server on 127.0.0.1 standing in for the outside world --------------------


@dataclass
class FakeOsrm:
    """A local HTTP server that records each request path and answers with ``answer``."""

    url: str = ""
    paths: list[str] = field(default_factory=list)
    answer: Callable[[str], tuple[int, Any]] = lambda path: (404, {})
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    """A FakeOsrm running in a thread for this test."""
    fake = FakeOsrm()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.paths.append(self.path)
            status, body = fake.answer(self.path)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # The timeout test's client has given up by the time its answer goes out.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    # A short poll interval: shutdown() waits for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


def osrm_like_table(path: str) -> tuple[int, Any]:
    """Answer a table request as OSRM would: 1.4 x the straight line at 8 m/s, honouring
    ``sources`` and ``destinations``."""
    url = urlsplit(path)
    lonlats = [tuple(map(float, c.split(","))) for c in url.path.rsplit("/", 1)[1].split(";")]
    query = dict(parse_qsl(url.query))
    every = ";".join(str(k) for k in range(len(lonlats)))
    rows = [int(k) for k in query.get("sources", every).split(";")]
    cols = [int(k) for k in query.get("destinations", every).split(";")]
    metres = [[1.4 * haversine_m(*lonlats[a][::-1], *lonlats[b][::-1]) for b in cols] for a in rows]
    seconds = [[m / 8 for m in row] for row in metres]
    return 200, {"code": "Ok", "distances": metres, "durations": seconds}


THREE = [(52.67, -0.73), (52.68, -0.72), (52.69, -0.71)]
COORDS = "-0.730000,52.670000;-0.720000,52.680000;-0.710000,52.690000"
TABLE = {
    "code": "Ok",
    "distances": [[0, 1500.4, 2600.6], [1490.2, 0, 1200], [2610, 1190.7, 0]],
    "durations": [[0, 180.2, 300.7], [170.4, 0, 140], [310.1, 139.6, 0]],
}


def test_osrm_table(osrm: FakeOsrm) -> None:
    """One table request for all points, asking for distances and durations; the answer is
    rounded, asymmetry kept."""
    osrm.answer = lambda path: (200, TABLE)
    matrix = osrm_matrix(osrm.url + "/", THREE)
    assert osrm.paths == [f"/table/v1/driving/{COORDS}?annotations=distance,duration"]
    assert matrix.source == "osrm"
    assert matrix.distance_m == ((0, 1500, 2601), (1490, 0, 1200), (2610, 1191, 0))
    assert matrix.duration_s == ((0, 180, 301), (170, 0, 140), (310, 140, 0))


def test_osrm_blocks_beyond_the_table_size(osrm: FakeOsrm) -> None:
    """More points than the server's table size are asked for in blocks with sources and
    destinations, and assembled into the same matrix one request would give."""
    osrm.answer = osrm_like_table
    points = [at(300 * k, 200 * (k % 2)) for k in range(5)]
    whole = osrm_matrix(osrm.url, points)
    osrm.paths.clear()
    blocks = osrm_matrix(osrm.url, points, max_table_size=2)
    assert (blocks.distance_m, blocks.duration_s) == (whole.distance_m, whole.duration_s)
    assert len(osrm.paths) == 9  # blocks {0, 1}, {2, 3}, {4} squared
    coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in (points[0], points[1], points[4]))
    expected = (
        f"/table/v1/driving/{coords}?annotations=distance,duration&sources=0;1&destinations=2"
    )
    assert expected in osrm.paths


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            200,
            {"code": "NoRoute", "message": "Impossible route between points"},
            r"refused the request: NoRoute \(Impossible route between points\)",
        ),
        (
            200,
            {**TABLE, "durations": [[0, 1, None], [1, 0, 1], [1, 1, 0]]},
            r"no route from point 0 \(52\.67, -0\.73\) to point 2 \(52\.69, -0\.71\)",
        ),
        (200, {**TABLE, "distances": [[0, 1], [1, 0]]}, r"distances that are not a 3 x 3 table"),
        (200, b"<html>maintenance</html>", r"did not answer JSON"),
        (
            500,
            b"Internal Server Error",
            r"table service at http://127\.0\.0\.1:\d+ answered HTTP 500$",
        ),
        (
            400,
            {"code": "TooBig", "message": "Too many table coordinates"},
            r"answered HTTP 400: TooBig \(Too many table coordinates\)",
        ),
    ],
)
def test_osrm_refusals_are_travel_errors(
    osrm: FakeOsrm, status: int, body: Any, message: str
) -> None:
    """Every way the server can refuse becomes a TravelError that says which."""
    osrm.answer = lambda path: (status, body)
    with pytest.raises(TravelError, match=message):
        osrm_matrix(osrm.url, THREE)


def test_osrm_unreachable_is_a_travel_error() -> None:
    """Nobody listening on the port: a TravelError naming the server."""
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TravelError, match=rf"cannot reach OSRM at {url}: .*refused"):
        osrm_matrix(url, THREE)


def test_osrm_silent_server_times_out(osrm: FakeOsrm) -> None:
    """A server that does not answer within the timeout is a TravelError saying so."""

    def hang(path: str) -> tuple[int, Any]:
        osrm.release.wait(30)
        return 200, TABLE

    osrm.answer = hang
    with pytest.raises(TravelError, match=r"did not answer within 0\.2 s"):
        osrm_matrix(osrm.url, THREE, timeout_s=0.2)


def test_osrm_leg_path_asks_the_route_service(osrm: FakeOsrm) -> None:
    """A leg is OSRM's route geometry, (lon, lat) turned to (lat, lon), from point to point."""
    line = [[-0.7301, 52.6701], [-0.725, 52.675], [-0.7199, 52.6799]]
    routes = {"code": "Ok", "routes": [{"geometry": {"type": "LineString", "coordinates": line}}]}
    osrm.answer = lambda path: (200, routes if path.startswith("/route/") else TABLE)
    path = osrm_matrix(osrm.url, THREE).leg_path(0, 1)
    pair = "-0.730000,52.670000;-0.720000,52.680000"
    assert osrm.paths[-1] == f"/route/v1/driving/{pair}?overview=full&geometries=geojson"
    assert path == [THREE[0], *((lat, lon) for lon, lat in line), THREE[1]]


def test_osrm_leg_path_failure_is_a_travel_error(osrm: FakeOsrm) -> None:
    """A route the server cannot find raises rather than drawing something wrong."""
    no_route = {"code": "NoRoute", "message": "Impossible route between points"}
    osrm.answer = lambda path: (400, no_route) if path.startswith("/route/") else (200, TABLE)
    matrix = osrm_matrix(osrm.url, THREE)
    with pytest.raises(TravelError, match=r"route service .* HTTP 400: NoRoute"):
        matrix.leg_path(2, 0)


@pytest.mark.parametrize("source", ["osrm", "network", "haversine"])
def test_travel_matrix_prefers_osrm_then_network(osrm: FakeOsrm, source: str) -> None:
    """OSRM when configured, else the network when given, else haversine."""
    osrm.answer = osrm_like_table
    url = osrm.url if source == "osrm" else None
    network = SQUARE if source in ("osrm", "network") else None
    matrix = travel_matrix(SQUARE_POINTS, network=network, osrm_url=url)
    assert matrix.source == source
    assert len(osrm.paths) == (source == "osrm")
