"""Where on the council's road segments a point lies: a grid index over the segments' pieces in
a flat projection, for matching trip tracks and roughness stretches to segments."""

import itertools
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from analytics.geo.geometry import LocalProjection


class Polyline(Protocol):
    """Anything with (lat, lon) ``points`` in order, such as a road segment."""

    @property
    def points(self) -> tuple[tuple[float, float], ...]:
        """The points in order."""
        ...


class SegmentIndex:
    """The pieces (consecutive point pairs) of ``segments``, bucketed in square cells of at
    least twice ``radius_m``, so a look-up reads only the pieces of one cell."""

    def __init__(self, segments: Sequence[Polyline], radius_m: float) -> None:
        points = [p for s in segments for p in s.points]
        self.projection = LocalProjection(sum(p[0] for p in points) / max(1, len(points)))
        self.radius_m = radius_m
        self.cell = max(50.0, radius_m * 2)
        self.pieces: list[tuple[int, float, complex, complex]] = []  # segment, offset, a, b
        self.grid: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.lengths: list[float] = []
        for si, seg in enumerate(segments):
            xy = [self.projection.complex(lat, lon) for lat, lon in seg.points]
            offset = 0.0
            for a, b in itertools.pairwise(xy):
                self._add(len(self.pieces), a, b)
                self.pieces.append((si, offset, a, b))
                offset += abs(b - a)
            self.lengths.append(offset)

    def _add(self, pi: int, a: complex, b: complex) -> None:
        c = self.cell
        for gx in range(
            int((min(a.real, b.real) - c) // c), int((max(a.real, b.real) + c) // c) + 1
        ):
            for gy in range(
                int((min(a.imag, b.imag) - c) // c), int((max(a.imag, b.imag) + c) // c) + 1
            ):
                self.grid[(gx, gy)].append(pi)

    def nearest(self, p: complex) -> tuple[int, float] | None:
        """The segment nearest to the projected point ``p`` within ``radius_m``, and how far
        along that segment its foot lies (metres); ``None`` when no segment is that close."""
        best, near = None, self.radius_m
        for pi in self.grid.get((int(p.real // self.cell), int(p.imag // self.cell)), ()):
            si, offset, a, b = self.pieces[pi]
            d, along = piece_distance(p, a, b)
            if d <= near:
                best, near = (si, offset + along), d
        return best


def piece_distance(p: complex, a: complex, b: complex) -> tuple[float, float]:
    """Distance from ``p`` to the piece ``a``-``b``, and how far along it its foot lies."""
    ab = b - a
    n = abs(ab)
    if n == 0:
        return abs(p - a), 0.0
    t = min(1.0, max(0.0, ((p - a) * ab.conjugate()).real / (n * n)))
    return abs(p - (a + ab * t)), t * n
