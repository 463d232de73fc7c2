"""Matching many tracks' points to road segments at once, with numpy.

The same arithmetic as the loop it replaced (each point of a track, resampled every
``step_m``, against the pieces of its cell of a :class:`SegmentIndex`), on arrays, so that
every point gets the same segment and position to the last bit: the resampled points of every
track, then for each the nearest piece within ``radius_m`` (of equally near pieces the last in
piece order, as :meth:`SegmentIndex.nearest` keeps the last of its cell's list).
"""

from collections.abc import Sequence

import numpy as np

from analytics.geo.geometry import METRES_PER_DEGREE, metres_per_degree_lon
from analytics.potholes.segment_index import SegmentIndex

CHUNK = 100_000
"""Points matched at a time: their candidate pieces stay within tens of MB."""


def resample(
    tracks: Sequence[Sequence[tuple[float, float]]],
    lat0: float,
    step_m: float,
    max_gap_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The points of every track every ``step_m`` or closer along it, projected around
    ``lat0``: which track each point is of, and the points. A leg longer than ``max_gap_m`` is
    a gap: only its end is kept."""
    sizes = np.array([len(t) for t in tracks], dtype=np.int64)
    flat = np.array([p for t in tracks for p in t], dtype=np.float64).reshape(-1, 2)
    xy = (flat[:, 1] * metres_per_degree_lon(lat0)) + 1j * (flat[:, 0] * METRES_PER_DEGREE)
    track = np.repeat(np.arange(len(tracks)), sizes)
    # Legs join consecutive points of one track.
    leg = np.flatnonzero(track[1:] == track[:-1])
    a, b = xy[leg], xy[leg + 1]
    d = _length(b - a)
    gap = d > max_gap_m
    n = np.where(gap, 1, np.maximum(1, np.ceil(d / step_m))).astype(np.int64)
    owner = np.repeat(np.arange(len(leg)), n)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(n) - n, n) + 1
    stepped = a[owner] + (b - a)[owner] * (k / n[owner])
    points = np.where(gap[owner], b[owner], stepped)
    firsts = np.cumsum(sizes) - sizes
    firsts = firsts[sizes > 0]
    all_track = np.concatenate([track[firsts], track[leg][owner]])
    all_xy = np.concatenate([xy[firsts], points])
    return all_track, all_xy


class PieceArrays:
    """The pieces of a :class:`SegmentIndex` as arrays, bucketed again in a finer grid: cells
    of ``radius_m``, each listing (in piece order) every piece that comes within ``radius_m``
    of it, so a point's own cell lists every piece that may be nearest."""

    def __init__(self, index: SegmentIndex) -> None:
        self.cell = self.radius_m = index.radius_m
        self.segment = np.array([p[0] for p in index.pieces], dtype=np.int64)
        self.offset = np.array([p[1] for p in index.pieces], dtype=np.float64)
        a = np.array([p[2] for p in index.pieces], dtype=np.complex128)
        b = np.array([p[3] for p in index.pieces], dtype=np.complex128)
        self.ax, self.ay, self.bx, self.by = a.real, a.imag, b.real, b.imag
        self.abx, self.aby = self.bx - self.ax, self.by - self.ay
        self.length = _length(b - a)
        lo_x, hi_x = _cells(np.minimum(a.real, b.real), np.maximum(a.real, b.real), self.cell)
        lo_y, hi_y = _cells(np.minimum(a.imag, b.imag), np.maximum(a.imag, b.imag), self.cell)
        wide, tall = hi_x - lo_x + 1, hi_y - lo_y + 1
        piece = np.repeat(np.arange(len(a)), wide * tall)
        rank = np.arange(len(piece)) - np.repeat(np.cumsum(wide * tall) - wide * tall, wide * tall)
        gx = lo_x[piece] + rank // tall[piece]
        gy = lo_y[piece] + rank % tall[piece]
        key = _key(gx, gy)
        order = np.lexsort((piece, key))
        key, self.members = key[order], piece[order]
        self.keys, self.start, self.count = np.unique(key, return_index=True, return_counts=True)

    def nearest(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each point, the nearest segment within ``radius_m`` (-1: none) and how far
        along it the point's foot lies."""
        seg = np.full(len(p), -1, dtype=np.int64)
        along = np.zeros(len(p))
        for lo in range(0, len(p), CHUNK):
            s, a = self._nearest(p[lo : lo + CHUNK])
            seg[lo : lo + CHUNK], along[lo : lo + CHUNK] = s, a
        return seg, along

    def _nearest(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seg = np.full(len(p), -1, dtype=np.int64)
        along = np.zeros(len(p))
        if not len(self.keys):
            return seg, along
        gx = np.floor_divide(p.real, self.cell).astype(np.int64)
        gy = np.floor_divide(p.imag, self.cell).astype(np.int64)
        key = _key(gx, gy)
        at = np.clip(np.searchsorted(self.keys, key), 0, len(self.keys) - 1)
        count = np.where(self.keys[at] == key, self.count[at], 0)
        point = np.repeat(np.arange(len(p)), count)
        if not len(point):
            return seg, along
        first = np.cumsum(count) - count
        rank = np.arange(len(point)) - np.repeat(first, count)
        piece = self.members[np.repeat(self.start[at], count) + rank]
        dist, foot = self._distance(p.real[point], p.imag[point], piece)
        dist = np.where(dist <= self.radius_m, dist, np.inf)
        # Per point its smallest distance; of pieces that near, the last in piece order (the
        # loop over a cell's list keeps the last of equals, and lists run in piece order).
        nonempty = count > 0
        starts = first[nonempty]
        best = np.full(len(p), np.inf)
        best[nonempty] = np.minimum.reduceat(dist, starts)
        hit = (dist == best[point]) & ~np.isinf(dist)
        last = np.full(len(p), -1, dtype=np.int64)
        last[nonempty] = np.maximum.reduceat(np.where(hit, np.arange(len(point)), -1), starts)
        ok = last >= 0
        chosen = piece[last[ok]]
        seg[ok] = self.segment[chosen]
        along[ok] = self.offset[chosen] + foot[last[ok]]
        return seg, along

    def _distance(
        self, px: np.ndarray, py: np.ndarray, piece: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`~analytics.potholes.segment_index.piece_distance` elementwise, in real
        arithmetic that gives the same floats as its complex one."""
        ax, ay, abx, aby = self.ax[piece], self.ay[piece], self.abx[piece], self.aby[piece]
        n = self.length[piece]
        dx, dy = px - ax, py - ay
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.minimum(1.0, np.maximum(0.0, (dx * abx + dy * aby) / (n * n)))
        t = np.where(n == 0, 0.0, t)
        dist = np.hypot(px - (ax + abx * t), py - (ay + aby * t))
        return dist, t * n


def _length(z: np.ndarray) -> np.ndarray:
    """``abs`` of each complex number as Python computes it (``hypot``): numpy's own complex
    absolute value differs from it in the last bit for about a third of numbers."""
    out: np.ndarray = np.hypot(z.real, z.imag)
    return out


def _cells(lo: np.ndarray, hi: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """First and last cell of each span widened by one cell either side."""
    return (
        np.floor_divide(lo - cell, cell).astype(np.int64),
        np.floor_divide(hi + cell, cell).astype(np.int64),
    )


def _key(gx: np.ndarray | int, gy: np.ndarray | int) -> np.ndarray:
    """One integer per grid cell (cells within ±2^31 of the origin)."""
    return (np.asarray(gx, dtype=np.int64) << 32) + (np.asarray(gy, dtype=np.int64) + (1 << 31))
