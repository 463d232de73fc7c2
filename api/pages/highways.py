"""The highways map page: roughness hexagons, road coverage and potholes, with the list beneath.

Like the crews' route page it needs no network: the map is an SVG drawn here from the same
GeoJSON the API serves, with map tiles beneath only when a tile URL template is configured.
"""

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from analytics.geo.bbox import BBox
from api.pages.layout import page_top
from api.pages.maps import (
    MAP_W,
    MapFrame,
    corner_boxes,
    frame_of_bbox,
    scale_and_north,
    streets_credit,
    tile_credit,
    tile_images,
)
from api.pages.road_layer import Road, road_layer

_LEVEL_STYLE = {
    "unseen": ("#9aa0a6", "4 3", "no phone drove it in 30 days"),
    "rare": ("#e8710a", "", "fewer than 3 phones"),
    "low": ("#7baaf7", "", "under 10 passes"),
    "covered": ("#1a56b8", "", "10 passes or more"),
}
_IRI_COLOUR = {
    "good": "#34a853",
    "fair": "#fbbc04",
    "poor": "#e52592",
    "very poor": "#5e1a8c",
}
"""Bands drawn under the roads measured by 3 or more phones, by IRI class."""
_STATE_COLOUR = {
    "confirmed": "#c5221f",
    "reopened": "#a50e7e",
    "reported": "#e37400",
    "repaired": "#188038",
    "candidate": "#5f6368",
    "duplicate": "#5f6368",
}
_CSS = """
body{font:16px/1.4 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:.5rem;color:#111}
h1{font-size:1.3rem;margin:.3rem 0}.map{width:100%;height:auto;border:1px solid #ccc;
background:#f8f9fa}.panel{fill:#fff;opacity:.85}.bar{fill:none;stroke:#111;stroke-width:2}
.ink{font-size:12px}.hole text{font-size:9px;fill:#fff;text-anchor:middle;dominant-baseline:middle}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.9rem;margin:.4rem 0;padding:0;
list-style:none}.key{display:inline-block;width:1.6rem;height:.5rem;margin-right:.3rem;
vertical-align:middle}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;white-space:nowrap}
@media print{.scroll{overflow:visible}}
"""


def _ring_points(frame: MapFrame, ring: Sequence[Sequence[float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in (frame.xy(lat, lon) for lon, lat in ring))


def _hexes(frame: MapFrame, cells: Sequence[dict[str, Any]]) -> str:
    worst = max((c["properties"]["roughness"] for c in cells), default=1.0) or 1.0
    out = []
    for c in cells:
        p = c["properties"]
        alpha = 0.15 + 0.55 * min(1.0, p["roughness"] / worst)
        tip = html.escape(
            f"{p['reports']} jolts from {p['phones']} phones, mean peak {p['roughness']} g, "
            f"{p['potholes']} open potholes"
        )
        out.append(
            f'<polygon points="{_ring_points(frame, c["geometry"]["coordinates"][0])}" '
            f'fill="#d93025" fill-opacity="{alpha:.2f}" stroke="#d93025" stroke-opacity=".4">'
            f"<title>{tip}</title></polygon>"
        )
    return "".join(out)


def _roads(frame: MapFrame, segments: Sequence[dict[str, Any]]) -> str:
    out = []
    for s in segments:
        p = s["properties"]
        points = _ring_points(frame, s["geometry"]["coordinates"])
        colour, dash, meaning = _LEVEL_STYLE[p["level"]]
        passes = "" if p["passes"] is None else f", {p['passes']} passes"
        iri = p.get("iri_m_per_km")
        rough = "" if iri is None else f", roughness {iri:.1f} m/km ({p['roughness']})"
        tip = html.escape(f"{p['name'] or 'unnamed road'}: {meaning}{passes}{rough}")
        if iri is not None:
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{_IRI_COLOUR[p["roughness"]]}" '
                'stroke-width="8" stroke-opacity=".55" stroke-linecap="round"/>'
            )
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"'
            f"{dashes}><title>{tip}</title></polyline>"
        )
    return "".join(out)


def _holes(frame: MapFrame, potholes: Sequence[dict[str, Any]]) -> str:
    out = []
    for i, p in reversed(list(enumerate(potholes, 1))):
        x, y = frame.xy(p["lat"], p["lon"])
        where = f", {p['street']}" if p.get("street") else ""
        tip = html.escape(f"{i}: pothole {p['pothole_id']}{where}, {p['state']}")
        out.append(
            f'<g class="hole"><title>{tip}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="7" '
            f'fill="{_STATE_COLOUR.get(p["state"], "#5f6368")}" stroke="#fff"/>'
            f'<text x="{x:.1f}" y="{y:.1f}">{i}</text></g>'
        )
    return "".join(out)


def _legend() -> str:
    items = [
        f'<li><span class="key" style="background:{c}"></span>{html.escape(m)}</li>'
        for c, _, m in _LEVEL_STYLE.values()
    ]
    items.append(
        '<li><span class="key" style="background:#d93025;opacity:.6"></span>'
        "rougher road (mean jolt, 3+ phones)</li>"
    )
    items += [
        f'<li><span class="key" style="background:{c};opacity:.55"></span>IRI {html.escape(k)}</li>'
        for k, c in _IRI_COLOUR.items()
    ]
    items.append('<li><span class="key" style="background:#c5221f"></span>pothole (numbered)</li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def _table(potholes: Sequence[dict[str, Any]]) -> str:
    if not potholes:
        return "<p>No potholes in this area.</p>"
    head = "".join(
        f"<th>{h}</th>"
        for h in ("#", "Where", "State", "Severity", "Confidence", "Phones", "Last hit", "Id")
    )
    rows = []
    for i, p in enumerate(potholes, 1):
        # In words where the roads are known; the position otherwise (and always on hover).
        at = f"{p['lat']:.5f}, {p['lon']:.5f}"
        where = html.escape(p.get("street") or at)
        rows.append(
            f'<tr><td>{i}</td><td title="{at}">{where}</td><td>{html.escape(p["state"])}</td>'
            f"<td>{p['severity']:.2f}</td><td>{p['confidence']:.2f}</td><td>{p['devices']}</td>"
            f"<td>{p['last_seen']:%Y-%m-%d}</td><td>{p['pothole_id']}</td></tr>"
        )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def highways_map_bbox(bbox: tuple[float, float, float, float], tile_url: str | None) -> BBox:
    """The area the map of ``bbox`` shows (a little more than it): the roads to pass in."""
    return frame_of_bbox(BBox(*bbox), tile_url is not None).bbox()


def highways_page(
    council_name: str,
    bbox: tuple[float, float, float, float],
    segments: Sequence[dict[str, Any]],
    cells: Sequence[dict[str, Any]],
    potholes: Sequence[dict[str, Any]],
    generated_at: datetime,
    tile_url: str | None = None,
    roads: Sequence[Road] = (),
    roads_credit: str | None = None,
) -> str:
    """The page as one HTML document.

    Parameters
    ----------
    council_name
        Shown in the title.
    bbox
        The area shown: min lon, min lat, max lon, max lat.
    segments, cells
        GeoJSON features of the coverage and heatmap endpoints.
    potholes
        Pothole rows (id, state, lat, lon, severity, confidence, devices, last_seen), in the
        order they are numbered.
    generated_at
        When the figures were read.
    tile_url
        An XYZ tile template drawn under the map, or ``None`` for none.
    roads
        The council's roads in the map's area (:func:`highways_map_bbox`), drawn beneath.
    roads_credit
        Whose map data the roads are, credited under the map when roads are drawn.
    """
    frame = frame_of_bbox(BBox(*bbox), tile_url is not None)
    # Roads go under the tiles: hidden where tiles load, the map's streets where they fail.
    drawn = road_layer(frame, roads, avoid=corner_boxes(frame))
    # Names go over the lines drawn here (they are what a reader looks for), under tiles.
    under, over = (drawn.labels, "") if tile_url else ("", drawn.labels)
    label = html.escape(
        f"Map of {council_name}: road coverage by phones, road roughness and "
        f"{len(potholes)} numbered potholes."
    )
    svg = (
        f'<svg class="map" viewBox="0 0 {MAP_W:.0f} {frame.height:.0f}" role="img" '
        f'aria-label="{label}"><title>{label}</title>{drawn.lines}{under}'
        f"{tile_images(frame, tile_url) if tile_url else ''}"
        f"{_hexes(frame, cells)}{_roads(frame, segments)}{over}{_holes(frame, potholes)}"
        f"{scale_and_north(frame)}</svg>"
    )
    unseen = sum(1 for s in segments if s["properties"]["level"] == "unseen")
    credit = (tile_credit(tile_url) if tile_url else "") + streets_credit(
        roads_credit if roads else None
    )
    title = html.escape(f"{council_name}: potholes and road coverage")
    return (
        page_top(title, _CSS) + f"<h1>{title}</h1>"
        f"<p>{len(potholes)} potholes, {len(cells)} rough-road cells; "
        f"{unseen} of {len(segments)} road segments not driven by any phone in 30 days, so "
        "no reports there does not mean a smooth road.</p>"
        f"{svg}{_legend()}{_table(potholes)}"
        f"<footer><small>{credit}Figures as of {generated_at:%Y-%m-%d %H:%M} UTC.</small>"
        "</footer></body></html>"
    )
