"""A generated small-town road network: high street, radial primaries, a ring road, a residential
grid, a depot and town-centre zones, with shortest paths by travel time and GeoJSON export.

Everything is built in metres around the centre and converted to lat/lon at the end; the same
seed gives the same network to the byte.
"""

import heapq
import itertools
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from simulators.features import FeatureKind, RoadFeature

_EARTH_RADIUS_M = 6_371_008.8  # mean radius: the usual choice for haversine
_METRES_PER_DEGREE = 111_320.0


class RoadClass(StrEnum):
    """Kind of road; each has a default speed (``default_speed_mps``)."""

    RING = "ring"
    HIGH_STREET = "high_street"
    PRIMARY = "primary"
    RESIDENTIAL = "residential"
    SERVICE = "service"

    @property
    def default_speed_mps(self) -> float:
        """Typical speed on this class of road, in metres per second."""
        return _SPEEDS[self]


# UK limits: 40 mph ring road, 30 mph primaries, 20 mph zones in the centre and housing estates.
_SPEEDS = {
    RoadClass.RING: 17.9,
    RoadClass.HIGH_STREET: 8.9,
    RoadClass.PRIMARY: 13.4,
    RoadClass.RESIDENTIAL: 8.9,
    RoadClass.SERVICE: 4.5,
}


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        The two points in decimal degrees (WGS 84).

    Returns
    -------
    float
        Distance in metres on a sphere of the Earth's mean radius.
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Node:
    """A junction or a bend; ``node_id`` is its index in ``RoadNetwork.nodes``."""

    node_id: int
    lat: float
    lon: float


@dataclass(frozen=True)
class Edge:
    """An undirected stretch of road between nodes ``u`` and ``v``."""

    u: int
    v: int
    road_class: RoadClass
    name: str
    length_m: float
    speed_mps: float

    def __post_init__(self) -> None:
        if self.u == self.v:
            raise ValueError("Expected u != v.")
        if self.length_m < 0 or self.speed_mps <= 0:
            raise ValueError("Expected length_m >= 0 and speed_mps > 0.")

    @property
    def travel_time_s(self) -> float:
        """Seconds to drive the edge at its speed."""
        return self.length_m / self.speed_mps


@dataclass(frozen=True)
class Zone:
    """A named area; ``polygon`` is a closed ring of (lon, lat) pairs, GeoJSON order."""

    name: str
    polygon: tuple[tuple[float, float], ...]

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point lies inside the polygon (ray casting)."""
        inside = False
        ring = self.polygon
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes, undirected edges, the vehicle depot (a node id) and named zones."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    depot: int
    zones: tuple[Zone, ...] = ()

    def __post_init__(self) -> None:
        if any(n.node_id != i for i, n in enumerate(self.nodes)):
            raise ValueError("Expected node_id equal to the node's index.")
        if any(not (0 <= e.u < len(self.nodes) and 0 <= e.v < len(self.nodes)) for e in self.edges):
            raise ValueError("Expected edges between existing nodes.")
        if not 0 <= self.depot < len(self.nodes):
            raise ValueError(f"Expected depot in [0, {len(self.nodes) - 1}].")

    # Built once per network on first use; cached_property writes to __dict__, so frozen is fine.
    @cached_property
    def _adjacency(self) -> tuple[tuple[tuple[int, Edge], ...], ...]:
        adj: list[list[tuple[int, Edge]]] = [[] for _ in self.nodes]
        for e in self.edges:
            adj[e.u].append((e.v, e))
            adj[e.v].append((e.u, e))
        return tuple(tuple(a) for a in adj)

    @cached_property
    def _edge_index(self) -> dict[tuple[int, int], Edge]:
        return {(min(e.u, e.v), max(e.u, e.v)): e for e in self.edges}

    def neighbours(self, node: int) -> list[int]:
        """Ids of the nodes one edge away from ``node``."""
        return [m for m, _ in self._adjacency[node]]

    def edge_between(self, a: int, b: int) -> Edge:
        """The edge joining two adjacent nodes; KeyError if they are not adjacent."""
        return self._edge_index[(min(a, b), max(a, b))]

    def _dijkstra(self, a: int, b: int) -> tuple[float, list[int]]:
        for n in (a, b):
            if not 0 <= n < len(self.nodes):
                raise ValueError(f"Expected node in [0, {len(self.nodes) - 1}].")
        best = {a: 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, a)]
        while heap:
            t, n = heapq.heappop(heap)
            if n == b:
                break
            if t > best[n]:
                continue  # a stale heap entry: n was reached faster since it was pushed
            for m, e in self._adjacency[n]:
                tm = t + e.travel_time_s
                if tm < best.get(m, math.inf):
                    best[m], prev[m] = tm, n
                    heapq.heappush(heap, (tm, m))
        if b not in best:
            raise ValueError(f"No path from node {a} to node {b}.")
        path = [b]
        while path[-1] != a:
            path.append(prev[path[-1]])
        return best[b], path[::-1]

    def shortest_path(self, a: int, b: int) -> list[int]:
        """Fastest path from ``a`` to ``b`` (by travel time) as node ids, both ends included."""
        return self._dijkstra(a, b)[1]

    def travel_time_s(self, a: int, b: int) -> float:
        """Seconds along the fastest path from ``a`` to ``b`` at the edges' speeds."""
        return self._dijkstra(a, b)[0]

    def route_points(self, path: Iterable[int]) -> list[tuple[float, float]]:
        """(lat, lon) of each node of ``path``."""
        return [(self.nodes[n].lat, self.nodes[n].lon) for n in path]

    def leg_speeds(self, path: list[int]) -> list[float]:
        """Speed (m/s) of each leg of ``path``; one fewer than the nodes."""
        return [self.edge_between(a, b).speed_mps for a, b in itertools.pairwise(path)]

    def random_trip(self, rng: random.Random, min_length_m: float = 1000.0) -> list[int]:
        """Fastest path between two random nodes at least ``min_length_m`` apart as the crow
        flies (so the path is at least that long too).

        Raises ValueError if no such pair turns up in a thousand draws.
        """
        if min_length_m < 0:
            raise ValueError("Expected min_length_m >= 0.")
        for _ in range(1000):
            a, b = rng.randrange(len(self.nodes)), rng.randrange(len(self.nodes))
            na, nb = self.nodes[a], self.nodes[b]
            if a != b and haversine_m(na.lat, na.lon, nb.lat, nb.lon) >= min_length_m:
                return self.shortest_path(a, b)
        raise ValueError(f"Expected two nodes at least {min_length_m} m apart.")

    def edges_by_class(self, cls: RoadClass) -> list[Edge]:
        """Edges of one road class, in network order."""
        return [e for e in self.edges if e.road_class == cls]

    def point_along(self, edge: Edge, fraction: float) -> tuple[float, float]:
        """(lat, lon) a ``fraction`` of the way from ``edge.u`` to ``edge.v`` (straight edges)."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("Expected fraction in [0, 1].")
        a, b = self.nodes[edge.u], self.nodes[edge.v]
        return a.lat + fraction * (b.lat - a.lat), a.lon + fraction * (b.lon - a.lon)

    def zone_of(self, lat: float, lon: float) -> str | None:
        """Name of the zone containing the point, or None outside every zone."""
        return next((z.name for z in self.zones if z.contains(lat, lon)), None)

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection: roads (LineString), the depot (Point), zones (Polygon)."""
        feats: list[dict[str, Any]] = []
        for e in self.edges:
            line = [[n.lon, n.lat] for n in (self.nodes[e.u], self.nodes[e.v])]
            props: dict[str, Any] = {
                "kind": "road",
                "road_class": e.road_class.value,
                "name": e.name,
            }
            props |= {"speed_mps": e.speed_mps, "length_m": round(e.length_m, 2)}
            feats.append(_feature("LineString", line, props))
        d = self.nodes[self.depot]
        feats.append(_feature("Point", [d.lon, d.lat], {"kind": "depot", "node_id": d.node_id}))
        for z in self.zones:
            ring = [[lon, lat] for lon, lat in z.polygon]
            feats.append(_feature("Polygon", [ring], {"kind": "zone", "name": z.name}))
        return {"type": "FeatureCollection", "features": feats}


def _feature(kind: str, coordinates: Any, properties: dict[str, Any]) -> dict[str, Any]:
    geometry = {"type": kind, "coordinates": coordinates}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


@dataclass(frozen=True)
class TownParams:
    """Shape of a generated town.

    Attributes
    ----------
    centre
        (lat, lon) of the town centre, where the high street and the primaries cross.
    grid
        Residential blocks from the centre to the edge of the grid, per side.
    block_m
        Spacing of the residential grid, in metres.
    ring_radius_m
        Distance from the centre to the ring road.
    high_street_length_m
        Length of the high street, centred on the centre.
    zones
        Names of the town-centre zones, laid end to end along the high street.
    """

    centre: tuple[float, float] = (52.6697, -0.7269)
    grid: int = 8
    block_m: float = 120.0
    ring_radius_m: float = 1400.0
    high_street_length_m: float = 600.0
    zones: tuple[str, ...] = ("high-street", "market-place", "station")

    def __post_init__(self) -> None:
        if not (-80.0 <= self.centre[0] <= 80.0 and -180.0 <= self.centre[1] <= 180.0):
            raise ValueError("Expected centre latitude in [-80, 80] and longitude in [-180, 180].")
        if not 1 <= self.grid <= 50:
            raise ValueError("Expected grid in [1, 50].")
        if not 20.0 <= self.block_m <= 1000.0:
            raise ValueError("Expected block_m in [20, 1000].")
        if not 4 * self.block_m <= self.ring_radius_m <= 20_000.0:
            raise ValueError(f"Expected ring_radius_m in [{4 * self.block_m}, 20000].")
        # The high street must end well inside the ring, where the grid is not clipped away.
        if not self.block_m <= self.high_street_length_m <= 1.2 * self.ring_radius_m:
            hi = 1.2 * self.ring_radius_m
            raise ValueError(f"Expected high_street_length_m in [{self.block_m}, {hi}].")
        if len(set(self.zones)) != len(self.zones) or not all(self.zones):
            raise ValueError("Expected distinct, non-empty zone names.")


_TREES = ("Ash", "Beech", "Cedar", "Elm", "Hazel", "Holly", "Larch", "Lime", "Maple", "Oak")
_COMPASS = (
    "North", "North East", "East", "South East", "South", "South West", "West", "North West",
)  # fmt: skip
_REMOVED_SHARE = 0.15  # of residential streets: enough to break the grid's regularity
_Link = tuple[int, int, RoadClass, str]
_XY = tuple[float, float]  # metres east and north of the centre


class _Builder:
    """Nodes in metres from the centre, and the links between them."""

    def __init__(self) -> None:
        self.xy: list[_XY] = []
        self.links: list[_Link] = []

    def node(self, xy: _XY) -> int:
        self.xy.append(xy)
        return len(self.xy) - 1

    def chain(self, a: int, b: int, cls: RoadClass, name: str, step: float) -> None:
        """Link a to b in a straight line, with a junction node every ``step`` metres or so."""
        (xa, ya), (xb, yb) = self.xy[a], self.xy[b]
        n = max(1, round(math.hypot(xb - xa, yb - ya) / step))
        ids = [a] + [
            self.node((xa + (xb - xa) * k / n, ya + (yb - ya) * k / n)) for k in range(1, n)
        ]
        self.links += [(p, q, cls, name) for p, q in zip(ids, [*ids[1:], b], strict=True)]

    def reconnect(self, spare: list[_Link]) -> None:
        """Add just enough of ``spare`` to connect every node (union-find); the rest stay out."""
        parent = list(range(len(self.xy)))

        def root(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b, _, _ in self.links:
            parent[root(a)] = root(b)
        for link in spare:
            if root(link[0]) != root(link[1]):
                parent[root(link[0])] = root(link[1])
                self.links.append(link)
        if len({root(x) for x in range(len(parent))}) != 1:
            raise RuntimeError("Generated road network is not connected.")


def generate_town(params: TownParams = TownParams(), seed: int = 1) -> RoadNetwork:
    """Generate a connected small-town road network.

    The high street runs through the centre; its line and the perpendicular through the centre
    continue as four primaries to a ring road of 16 to 24 nodes. A jittered residential grid, with
    some streets removed, fills the space inside the ring; the depot sits on a service road just
    inside the ring; the zones are rectangles laid end to end along the high street.

    Parameters
    ----------
    params
        Shape of the town.
    seed
        Seed of the only source of randomness; the same seed gives the same network.

    Returns
    -------
    RoadNetwork
        A network in which every node is reachable from the depot.
    """
    p, rng, b = params, random.Random(seed), _Builder()
    theta = rng.uniform(0.0, math.pi)  # direction of the high street, anticlockwise from east

    def at(u: float, w: float) -> _XY:
        """Metres east and north of a point ``u`` along and ``w`` across the high street."""
        return u * math.cos(theta) - w * math.sin(theta), u * math.sin(theta) + w * math.cos(theta)

    def arm_name(du: int, dw: int) -> str:
        east, north = at(du, dw)
        return f"{_COMPASS[round(math.degrees(math.atan2(east, north)) / 45) % 8]} Road"

    # Grid cell (i, j) is i blocks along and j across the high street; row 0 holds the high
    # street (its own spacing, so it has the requested length) and column 0 the cross primary.
    cells: dict[tuple[int, int], int] = {}
    h = math.ceil(p.high_street_length_m / 2 / p.block_m)  # high-street segments each side
    jit = 0.12 * p.block_m
    for i in range(-max(p.grid, h), max(p.grid, h) + 1):
        for j in range(-p.grid, p.grid + 1):
            if j == 0 and abs(i) <= h:
                u, w = i * p.high_street_length_m / (2 * h), 0.0
            elif abs(i) <= p.grid:
                u, w = i * p.block_m, j * p.block_m
            else:
                continue
            if math.hypot(u, w) > 0.85 * p.ring_radius_m:
                continue  # leave room for the ring road
            # The two axes stay straight-ish (a few metres); the rest of the grid wobbles.
            du = 0.0 if j == 0 else rng.uniform(-1, 1) * (3.0 if i == 0 else jit)
            dw = 0.0 if i == 0 else rng.uniform(-1, 1) * (3.0 if j == 0 else jit)
            cells[i, j] = b.node(at(u + du, w + dw))

    optional: list[_Link] = []
    for (i, j), n in cells.items():
        for di, dj in ((1, 0), (0, 1)):
            if (m := cells.get((i + di, j + dj))) is None:
                continue
            line, along = (j, i) if di else (i, j)  # which row/column, and where on it
            if line != 0:
                # Either side of an axis gets its own suffix, so a name means one street.
                kind = ("Street", "Lane", "Avenue", "Close")[(line < 0) + (0 if di else 2)]
                name = f"{_TREES[abs(line) % len(_TREES)]} {kind}"
                optional.append((n, m, RoadClass.RESIDENTIAL, name))
            elif di and -h <= i < h:
                b.links.append((n, m, RoadClass.HIGH_STREET, "High Street"))
            else:
                side = 1 if along >= 0 else -1
                b.links.append((n, m, RoadClass.PRIMARY, arm_name(di * side, dj * side)))
    removed: list[_Link] = []
    for link in optional:
        (removed if rng.random() < _REMOVED_SHARE else b.links).append(link)

    k = rng.randint(16, 24)
    ring = []
    for r in range(k):
        a = theta + math.tau * (r + rng.uniform(-0.2, 0.2)) / k
        radius = p.ring_radius_m * rng.uniform(0.95, 1.05)
        ring.append(b.node((radius * math.cos(a), radius * math.sin(a))))
    b.links += [(ring[r], ring[(r + 1) % k], RoadClass.RING, "Ring Road") for r in range(k)]

    def ring_towards(angle: float) -> int:
        def off(n: int) -> float:
            return abs(math.remainder(math.atan2(b.xy[n][1], b.xy[n][0]) - angle, math.tau))

        return min(ring, key=off)

    for di, dj in ((1, 0), (0, 1), (-1, 0), (0, -1)):
        s = 0
        while (di * (s + 1), dj * (s + 1)) in cells:
            s += 1
        end = ring_towards(theta + math.atan2(dj, di))
        b.chain(cells[di * s, dj * s], end, RoadClass.PRIMARY, arm_name(di, dj), p.block_m)

    # The depot goes on a diagonal, between primaries, one block in from the ring.
    gate = ring_towards(theta + math.pi / 4 + rng.randrange(4) * math.pi / 2)
    shrink = 1 - p.block_m / math.hypot(*b.xy[gate])
    depot = b.node((b.xy[gate][0] * shrink, b.xy[gate][1] * shrink))
    b.links.append((gate, depot, RoadClass.SERVICE, "Depot Road"))
    b.reconnect(removed)

    length, half, pad = p.high_street_length_m, 0.4 * p.block_m, 0.25 * p.block_m
    zones_xy: list[tuple[str, list[_XY]]] = []
    for z, name in enumerate(p.zones):
        u0 = -length / 2 + z * length / len(p.zones) - (pad if z == 0 else 0.0)
        u1 = -length / 2 + (z + 1) * length / len(p.zones) + (pad if z == len(p.zones) - 1 else 0.0)
        corners = ((u0, -half), (u1, -half), (u1, half), (u0, half), (u0, -half))
        zones_xy.append((name, [at(u, w) for u, w in corners]))
    return _to_network(b, p.centre, depot, zones_xy)


def _to_network(
    b: _Builder, centre: tuple[float, float], depot: int, zones_xy: list[tuple[str, list[_XY]]]
) -> RoadNetwork:
    lat0, lon0 = centre
    per_lon = _METRES_PER_DEGREE * math.cos(math.radians(lat0))

    def ll(xy: _XY) -> tuple[float, float]:
        # Rounded to about a centimetre, so the GeoJSON stays compact and the text reproducible.
        return round(lat0 + xy[1] / _METRES_PER_DEGREE, 7), round(lon0 + xy[0] / per_lon, 7)

    nodes = tuple(Node(i, *ll(xy)) for i, xy in enumerate(b.xy))
    edges = []
    for u, v, cls, name in b.links:
        metres = haversine_m(nodes[u].lat, nodes[u].lon, nodes[v].lat, nodes[v].lon)
        edges.append(Edge(u, v, cls, name, metres, cls.default_speed_mps))
    zones = tuple(Zone(name, tuple(ll(xy)[::-1] for xy in ring)) for name, ring in zones_xy)
    return RoadNetwork(nodes, tuple(edges), depot, zones)


# Per kind: weight of each road class, then severity and length (m) ranges.
_PLACEMENT: dict[FeatureKind, tuple[dict[RoadClass, float], _XY, _XY]] = {
    "pothole": ({RoadClass.RESIDENTIAL: 4, RoadClass.PRIMARY: 4, RoadClass.HIGH_STREET: 1,
                 RoadClass.RING: 1, RoadClass.SERVICE: 1}, (0.2, 1.0), (0.3, 1.5)),
    "speed_hump": ({RoadClass.RESIDENTIAL: 3, RoadClass.HIGH_STREET: 2}, (0.3, 0.8), (3.0, 4.0)),
    "manhole": (dict.fromkeys(RoadClass, 1.0), (0.05, 0.4), (0.6, 0.9)),
    "rough": ({RoadClass.RESIDENTIAL: 2, RoadClass.SERVICE: 2, RoadClass.PRIMARY: 1,
               RoadClass.RING: 1, RoadClass.HIGH_STREET: 1}, (0.1, 0.6), (50.0, 300.0)),
}  # fmt: skip


def place_features(
    network: RoadNetwork,
    rng: random.Random,
    potholes: int,
    speed_humps: int,
    manholes: int,
    rough_segments: int,
) -> list[RoadFeature]:
    """Scatter road-surface features over the network's edges.

    Potholes favour residential and primary roads, speed humps go only on residential streets
    and the high street, manholes anywhere; longer edges get proportionally more.

    Parameters
    ----------
    network
        Where to put them.
    rng
        The source of randomness; the same seed gives the same features.
    potholes, speed_humps, manholes, rough_segments
        How many of each kind.

    Returns
    -------
    list[RoadFeature]
        Grouped by kind, with ids ``pothole-0001``, ``speed-hump-0001``, ``manhole-0001``,
        ``rough-0001`` and so on; a rough segment's point is where its 50-300 m stretch begins.
    """
    counts: dict[FeatureKind, int] = {
        "pothole": potholes,
        "speed_hump": speed_humps,
        "manhole": manholes,
        "rough": rough_segments,
    }
    if any(c < 0 for c in counts.values()):
        raise ValueError("Expected feature counts >= 0.")
    features: list[RoadFeature] = []
    for kind, count in counts.items():
        weights, (s0, s1), (l0, l1) = _PLACEMENT[kind]
        edges = [e for e in network.edges if weights.get(e.road_class, 0) > 0 and e.length_m > 0]
        if count == 0:
            continue
        if not edges:
            raise ValueError(f"Expected roads to place {kind} features on.")
        chosen = rng.choices(edges, [weights[e.road_class] * e.length_m for e in edges], k=count)
        for n, edge in enumerate(chosen, start=1):
            # Away from the ends, so a feature belongs to one road rather than a junction.
            lat, lon = network.point_along(edge, rng.uniform(0.05, 0.95))
            severity, length = round(rng.uniform(s0, s1), 3), round(rng.uniform(l0, l1), 1)
            fid = f"{kind.replace('_', '-')}-{n:04d}"
            features.append(RoadFeature(fid, kind, round(lat, 7), round(lon, 7), severity, length))
    return features
