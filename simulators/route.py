"""A trip's route as a polyline in metres east and north of its first point (flat earth: routes
are a few kilometres), with the distance along it at each point."""

import bisect
import itertools
import math
from collections.abc import Sequence

from analytics.geo.geometry import moved, offset_m
from simulators.features import RoadFeature

PASS_RADIUS_M = 2.0
"""A feature further than this from the route is not on the vehicle's path."""


def frac(a: float, b: float, x: float) -> float:
    """Where ``x`` lies between ``a`` and ``b``, as a share of the way (0 when ``b <= a``)."""
    return (x - a) / (b - a) if b > a else 0.0


class Route:
    """The route's points as (x east, y north) metres from its first point, and ``cum``, the
    distance along it at each point."""

    def __init__(self, route: Sequence[tuple[float, float]]) -> None:
        self.origin = route[0]
        self.xy = [self.to_xy(p) for p in route]
        pairs = itertools.pairwise(self.xy)
        self.cum = [0.0, *itertools.accumulate(math.dist(a, b) for a, b in pairs)]

    def to_xy(self, p: tuple[float, float]) -> tuple[float, float]:
        """(east, north) in metres of the point ``p`` (lat, lon) from the route's origin."""
        return offset_m(*self.origin, *p)

    def crossings(self, f: RoadFeature) -> list[float]:
        """Distances along the route at which it passes within ``PASS_RADIUS_M`` of ``f``."""
        (px, py), xy, cum = self.to_xy((f.lat, f.lon)), self.xy, self.cum
        out: list[float] = []
        for k in range(len(xy) - 1):
            (x1, y1), (x2, y2), length = xy[k], xy[k + 1], cum[k + 1] - cum[k]
            dot = (px - x1) * (x2 - x1) + (py - y1) * (y2 - y1)
            u = min(1.0, max(0.0, frac(0.0, length * length, dot)))
            near = math.dist((px, py), (x1 + u * (x2 - x1), y1 + u * (y2 - y1)))
            s = cum[k] + u * length
            if near <= PASS_RADIUS_M and (not out or s - out[-1] > 5.0):
                out.append(s)  # once, though a point at a corner is near both legs
        return out

    def point_at(self, s: float, east: float = 0.0, north: float = 0.0) -> tuple[float, float]:
        """(lat, lon) at ``s`` metres along the route, moved ``east`` and ``north`` metres."""
        k = min(max(0, bisect.bisect_right(self.cum, s) - 1), len(self.xy) - 2)
        u = min(1.0, frac(self.cum[k], self.cum[k + 1], s))
        (x1, y1), (x2, y2) = self.xy[k], self.xy[k + 1]
        return moved(*self.origin, x1 + u * (x2 - x1) + east, y1 + u * (y2 - y1) + north)
