"""Fastest paths from many points at once agree with the network's own heap search."""

import math
import random

import numpy as np
import pytest

from analytics.geo.geometry import moved
from analytics.geo.roads import Edge, Node, RoadClass, RoadNetwork
from analytics.routing.grid_index import EdgeGrid
from analytics.routing.road_paths import fastest_paths
from simulators.world import build_world


def _parallel_edges() -> RoadNetwork:
    """A square with a slow and a fast road between two corners, and a dead end."""
    corners = [moved(52.6, -0.7, 300.0 * (k % 2), 300.0 * (k // 2)) for k in range(4)]
    nodes = tuple(Node(k, lat, lon) for k, (lat, lon) in enumerate(corners))
    edges = (
        Edge(0, 1, RoadClass.RESIDENTIAL, "A", 300.0, 5.0),
        Edge(0, 1, RoadClass.RESIDENTIAL, "A bypass", 420.0, 14.0),
        Edge(1, 3, RoadClass.RESIDENTIAL, "B", 300.0, 9.0),
        Edge(0, 2, RoadClass.RESIDENTIAL, "C", 300.0, 9.0),
        Edge(2, 3, RoadClass.RESIDENTIAL, "D", 300.0, 9.0),
    )
    return RoadNetwork(nodes, edges, 0, ())


@pytest.mark.parametrize("which", ["world", "parallel"])
def test_paths_match_the_heap_search(which: str) -> None:
    """Seconds, metres and the path tree equal those of ``fastest_from`` from both ends."""
    network = build_world("paths", seed=4).network if which == "world" else _parallel_edges()
    rng = random.Random(5)
    grid = EdgeGrid(network)
    snaps = []
    for _ in range(25):
        node = network.nodes[rng.randrange(len(network.nodes))]
        snap = grid.nearest((node.lat + rng.uniform(-3e-4, 3e-4), node.lon), 5000.0)
        assert snap is not None
        snaps.append(snap)
    paths = fastest_paths(network, snaps)
    for i, s in enumerate(snaps):
        e = network.edges[s.edge]
        roots = [
            (e.u, s.fraction * e.travel_time_s, s.fraction * e.length_m),
            (e.v, (1 - s.fraction) * e.travel_time_s, (1 - s.fraction) * e.length_m),
        ]
        t_at, m_at, prev = network.fastest_from(roots, set(range(len(network.nodes))))
        assert paths.seconds[i].tolist() == t_at
        assert paths.metres[i].tolist() == m_at
        assert paths.prev[i].tolist() == prev
    assert not np.isinf(paths.seconds).all() and math.isfinite(float(paths.seconds.min()))
