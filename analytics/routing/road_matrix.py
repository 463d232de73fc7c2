"""Travel figures from fastest paths on a road network: one Dijkstra search per point, all
of them in compiled code (:mod:`analytics.routing.road_paths`)."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.geo.roads import RoadNetwork
from analytics.routing.errors import TravelError
from analytics.routing.grid_index import EdgeGrid, Snap
from analytics.routing.matrix import Matrix, Point, TravelMatrix, checked_points
from analytics.routing.road_paths import FastestPaths, fastest_paths
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
    paths = fastest_paths(network, snaps)
    seconds, metres, via = _arrivals(network, snaps, paths)
    bad = np.argwhere(np.isinf(seconds))
    if len(bad):
        i, j = (int(k) for k in bad[0])
        raise TravelError(f"no road path from point {i} {pts[i]} to point {j} {pts[j]}")
    legs = _NetworkLegs(network, tuple(snaps), via, paths.prev)
    return TravelMatrix("network", pts, _whole(metres), _whole(seconds), legs)


def _whole(matrix: np.ndarray) -> Matrix:
    """``matrix`` in whole units, rounded half to even as ``round`` does."""
    return tuple(tuple(row) for row in np.rint(matrix).astype(np.int64).tolist())


def _arrivals(
    network: RoadNetwork, snaps: Sequence[Snap], paths: FastestPaths
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds, metres and the node entered from (-1: along the shared edge) from every point
    to every point: the best of arriving by either end of the target's edge, or along the
    shared edge, compared as (seconds, metres, node) tuples."""
    edges = [network.edges[q.edge] for q in snaps]
    u = np.array([e.u for e in edges])
    v = np.array([e.v for e in edges])
    f = np.array([q.fraction for q in snaps])
    tt = np.array([e.travel_time_s for e in edges])
    mm = np.array([e.length_m for e in edges])
    best = (
        paths.seconds[:, u] + f * tt,
        paths.metres[:, u] + f * mm,
        np.broadcast_to(u, (len(u), len(u))),
    )
    other = (
        paths.seconds[:, v] + (1 - f) * tt,
        paths.metres[:, v] + (1 - f) * mm,
        np.broadcast_to(v, best[2].shape),
    )
    best = _better(best, other, np.ones(best[0].shape, dtype=bool))
    edge = np.array([q.edge for q in snaps])
    along = np.abs(f[None, :] - f[:, None])
    shared = (along * tt, along * mm, np.full(best[0].shape, -1))
    best = _better(best, shared, edge[:, None] == edge[None, :])
    seconds, metres, via = (np.array(x, dtype=x.dtype) for x in best)
    np.fill_diagonal(seconds, 0.0)
    np.fill_diagonal(metres, 0.0)
    np.fill_diagonal(via, -1)
    return seconds, metres, via


Option = tuple[np.ndarray, np.ndarray, np.ndarray]


def _better(a: Option, b: Option, allowed: np.ndarray) -> Option:
    """Elementwise the smaller of ``a`` and ``b`` as (seconds, metres, node) tuples, ``b``
    only where ``allowed``."""
    ta, ma, na = a
    tb, mb, nb = b
    take = allowed & ((tb < ta) | ((tb == ta) & ((mb < ma) | ((mb == ma) & (nb < na)))))
    return np.where(take, tb, ta), np.where(take, mb, ma), np.where(take, nb, na)


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


@dataclass(frozen=True)
class _NetworkLegs:
    """The fastest-path trees of a network matrix, to draw its legs."""

    network: RoadNetwork
    snaps: tuple[Snap, ...]
    via: np.ndarray
    trees: np.ndarray

    def __call__(self, i: int, j: int) -> list[Point]:
        nodes, node = [], int(self.via[i, j])
        while node != -1:
            nodes.append(node)
            node = int(self.trees[i, node])
        s, q = self.snaps[i], self.snaps[j]
        return [(s.lat, s.lon), *self.network.route_points(reversed(nodes)), (q.lat, q.lon)]
