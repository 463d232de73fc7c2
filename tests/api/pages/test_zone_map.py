"""The residents' map of zones: a zone's boundary when it has one, else a shape around its
counters (never the counters themselves), named and coloured by its level."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from analytics.geo.geometry import haversine_m, moved
from api.pages.busy import busy_page
from api.pages.road_layer import Road
from api.pages.zone_map import (
    COUNTER_REACH_M,
    LEVEL_COLOURS,
    ZoneArea,
    counter_ring,
    zone_frame,
    zone_map_svg,
    zone_rings,
)

CENTRE = (52.6697, -0.7269)


def _square(east: float, north: float, side: float) -> dict[str, object]:
    """A GeoJSON Polygon: a square ``side`` metres wide, its south-west corner given."""
    corners = [(0, 0), (side, 0), (side, side), (0, side), (0, 0)]
    points = [moved(*CENTRE, east + e, north + n) for e, n in corners]
    return {"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in points]]}


MARKET = ZoneArea("market", "Market Place", _square(-200, -100, 200), ())
STATION = ZoneArea("station", "Station Quarter", None, (moved(*CENTRE, 250, 50),))
SHOPS = ZoneArea(
    "shops",
    "shops",
    None,
    tuple(moved(*CENTRE, e, n) for e, n in [(0, 200), (120, 220), (60, 300), (60, 240)]),
)


def _svg(text: str) -> ET.Element:
    return ET.fromstring(text.replace("<svg ", '<svg xmlns:x="x" ', 1))  # noqa: S314 - ours


def test_a_boundary_is_drawn_as_given() -> None:
    """A zone with a boundary is drawn from its ring, even when it also has counters."""
    area = ZoneArea("market", "Market Place", MARKET.boundary, STATION.counters)
    (ring,) = zone_rings(area)
    assert MARKET.boundary is not None
    assert ring == [(lat, lon) for lon, lat in MARKET.boundary["coordinates"][0]]


def test_without_a_boundary_a_zone_is_drawn_around_its_counters() -> None:
    """A lone counter gets a circle of the counter reach; several get a rounded hull that keeps
    every counter at least the reach inside; a zone with neither is not drawn."""
    (circle,) = zone_rings(STATION)
    assert circle[0] == circle[-1]
    assert all(abs(haversine_m(*STATION.counters[0], *p) - COUNTER_REACH_M) < 1 for p in circle)
    hull = counter_ring(SHOPS.counters)
    inner = SHOPS.counters[3]  # inside the triangle of the other three: not on the hull
    assert min(haversine_m(*inner, *p) for p in hull) > COUNTER_REACH_M
    assert all(
        min(haversine_m(*c, *p) for p in hull) >= COUNTER_REACH_M - 1 for c in SHOPS.counters
    )
    assert zone_rings(ZoneArea("empty", "empty", None, ())) == []
    assert zone_frame([ZoneArea("empty", "empty", None, ())]) is None


def test_map_names_and_colours_zones_but_hides_counters() -> None:
    """Each zone is a filled path in its level's colour, labelled with its display name and
    level; the counters are not drawn, and the map has an accessible name listing the zones."""
    levels = {"market": "busy", "station": "quiet"}
    text = zone_map_svg([MARKET, STATION, SHOPS], levels)
    svg = _svg(text)
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == (
        "Map of the zones and how busy they are now: Market Place (busy); "
        "Station Quarter (quiet); shops (unknown)."
    )
    fills = [p.get("fill") for p in svg.iter("path") if p.get("fill-opacity")]
    assert fills == [LEVEL_COLOURS[level][0] for level in ("busy", "quiet", "unknown")]
    words = [t.text for t in svg.iter("text")]
    for name, level in [
        ("Market Place", "busy"),
        ("Station Quarter", "quiet"),
        ("shops", "unknown"),
    ]:
        assert words[words.index(name) + 1] == level
    assert {e.tag for e in svg.iter()} <= {"svg", "title", "g", "path", "text", "rect"}
    frame = zone_frame([MARKET, STATION, SHOPS])
    assert frame is not None
    for counter in [*STATION.counters, *SHOPS.counters]:
        x, y = frame.xy(*counter)
        assert f"{x:.1f} {y:.1f}" not in text  # no vertex or mark at a counter


def test_zone_labels_do_not_overlap() -> None:
    """Two zones with the same centre still get labels that do not sit on each other."""
    twin = ZoneArea("twin", "Twin Zone", MARKET.boundary, ())
    svg = _svg(zone_map_svg([MARKET, twin], {}))
    ys = [float(t.get("y", "")) for t in svg.iter("text") if t.get("font-weight") == "700"]
    assert len(ys) == 2 and abs(ys[0] - ys[1]) >= 12


def test_roads_go_beneath_the_zones() -> None:
    """The council's roads are drawn first, aria-hidden, then the zones over them."""
    road = Road("High Street", "high_street", (moved(*CENTRE, -400, 0), moved(*CENTRE, 400, 0)))
    text = zone_map_svg([MARKET, STATION], {}, [road])
    assert text.index('class="roads" aria-hidden="true"') < text.index('fill-opacity=".7"')


def test_residents_page_shows_the_map_only_with_zone_shapes() -> None:
    """The residents' page puts the zone map before the zone cards, coloured by each zone's
    level now, and leaves it out when no zone has a shape."""
    row = {
        "zone": "market",
        "counters_total": 3,
        "counters_reporting": 3,
        "count_last_hour": 900,
        "usual_count": 300.0,
    }
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    page = busy_page("Oakham", "oakham", [row], {}, now, [MARKET])
    assert page.index('<svg class="zone-map"') < page.index('class="zone"')
    assert re.search(r'fill="#ffc9c2"', page)  # very busy: three times the usual
    assert "<svg" not in busy_page("Oakham", "oakham", [row], {}, now)
