"""Road coverage: how often phones drove each road segment.

No bump reports on a road means either a smooth road or a road nobody drove. Coverage tells the
two apart: phones send the track of each trip (``coverage`` stream, trip ends already trimmed),
and a track passes a segment when it runs along at least half of it within ``match_radius_m``.

Segments come from the council's road network: chains of edges between junctions, cut where the
road's name changes and at ``max_length_m``, so a long road shows which stretch is driven.
"""

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from analytics.geo.geometry import haversine_m
from analytics.geo.roads import Edge, RoadNetwork
from analytics.potholes.segment_index import SegmentIndex
from analytics.potholes.track_match import PieceArrays, resample
from ingest.db.pseudonyms import distinct_phones
from ingest.kernel.params import require, require_in


@dataclass(frozen=True)
class Segment:
    """A stretch of road; ``points`` are (lat, lon) in order."""

    segment_id: str
    name: str
    road_class: str
    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            raise ValueError(f"Expected at least two points in segment {self.segment_id!r}.")

    @property
    def length_m(self) -> float:
        """Length along the points."""
        return sum(haversine_m(*a, *b) for a, b in itertools.pairwise(self.points))


@dataclass(frozen=True)
class Track:
    """One trip's coverage track: a phone pseudonym, when, and (lat, lon) points in order."""

    device_id: str
    ts_start: datetime
    ts_end: datetime
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class SegmentCoverage:
    """Passes over one segment: tracks, distinct phones (per salt period) and the latest."""

    segment_id: str
    passes: int
    phones: int
    last_pass: datetime | None


@dataclass(frozen=True)
class CoverageParams:
    """How tracks are matched to segments.

    Parameters
    ----------
    match_radius_m
        Farthest a track point may be from a segment to count as on it (GPS error).
    step_m
        Tracks are resampled this finely along their length.
    min_share
        Share of a segment's length a track must run along for a pass.
    max_gap_m
        Track points farther apart than this are a gap in the track, not a straight road.
    """

    match_radius_m: float = 15.0
    step_m: float = 10.0
    min_share: float = 0.5
    max_gap_m: float = 150.0

    def __post_init__(self) -> None:
        require_in("match_radius_m", self.match_radius_m, 1, 100)
        require_in("step_m", self.step_m, 1, 50)
        require_in("min_share", self.min_share, 0, 1, lo_open=True)
        require(not self.max_gap_m < self.step_m, "Expected max_gap_m at least step_m.")


def segments_from_network(network: RoadNetwork, max_length_m: float = 200.0) -> list[Segment]:
    """The network's roads as segments: chains of edges through bends (nodes joining exactly
    two edges of the same name), cut at junctions, name changes and ``max_length_m``."""
    if max_length_m <= 0:
        raise ValueError("Expected max_length_m above 0.")
    adjacency: dict[int, list[int]] = defaultdict(list)
    for i, e in enumerate(network.edges):
        adjacency[e.u].append(i)
        adjacency[e.v].append(i)

    def bend(node: int, name: str) -> bool:
        edges = adjacency[node]
        return len(edges) == 2 and all(network.edges[i].name == name for i in edges)

    used: set[int] = set()
    out: list[Segment] = []
    for start_edge, e0 in enumerate(network.edges):
        if start_edge in used:
            continue
        # Walk back to the start of this chain, then forward along it.
        node, edge = e0.u, start_edge
        seen = {edge}
        while bend(node, e0.name):
            nxt = next(i for i in adjacency[node] if i != edge)
            if nxt in seen:
                break
            seen.add(nxt)
            edge = nxt
            e = network.edges[edge]
            node = e.u if e.v == node else e.v
        chain_nodes, length, first = [node], 0.0, edge
        while edge not in used:
            used.add(edge)
            e = network.edges[edge]
            node = e.v if e.u == node else e.u
            if length + e.length_m > max_length_m and len(chain_nodes) > 1:
                out.append(_segment(network, chain_nodes, e0, first))
                chain_nodes, length, first = [chain_nodes[-1]], 0.0, edge
            chain_nodes.append(node)
            length += e.length_m
            if not bend(node, e0.name):
                break
            edge = next(i for i in adjacency[node] if i != edge)
        out.append(_segment(network, chain_nodes, e0, first))
    return out


def _segment(network: RoadNetwork, nodes: list[int], edge: Edge, first: int) -> Segment:
    """A segment named after the index of its first edge, unique within the network."""
    pts = tuple((network.nodes[n].lat, network.nodes[n].lon) for n in nodes)
    return Segment(f"e{first}", edge.name, str(edge.road_class), pts)


def segments_from_geojson(doc: dict[str, Any], max_length_m: float = 200.0) -> list[Segment]:
    """Segments from GeoJSON LineString and MultiLineString features (``name`` and ``highway``
    or ``road_class`` properties are kept), each cut into pieces of at most ``max_length_m``.

    Raises
    ------
    ValueError
        Not a FeatureCollection, or a feature that is not a line, naming the feature.
    """
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ValueError("expected a GeoJSON FeatureCollection")
    out: list[Segment] = []
    for n, feature in enumerate(doc["features"], start=1):
        geom = (feature or {}).get("geometry") or {}
        props = (feature or {}).get("properties") or {}
        kind, coords = geom.get("type"), geom.get("coordinates")
        lines = [coords] if kind == "LineString" else coords if kind == "MultiLineString" else None
        if not lines:
            raise ValueError(f"feature {n}: expected a LineString or MultiLineString")
        base = str(props.get("id") or feature.get("id") or f"f{n}")
        name = str(props.get("name") or "")
        road_class = str(props.get("road_class") or props.get("highway") or "")
        for k, line in enumerate(lines):
            try:
                pts = [(float(p[1]), float(p[0])) for p in line]
            except (TypeError, ValueError, IndexError):
                raise ValueError(f"feature {n}: coordinates must be [lon, lat] pairs") from None
            if len(pts) < 2 or not all(-90 <= la <= 90 and -180 <= lo <= 180 for la, lo in pts):
                raise ValueError(f"feature {n}: a line needs two or more WGS 84 points")
            for j, piece in enumerate(_cut(pts, max_length_m)):
                out.append(Segment(f"{base}-{k}-{j}", name, road_class, tuple(piece)))
    return out


def _cut(pts: list[tuple[float, float]], max_length_m: float) -> list[list[tuple[float, float]]]:
    pieces, current, length = [], [pts[0]], 0.0
    for a, b in itertools.pairwise(pts):
        d = haversine_m(*a, *b)
        if length + d > max_length_m and len(current) > 1:
            pieces.append(current)
            current, length = [a], 0.0
        current.append(b)
        length += d
    pieces.append(current)
    return pieces


def match_passes(
    segments: Sequence[Segment], tracks: Iterable[Track], params: CoverageParams | None = None
) -> list[SegmentCoverage]:
    """Passes per segment over ``tracks``, one entry per segment in the order given."""
    params = params or CoverageParams()
    if not segments:
        return []
    index = SegmentIndex(segments, params.match_radius_m)
    passes: list[list[Track]] = [[] for _ in segments]
    tracks = list(tracks)
    # Every track's resampled points matched at once (numpy): a track passes a segment when
    # its points' feet fall in enough distinct step-long stretches of it.
    owner, xy = resample(
        [t.points for t in tracks], index.projection.lat0, params.step_m, params.max_gap_m
    )
    seg, along = PieceArrays(index).nearest(xy)
    on = seg >= 0
    if on.any():
        stretch = np.floor_divide(along[on], params.step_m).astype(np.int64)
        width = int(stretch.max()) + 1
        pair = np.unique((owner[on] * len(segments) + seg[on]) * width + stretch) // width
        pair, hits = np.unique(pair, return_counts=True)
        needed = np.array(
            [max(1, math.floor(params.min_share * n / params.step_m)) for n in index.lengths]
        )
        si_of = pair % len(segments)
        for ti, si in zip(
            (pair // len(segments))[hits >= needed[si_of]].tolist(),
            si_of[hits >= needed[si_of]].tolist(),
            strict=True,
        ):
            passes[si].append(tracks[ti])
    return [
        SegmentCoverage(
            seg.segment_id,
            len(ts),
            distinct_phones(t.device_id for t in ts),
            max((t.ts_end for t in ts), default=None),
        )
        for seg, ts in zip(segments, passes, strict=True)
    ]
