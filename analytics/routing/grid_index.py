"""Nearest road to a point: the network's edges bucketed in a grid of square cells."""

import math
from collections import defaultdict
from dataclasses import dataclass

from analytics.geo.geometry import LocalProjection
from analytics.geo.roads import RoadNetwork
from analytics.routing.matrix import Point


@dataclass(frozen=True)
class Snap:
    """Where a point meets the roads: ``fraction`` of the way along edge ``edge`` from its u."""

    edge: int
    fraction: float
    lat: float
    lon: float


class EdgeGrid:
    """Edges bucketed by the square cells their bounding boxes touch, in a flat projection
    around the network's mean latitude (metres; plenty accurate across a town)."""

    def __init__(self, network: RoadNetwork, cell_m: float = 100.0) -> None:
        self.network, self.cell_m = network, cell_m
        lat0 = sum(n.lat for n in network.nodes) / len(network.nodes)
        self.projection = LocalProjection(lat0)
        self.xy = [self.projection.xy(n.lat, n.lon) for n in network.nodes]
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for k, e in enumerate(network.edges):
            (ax, ay), (bx, by) = self.xy[e.u], self.xy[e.v]
            for cx in range(self._cell(min(ax, bx)), self._cell(max(ax, bx)) + 1):
                for cy in range(self._cell(min(ay, by)), self._cell(max(ay, by)) + 1):
                    self.cells[cx, cy].append(k)

    def _cell(self, metres: float) -> int:
        return math.floor(metres / self.cell_m)

    def nearest(self, p: Point, max_m: float) -> Snap | None:
        """The nearest point of the nearest edge, if within ``max_m``: rings of cells outwards,
        until no edge in a farther ring can be nearer than the best so far."""
        px, py = self.projection.xy(*p)
        cx, cy = self._cell(px), self._cell(py)
        best: tuple[float, int, float] = (math.inf, -1, 0.0)
        seen: set[int] = set()
        for r in range(math.ceil(max_m / self.cell_m) + 1):
            near = self._ring(cx, cy, r) - seen
            seen |= near
            for k in sorted(near):
                best = min(best, self._distance(k, px, py))
            if best[0] <= r * self.cell_m:
                break  # edges not yet seen lie in farther rings, at least r cells away
        if best[0] > max_m:
            return None
        _, k, t = best
        lat, lon = self.network.point_along(self.network.edges[k], t)
        return Snap(k, t, lat, lon)

    def _ring(self, cx: int, cy: int, r: int) -> set[int]:
        """Edges in the cells exactly ``r`` cells from cell (``cx``, ``cy``)."""
        ring = [(cx + dx, cy + dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1)]
        return {
            k
            for c in ring
            if max(abs(c[0] - cx), abs(c[1] - cy)) == r
            for k in self.cells.get(c, ())
        }

    def _distance(self, k: int, px: float, py: float) -> tuple[float, int, float]:
        """Metres from (``px``, ``py``) to edge ``k``, the edge, and the fraction along it."""
        e = self.network.edges[k]
        (ax, ay), (bx, by) = self.xy[e.u], self.xy[e.v]
        dx, dy = bx - ax, by - ay
        span = dx * dx + dy * dy
        t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / span)) if span else 0.0
        return math.hypot(ax + t * dx - px, ay + t * dy - py), k, t
