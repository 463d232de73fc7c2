"""A small map of a council's zones for residents: each zone's shape, name and level, over the
council's roads.

A zone is drawn from the boundary the council gave it; without one, from a rounded hull around
its counters. Counters themselves are never drawn: the residents' page publishes zone figures
only, so the map shows the zone's shape and nothing finer.
"""

import html
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analytics.geo.geometry import METRES_PER_DEGREE, metres_per_degree_lon
from api.pages.maps import MAP_W, MapFrame, corner_boxes, fit_frame, scale_and_north
from api.pages.road_layer import Box, Road, overlaps, road_layer

COUNTER_REACH_M = 90.0
"""How far around its counters a zone without a boundary is drawn (m)."""
_HULL_STEPS = 16
"""Points on the circle drawn around each counter before taking the hull."""

LEVEL_COLOURS = {
    "quiet": ("#d8efff", "#1e5b8a"),
    "usual": ("#e5f5e0", "#2f6b2f"),
    "busy": ("#ffe9b3", "#8a5a00"),
    "very busy": ("#ffc9c2", "#a3211a"),
    "unknown": ("#eeeeee", "#555555"),
}
"""Fill and edge of a zone by level: the fills are the page's level badges."""
_NAME_SIZE, _LEVEL_SIZE = 12.0, 10.0

Ring = list[tuple[float, float]]
"""A closed ring of (lat, lon)."""


@dataclass(frozen=True)
class ZoneArea:
    """A zone as the map needs it: its slug, name for people, boundary (GeoJSON Polygon or
    MultiPolygon, or ``None``) and its counters' (lat, lon)."""

    zone: str
    display_name: str
    boundary: Mapping[str, Any] | None
    counters: tuple[tuple[float, float], ...]


def _boundary_rings(boundary: Mapping[str, Any]) -> list[Ring]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon, as (lat, lon)."""
    coords = boundary.get("coordinates") or []
    polygons = [coords] if boundary.get("type") == "Polygon" else coords
    return [[(p[1], p[0]) for p in polygon[0]] for polygon in polygons if polygon]


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull (monotone chain) of (x, y) points, counter-clockwise, not closed."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for seq, out in ((pts, lower), (pts[::-1], upper)):
        for p in seq:
            while len(out) >= 2 and cross(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
    return lower[:-1] + upper[:-1]


def counter_ring(counters: Sequence[tuple[float, float]], reach_m: float = COUNTER_REACH_M) -> Ring:
    """A rounded hull ``reach_m`` around ``counters`` (a circle around a lone one), closed."""
    lat0 = sum(p[0] for p in counters) / len(counters)
    dlat, dlon = reach_m / METRES_PER_DEGREE, reach_m / metres_per_degree_lon(lat0)
    around = [
        (lon + dlon * math.cos(a), lat + dlat * math.sin(a))
        for lat, lon in counters
        for a in (2 * math.pi * k / _HULL_STEPS for k in range(_HULL_STEPS))
    ]
    ring = [(lat, lon) for lon, lat in _hull(around)]
    return [*ring, ring[0]]


def zone_rings(area: ZoneArea) -> list[Ring]:
    """The rings a zone is drawn with: its boundary's, else around its counters, else none."""
    if area.boundary:
        rings = _boundary_rings(area.boundary)
        if rings:
            return rings
    return [counter_ring(area.counters)] if area.counters else []


def zone_frame(areas: Sequence[ZoneArea]) -> MapFrame | None:
    """The frame showing every zone, or ``None`` when no zone has a shape."""
    points = [p for area in areas for ring in zone_rings(area) for p in ring]
    return fit_frame(points, mercator=False) if points else None


def _centre(frame: MapFrame, rings: list[Ring]) -> tuple[float, float]:
    """The area-weighted centre of the largest ring, in SVG units."""
    best, best_area = (0.0, 0.0), -1.0
    for ring in rings:
        pts = [frame.xy(*p) for p in ring]
        a = cx = cy = 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            c = x0 * y1 - x1 * y0
            a, cx, cy = a + c, cx + (x0 + x1) * c, cy + (y0 + y1) * c
        if abs(a) > best_area:
            n = len(pts)
            mean = (sum(x for x, _ in pts) / n, sum(y for _, y in pts) / n)
            best = (cx / (3 * a), cy / (3 * a)) if a else mean
            best_area = abs(a)
    return best


def _label_spot(
    x: float, y: float, name: str, level: str, height: float, taken: list[Box]
) -> tuple[float, float]:
    """Where the zone's two-line label goes: its centre, or nudged down (then up) off labels
    already placed; inside the map."""
    width = max(len(name) * _NAME_SIZE, len(level) * _LEVEL_SIZE) * 0.6 + 6
    x = min(max(x, width / 2 + 2), MAP_W - width / 2 - 2)
    step = _NAME_SIZE + _LEVEL_SIZE + 4
    for dy in (0, step, -step, 2 * step, -2 * step):
        cy = min(max(y + dy, _NAME_SIZE + 2), height - _LEVEL_SIZE - 4)
        box = (x - width / 2, cy - _NAME_SIZE, x + width / 2, cy + _LEVEL_SIZE + 4)
        if not overlaps(box, taken) or dy == -2 * step:
            taken.append(box)
            return x, cy
    raise AssertionError("unreachable")  # pragma: no cover


def zone_map_svg(
    areas: Sequence[ZoneArea], levels: Mapping[str, str], roads: Sequence[Road] = ()
) -> str:
    """The zones of ``areas`` as an SVG map (``""`` when none has a shape): filled by their
    level in ``levels`` (zone slug to level; ``unknown`` when missing), named, over ``roads``."""
    frame = zone_frame(areas)
    if frame is None:
        return ""
    shapes, texts, said = [], [], []
    taken: list[Box] = list(corner_boxes(frame))
    for area in areas:
        rings = zone_rings(area)
        if not rings:
            continue
        level = levels.get(area.zone, "unknown")
        fill, edge = LEVEL_COLOURS.get(level, LEVEL_COLOURS["unknown"])
        d = "".join(
            "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in (frame.xy(*p) for p in ring)) + "Z"
            for ring in rings
        )
        shapes.append(
            f'<path d="{d}" fill="{fill}" fill-opacity=".7" stroke="{edge}" stroke-width="2"/>'
        )
        x, y = _label_spot(*_centre(frame, rings), area.display_name, level, frame.height, taken)
        texts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{_NAME_SIZE:g}" font-weight="700">'
            f"{html.escape(area.display_name)}</text>"
            f'<text x="{x:.1f}" y="{y + _LEVEL_SIZE + 3:.1f}" font-size="{_LEVEL_SIZE:g}">'
            f"{html.escape(level)}</text>"
        )
        said.append(f"{area.display_name} ({level})")
    roads_drawn = road_layer(frame, roads, avoid=taken, ident="zr")
    label = html.escape(
        "Map of the zones and how busy they are now: " + "; ".join(said) + "."
        if said
        else "Map of the zones."
    )
    zone_label = ""
    if texts:
        zone_label = (
            '<g font-family="sans-serif" fill="#111" stroke="#fff" stroke-width="3" '
            'stroke-linejoin="round" paint-order="stroke" text-anchor="middle">'
            f"{''.join(texts)}</g>"
        )
    return (
        f'<svg class="zone-map" viewBox="0 0 {MAP_W:.0f} {frame.height:.0f}" role="img" '
        f'aria-label="{label}"><title>{label}</title>{roads_drawn.lines}'
        f"<g>{''.join(shapes)}</g>{roads_drawn.labels}{zone_label}"
        f"{scale_and_north(frame)}</svg>"
    )
