"""A road network: nodes, edges with road classes and speeds, town-centre
zones, shortest paths by travel time and GeoJSON export. ``simulators.roadgen`` generates one.
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

from analytics.geo.geometry import haversine_m


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

    @cached_property
    def _weighted(self) -> tuple[tuple[tuple[int, float, float], ...], ...]:
        return tuple(
            tuple((m, e.travel_time_s, e.length_m) for m, e in adj) for adj in self._adjacency
        )

    def fastest_from(
        self, roots: Iterable[tuple[int, float, float]], targets: set[int]
    ) -> tuple[list[float], list[float], list[int]]:
        """Dijkstra by travel time from several roots until every target node is settled.

        Parameters
        ----------
        roots
            (node, seconds, metres) already spent on reaching each starting node.
        targets
            Nodes whose fastest paths are wanted; the search stops once all are settled.

        Returns
        -------
        tuple of lists
            Per node: seconds and metres of the fastest path found (``inf`` where the search
            did not reach), and the node before it on that path (-1 for roots and the
            unreached).
        """
        adjacency, n = self._weighted, len(self.nodes)
        push, pop = heapq.heappush, heapq.heappop
        t_at, m_at, prev = [math.inf] * n, [math.inf] * n, [-1] * n
        heap: list[tuple[float, int]] = []
        for node, t, m in roots:
            if t < t_at[node]:
                t_at[node], m_at[node] = t, m
                push(heap, (t, node))
        settled, left = bytearray(n), len(targets)
        while heap and left:
            t, u = pop(heap)
            if settled[u]:
                continue  # a stale entry: u was reached faster since it was pushed
            settled[u] = 1
            left -= u in targets
            mu = m_at[u]
            for v, dt, dm in adjacency[u]:
                tv = t + dt
                if tv < t_at[v]:
                    t_at[v], m_at[v], prev[v] = tv, mu + dm, u
                    push(heap, (tv, v))
        return t_at, m_at, prev

    def _dijkstra(self, a: int, b: int) -> tuple[float, list[int]]:
        for n in (a, b):
            if not 0 <= n < len(self.nodes):
                raise ValueError(f"Expected node in [0, {len(self.nodes) - 1}].")
        t_at, _, prev = self.fastest_from([(a, 0.0, 0.0)], {b})
        if math.isinf(t_at[b]):
            raise ValueError(f"No path from node {a} to node {b}.")
        path = [b]
        while path[-1] != a:
            path.append(prev[path[-1]])
        return t_at[b], path[::-1]

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
