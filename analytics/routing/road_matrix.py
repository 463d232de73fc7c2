"""Travel figures from fastest paths on a road network: one Dijkstra search per point."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from analytics.geo.roads import RoadNetwork
from analytics.routing.errors import TravelError
from analytics.routing.grid_index import EdgeGrid, Snap
from analytics.routing.matrix import Point, TravelMatrix, checked_points, rounded
from ingest.kernel.params import require_in


def network_matrix(
    network: RoadNetwork, points: Sequence[Point], *, max_snap_m: float = 500.0
) -> TravelMatrix:
    """Fastest driving paths on a road network, one Dijkstra search per point.

    Each point snaps to the nearest point of the nearest edge (a bin stands mid-street), and
    a path starts and ends with the part of that edge between the snapped point and the node
    it leaves or enters. The walk from a point to its snapped point is not counted. Paths
    minimise time; ``distance_m`` is the length of the fastest path, not the shortest.

    Parameters
    ----------
    network
        The roads; edges are two-way, as ``RoadNetwork`` treats them.
    points
        (lat, lon) of the depot and the bins.
    max_snap_m
        Furthest a point may be from every edge before it is an error.

    Returns
    -------
    TravelMatrix
        ``source="network"``; legs follow the edges of the fastest paths.

    Raises
    ------
    TravelError
        If a point is farther than ``max_snap_m`` from every edge, or a pair has no path.
    """
    pts = checked_points(points)
    require_in("max_snap_m", max_snap_m, 0.0, 5000.0, lo_open=True)
    snaps = _snapped(network, pts, max_snap_m)
    targets = {n for s in snaps for n in (network.edges[s.edge].u, network.edges[s.edge].v)}
    metres, seconds, via, trees = [], [], [], []
    for i, s in enumerate(snaps):
        e = network.edges[s.edge]
        roots = [
            (e.u, s.fraction * e.travel_time_s, s.fraction * e.length_m),
            (e.v, (1 - s.fraction) * e.travel_time_s, (1 - s.fraction) * e.length_m),
        ]
        t_at, m_at, prev = network.fastest_from(roots, targets)
        row = [
            _arrival(network, s, q, t_at, m_at) if i != j else (0.0, 0.0, -1)
            for j, q in enumerate(snaps)
        ]
        for j, (t, _, _) in enumerate(row):
            if math.isinf(t):
                raise TravelError(f"no road path from point {i} {pts[i]} to point {j} {pts[j]}")
        seconds.append([t for t, _, _ in row])
        metres.append([m for _, m, _ in row])
        via.append(tuple(n for _, _, n in row))
        trees.append(prev)
    legs = _NetworkLegs(network, tuple(snaps), tuple(via), tuple(trees))
    return TravelMatrix("network", pts, rounded(metres), rounded(seconds), legs)


def _snapped(network: RoadNetwork, pts: tuple[Point, ...], max_snap_m: float) -> list[Snap]:
    """Where each point meets the roads; ``TravelError`` for one too far from every edge."""
    grid = EdgeGrid(network)
    snaps = []
    for i, p in enumerate(pts):
        snap = grid.nearest(p, max_snap_m)
        if snap is None:
            raise TravelError(f"point {i} {p} is more than {max_snap_m:g} m from every road")
        snaps.append(snap)
    return snaps


def _arrival(
    network: RoadNetwork, s: Snap, q: Snap, t_at: list[float], m_at: list[float]
) -> tuple[float, float, int]:
    """Seconds, metres and the node entered from (-1: along the shared edge) to reach ``q``."""
    e = network.edges[q.edge]
    f, tt, mm = q.fraction, e.travel_time_s, e.length_m
    options = [(t_at[e.u] + f * tt, m_at[e.u] + f * mm, e.u)]
    options.append((t_at[e.v] + (1 - f) * tt, m_at[e.v] + (1 - f) * mm, e.v))
    if q.edge == s.edge:
        options.append((abs(f - s.fraction) * tt, abs(f - s.fraction) * mm, -1))
    return min(options)


@dataclass(frozen=True)
class _NetworkLegs:
    """The fastest-path trees of a network matrix, to draw its legs."""

    network: RoadNetwork
    snaps: tuple[Snap, ...]
    via: tuple[tuple[int, ...], ...]
    trees: tuple[list[int], ...]

    def __call__(self, i: int, j: int) -> list[Point]:
        nodes, node = [], self.via[i][j]
        while node != -1:
            nodes.append(node)
            node = self.trees[i][node]
        s, q = self.snaps[i], self.snaps[j]
        return [(s.lat, s.lon), *self.network.route_points(reversed(nodes)), (q.lat, q.lon)]
