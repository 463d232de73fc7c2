"""Fastest paths from many snapped points at once, with SciPy's Dijkstra in compiled code.

Each point becomes a node of its own, joined to both ends of its edge by the part of the edge
between them, so that one search per point starts, as
:meth:`~analytics.geo.roads.RoadNetwork.fastest_from` does, from both ends at once. Times add
up edge by edge in path order as that method's do, so the figures are the same floats; metres
are then added up along the fastest paths found.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# SciPy comes with LightGBM (forecasting); it ships no type stubs.
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped]

from analytics.geo.roads import RoadNetwork
from analytics.routing.grid_index import Snap

BLOCK = 512
"""Searches run together: their dense rows stay within about 50 MB an array."""


@dataclass(frozen=True)
class FastestPaths:
    """Per point (row) and network node (column): seconds and metres of the fastest path from
    the point (``inf`` where unreachable), and the node before it on that path (-1 for the
    point's own edge ends, reached straight from it, and the unreached)."""

    seconds: np.ndarray
    metres: np.ndarray
    prev: np.ndarray


@dataclass(frozen=True)
class _Graph:
    """The network's two-way edges, the fastest of parallel ones only, as sorted arcs."""

    nodes: int
    src: np.ndarray
    dst: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray

    @classmethod
    def of(cls, network: RoadNetwork) -> "_Graph":
        u = np.array([e.u for e in network.edges], dtype=np.int64)
        v = np.array([e.v for e in network.edges], dtype=np.int64)
        t = np.array([e.travel_time_s for e in network.edges])
        m = np.array([e.length_m for e in network.edges])
        src, dst = np.concatenate([u, v]), np.concatenate([v, u])
        t, m = np.concatenate([t, t]), np.concatenate([m, m])
        # Of parallel arcs the fastest, the first listed among equally fast (as the heap
        # search relaxes them in that order and keeps only strict improvements).
        order = np.lexsort((np.arange(len(src)), t, dst, src))
        src, dst, t, m = src[order], dst[order], t[order], m[order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        return cls(len(network.nodes), src[first], dst[first], t[first], m[first])

    def arc_metres(self, frm: np.ndarray, to: np.ndarray) -> np.ndarray:
        """Length of the arc ``frm`` -> ``to`` (arrays of existing arcs)."""
        keys = self.src * self.nodes + self.dst
        out: np.ndarray = self.metres[np.searchsorted(keys, frm * self.nodes + to)]
        return out


def fastest_paths(network: RoadNetwork, snaps: Sequence[Snap]) -> FastestPaths:
    """Fastest paths from every snapped point to every node of ``network``."""
    graph = _Graph.of(network)
    n, p = graph.nodes, len(snaps)
    seconds = np.empty((p, n))
    metres = np.empty((p, n))
    prev = np.empty((p, n), dtype=np.int32)
    for lo in range(0, p, BLOCK):
        block = snaps[lo : lo + BLOCK]
        t, m, pr = _search(network, graph, block)
        seconds[lo : lo + len(block)], metres[lo : lo + len(block)] = t, m
        prev[lo : lo + len(block)] = pr
    return FastestPaths(seconds, metres, prev)


def _search(
    network: RoadNetwork, graph: _Graph, snaps: Sequence[Snap]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, b = graph.nodes, len(snaps)
    edges = [network.edges[s.edge] for s in snaps]
    frac = np.array([s.fraction for s in snaps])
    tt = np.array([e.travel_time_s for e in edges])
    mm = np.array([e.length_m for e in edges])
    ends = np.array([[e.u, e.v] for e in edges], dtype=np.int64)
    lead_t = np.column_stack([frac * tt, (1 - frac) * tt])
    lead_m = np.column_stack([frac * mm, (1 - frac) * mm])
    starts = n + np.arange(b)
    src = np.concatenate([graph.src, np.repeat(starts, 2)])
    dst = np.concatenate([graph.dst, ends.ravel()])
    weight = np.concatenate([graph.seconds, lead_t.ravel()])
    # Explicitly stored zeros stay arcs in csgraph; the start arcs never repeat a pair.
    matrix = csr_matrix((weight, (src, dst)), shape=(n + b, n + b))
    t_all, pred = dijkstra(matrix, directed=True, indices=starts, return_predecessors=True)
    t, pred = t_all[:, :n], pred[:, :n].astype(np.int64)
    metres = np.full((b, n), np.inf)
    # The ends of a point's edge reached straight from it: the part of the edge to them.
    r, v = np.nonzero(pred >= n)
    metres[r, v] = lead_m[r, np.where(ends[r, 0] == v, 0, 1)]
    # Every other reached node: its predecessor's metres and the arc between, added in order
    # of arrival (a node's predecessor arrives before it).
    inner = (pred >= 0) & (pred < n)
    arc = np.zeros((b, n))
    r, v = np.nonzero(inner)
    arc[r, v] = graph.arc_metres(pred[r, v], v)
    rows = np.arange(b)
    order = np.argsort(t, axis=1, kind="stable")
    for k in range(int((~np.isinf(t)).sum(axis=1).max(initial=0))):
        node = order[:, k]
        ok = inner[rows, node]
        r, v = rows[ok], node[ok]
        metres[r, v] = metres[r, pred[r, v]] + arc[r, v]
    prev = np.where(inner, pred, -1).astype(np.int32)
    return t, metres, prev
