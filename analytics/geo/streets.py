"""Where a point is, in words people use: the street it stands on, and the nearest cross street
("High Street, near Church Street"), from the council's own named roads.

A bin or a pothole stands within a few metres of its road's centre line, but GPS puts it up to
~20 m off, and wide roads add half their width: so the nearest named road within
:data:`ON_STREET_M` is the street. Farther out, up to :data:`NEAR_STREET_M`, the point is only
"near" the nearest named road (a bin in a park, a pothole in a car park); beyond that it has no
street. The cross street is the nearest junction of the street with another named road within
:data:`CROSS_STREET_M` along the way, which is what a crew looks for at the kerb.
"""

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analytics.geo.geometry import EARTH_RADIUS_M

ON_STREET_M = 40.0
NEAR_STREET_M = 250.0
CROSS_STREET_M = 200.0
_CELL_M = 100.0
_JOIN_M = 2.0  # way nodes this close are one junction (OSM shares nodes; GeoJSON may not)


@dataclass(frozen=True)
class NamedRoad:
    """A named stretch of road: its name, class and (lat, lon) points in order."""

    name: str
    road_class: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Place:
    """A point's street, the cross street nearest it (if any) and how far it is off the road."""

    street: str
    near: str | None
    distance_m: float
    on_street: bool

    def __str__(self) -> str:
        if not self.on_street:
            return f"near {self.street}"
        return self.street if self.near is None else f"{self.street}, near {self.near}"


class StreetNamer:
    """Names points after the nearest named road of a set of roads (see the module)."""

    def __init__(self, roads: Iterable[NamedRoad]) -> None:
        named = [r for r in roads if r.name.strip() and len(r.points) >= 2]
        lat0 = sum(r.points[0][0] for r in named) / len(named) if named else 0.0
        self._kx = math.pi / 180 * EARTH_RADIUS_M * math.cos(math.radians(lat0))
        self._ky = math.pi / 180 * EARTH_RADIUS_M
        # Each straight piece of road, in local metres, filed under every grid cell it crosses.
        self._pieces: list[tuple[float, float, float, float, str]] = []
        self._grid: dict[tuple[int, int], list[int]] = defaultdict(list)
        ends: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
        for road in named:
            xy = [self._xy(lat, lon) for lat, lon in road.points]
            for (x1, y1), (x2, y2) in itertools.pairwise(xy):
                index = len(self._pieces)
                self._pieces.append((x1, y1, x2, y2, road.name))
                for cell in _cells(x1, y1, x2, y2):
                    self._grid[cell].append(index)
            for x, y in xy:
                ends[_cell(x, y, _JOIN_M * 4)].append((x, y, road.name))
        self._junctions = _junctions(ends)

    def _xy(self, lat: float, lon: float) -> tuple[float, float]:
        return lon * self._kx, lat * self._ky

    def place(self, lat: float, lon: float) -> Place | None:
        """The point's street and cross street, or None with no named road within
        :data:`NEAR_STREET_M`."""
        if not self._pieces:
            return None
        x, y = self._xy(lat, lon)
        best: tuple[float, str] | None = None
        reach = math.ceil(NEAR_STREET_M / _CELL_M)
        cx, cy = _cell(x, y, _CELL_M)
        for ring in range(reach + 1):
            if best is not None and best[0] < (ring - 1) * _CELL_M:
                break  # nothing in this ring or beyond can be nearer
            for cell in _ring(cx, cy, ring):
                for i in self._grid.get(cell, ()):
                    x1, y1, x2, y2, name = self._pieces[i]
                    d = _to_segment(x, y, x1, y1, x2, y2)
                    if best is None or d < best[0]:
                        best = (d, name)
        if best is None or best[0] > NEAR_STREET_M:
            return None
        distance, street = best
        near = self._cross_street(x, y, street) if distance <= ON_STREET_M else None
        return Place(street, near, distance, distance <= ON_STREET_M)

    def describe(self, lat: float, lon: float) -> str | None:
        """The place as words ("High Street, near Church Street"), or None."""
        place = self.place(lat, lon)
        return None if place is None else str(place)

    def _cross_street(self, x: float, y: float, street: str) -> str | None:
        best: tuple[float, str] | None = None
        for jx, jy, names in self._junctions.get(street, ()):
            d = math.hypot(jx - x, jy - y)
            if d <= CROSS_STREET_M and (best is None or d < best[0]):
                best = (d, min(names))
        return None if best is None else best[1]


def _junctions(
    ends: dict[tuple[int, int], list[tuple[float, float, str]]],
) -> dict[str, list[tuple[float, float, frozenset[str]]]]:
    """Per street, its junctions with other named roads: where it and they share a point."""
    by_street: dict[str, list[tuple[float, float, frozenset[str]]]] = defaultdict(list)
    for points in ends.values():
        for x, y, name in points:
            others = frozenset(
                n for px, py, n in points if n != name and math.hypot(px - x, py - y) <= _JOIN_M
            )
            if others:
                by_street[name].append((x, y, others))
    return by_street


def _cell(x: float, y: float, size: float) -> tuple[int, int]:
    return math.floor(x / size), math.floor(y / size)


def _cells(x1: float, y1: float, x2: float, y2: float) -> Iterable[tuple[int, int]]:
    (ax, ay), (bx, by) = (
        _cell(min(x1, x2), min(y1, y2), _CELL_M),
        _cell(max(x1, x2), max(y1, y2), _CELL_M),
    )
    return ((i, j) for i in range(ax, bx + 1) for j in range(ay, by + 1))


def _ring(cx: int, cy: int, r: int) -> Sequence[tuple[int, int]]:
    if r == 0:
        return [(cx, cy)]
    side = range(-r, r + 1)
    return [
        *((cx + d, cy - r) for d in side),
        *((cx + d, cy + r) for d in side),
        *((cx - r, cy + d) for d in side[1:-1]),
        *((cx + r, cy + d) for d in side[1:-1]),
    ]


def _to_segment(x: float, y: float, x1: float, y1: float, x2: float, y2: float) -> float:
    dx, dy = x2 - x1, y2 - y1
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / length2))
    return math.hypot(x - (x1 + t * dx), y - (y1 + t * dy))
