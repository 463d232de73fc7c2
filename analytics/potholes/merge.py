"""One pothole, one entry: clusters of the same spot seen from different directions merged.

Clustering keeps directions of travel apart, so that a cluster's centre is not blurred by the
other lane's reports. But a pothole in mid-road, or one that both lanes' wheels cross, is reported
from both directions and would be listed twice. Here clusters whose centres lie within
``merge_m`` of each other merge into one, closest pairs first, as long as the merged centres stay
that close; where the council's road segments are known, only clusters on the same road merge,
so potholes on two roads that cross or run side by side stay apart.

Why about 9 m: a two-way street's carriageway is 6-7.5 m (two lanes of 3-3.65 m), so the wheel
paths of the two directions over one pothole are up to a lane, about 3.5 m, apart. Phones' fixes
err by 2-5 m (1 sigma; more under trees and buildings), and a cluster's centre averages a few
phones' fixes; each direction's jolt is also placed where the phone felt it, a few metres past
the pothole in its own direction of travel, so the two centres are pushed apart along the road.
On the simulator's towns (seeds 1-6) clusters of one pothole lay a median 4 m apart and 91 of
104 such pairs within 9 m; where both clusters had 3 phones or more, all but one (8.4 m) lay within
6 m. Two potholes 15-20 m apart on one road stay two.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from analytics.geo.geometry import LocalProjection
from analytics.potholes.segment_index import Polyline, SegmentIndex, piece_distance
from ingest.kernel.params import require_in

JOIN_M = 3.0
"""A segment this much farther from a point than its nearest segment is one it may be on too:
near where two segments of a road meet (a cut, a bend node) a pothole belongs to both."""


@dataclass(frozen=True)
class Spot:
    """A cluster's centre ``pos`` (x + iy, metres), its summed report quality ``weight`` and the
    road segments it may lie on (None when no known road is near, or none are known)."""

    pos: complex
    weight: float
    roads: frozenset[int] | None = None


class RoadLookup:
    """Which of the council's road segments a point may lie on.

    Parameters
    ----------
    segments
        The council's road segments (anything with ``points``).
    reach_m
        Farthest a cluster's centre may be from a segment's centre line to lie on it: half a
        wide carriageway plus the centre's GPS error.
    """

    def __init__(self, segments: Sequence[Polyline], reach_m: float = 10.0) -> None:
        require_in("reach_m", reach_m, 0, 100, lo_open=True)
        self.index = SegmentIndex(segments, reach_m)
        self.reach_m = reach_m

    def roads(self, lat: float, lon: float) -> frozenset[int] | None:
        """Indices of the segments within ``JOIN_M`` of the nearest one, None if none is within
        ``reach_m``."""
        index = self.index
        p = index.projection.complex(lat, lon)
        near: dict[int, float] = defaultdict(lambda: float("inf"))
        for pi in index.grid.get((int(p.real // index.cell), int(p.imag // index.cell)), ()):
            si, _, a, b = index.pieces[pi]
            near[si] = min(near[si], piece_distance(p, a, b)[0])
        closest = min(near.values(), default=float("inf"))
        if closest > self.reach_m:
            return None
        return frozenset(si for si, d in near.items() if d <= closest + JOIN_M)


def merge_clusters(
    clusters: Sequence[Sequence[int]],
    points: Sequence[tuple[float, float]],
    weights: Sequence[float],
    merge_m: float,
    roads: RoadLookup | None = None,
) -> list[list[int]]:
    """Merge the clusters of one pothole seen from different directions.

    Parameters
    ----------
    clusters
        Indices into ``points``, one list per cluster.
    points, weights
        Each report's (lat, lon) and quality, which weighs it in its cluster's centre.
    merge_m
        See :func:`merge_spots`; 0 keeps every cluster apart.
    roads
        The council's road segments; None merges by distance alone.

    Returns
    -------
    list[list[int]]
        Indices into ``points``, one list per pothole (its clusters' members, cluster by
        cluster), in order of each pothole's first cluster.
    """
    if merge_m == 0 or len(clusters) < 2:
        return [list(c) for c in clusters]
    projection = LocalProjection(points[0][0])
    spots = []
    for members in clusters:
        w = sum(weights[i] for i in members)
        lat = sum(points[i][0] * weights[i] for i in members) / w
        lon = sum(points[i][1] * weights[i] for i in members) / w
        on = None if roads is None else roads.roads(lat, lon)
        spots.append(Spot(projection.complex(lat, lon), w, on))
    return [[i for c in group for i in clusters[c]] for group in merge_spots(spots, merge_m)]


def merge_spots(spots: Sequence[Spot], merge_m: float) -> list[list[int]]:
    """Group the spots of one pothole.

    Parameters
    ----------
    spots
        Cluster centres with their weights and roads.
    merge_m
        Largest distance (m) between two groups' weighted centres that merge.

    Returns
    -------
    list[list[int]]
        Indices into ``spots``, one list per pothole, each in ascending order, ordered by their
        first index. Pairs are tried closest first; two groups merge when their current centres
        are within ``merge_m`` and they share a road (or either road is unknown), so a chain of
        spots never stretches one pothole along the street.
    """
    parent = list(range(len(spots)))
    pos = [s.pos for s in spots]
    weight = [s.weight for s in spots]
    roads = [s.roads for s in spots]

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, i, j in _close_pairs(pos, merge_m):
        a, b = find(i), find(j)
        if a == b or abs(pos[a] - pos[b]) > merge_m or not _same_road(roads[a], roads[b]):
            continue
        a, b = min(a, b), max(a, b)
        w = weight[a] + weight[b]
        pos[a] = (pos[a] * weight[a] + pos[b] * weight[b]) / w
        weight[a] = w
        roads[a] = _common(roads[a], roads[b])
        parent[b] = a
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(spots)):
        groups[find(i)].append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _same_road(a: frozenset[int] | None, b: frozenset[int] | None) -> bool:
    return a is None or b is None or bool(a & b)


def _common(a: frozenset[int] | None, b: frozenset[int] | None) -> frozenset[int] | None:
    return b if a is None else a if b is None else a & b


def _close_pairs(pos: Sequence[complex], reach: float) -> list[tuple[float, int, int]]:
    """Pairs (distance, i, j), i < j, within ``reach``, closest first (via a grid)."""
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, p in enumerate(pos):
        grid[(int(p.real // reach), int(p.imag // reach))].append(i)
    pairs = []
    for (gx, gy), members in grid.items():
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in grid.get((gx + dx, gy + dy), ()):
                    for i in members:
                        d = abs(pos[i] - pos[j])
                        if i < j and d <= reach:
                            pairs.append((d, i, j))
    return sorted(pairs)
