"""Exporting a plan: GeoJSON, GPX and the crew's route page."""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Set
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics.routing.export import GPX_NS, plan_geojson, plan_gpx
from analytics.routing.schema import Decision, Plan, SkippedBin, Stop, VehicleRoute
from api.pages.route import route_page

LONDON = ZoneInfo("Europe/London")
HOSTILE = "<script>alert(1)</script>"
AMPERSANDS = 'Mill Lane <&> "Yard"'
TILES = "https://tile.example/{z}/{x}/{y}.png"
SVG = "{http://www.w3.org/2000/svg}"
DEPOT = (52.6700, -0.7400)


def _stop(device_id: str, lat: float, lon: float, minute: int, street: str | None) -> Stop:
    # Arrivals are stored in UTC: the page must still show London time (BST, +01:00).
    return Stop(
        device_id=device_id,
        lat=lat,
        lon=lon,
        street=street,
        zone="Market" if street else None,
        decision="must" if minute < 30 else "worth",
        reason=f"{device_id} will be full by tomorrow",
        fill_now_pct=70.0,
        predicted_fill_pct=95.0 + minute / 10,
        load_litres=200.0,
        arrival=datetime(2025, 6, 3, 5, minute, tzinfo=UTC),
        distance_from_previous_m=400.0,
    )


def _route(vehicle: int, stops: list[Stop]) -> VehicleRoute:
    points = [(s.lat, s.lon) for s in stops]
    bends = [
        ((a[0] + b[0]) / 2, a[1]) for a, b in zip([DEPOT, *points], [*points, DEPOT], strict=True)
    ]
    path = [p for pair in zip([DEPOT, *points], bends, strict=True) for p in pair] + [DEPOT]
    return VehicleRoute(
        vehicle=vehicle,
        stops=stops,
        distance_m=12_345.0,
        duration_s=7_500.0,
        load_litres=200.0 * len(stops),
        path=path,
    )


def _bin(device_id: str, decision: Decision, reason: str) -> SkippedBin:
    return SkippedBin(
        device_id=device_id,
        lat=52.675,
        lon=-0.725,
        street="Back Lane",
        decision=decision,
        reason=reason,
    )


def _plan() -> Plan:
    one = [
        _stop("bin-01", 52.6720, -0.7300, 10, "High Street"),
        _stop("bin-02", 52.6750, -0.7250, 20, AMPERSANDS),
        _stop("bin-03", 52.6690, -0.7200, 35, None),
    ]
    two = [_stop("bin-11", 52.6650, -0.7450, 15, HOSTILE), _stop("bin-12&x", 52.66, -0.75, 40, "")]
    start = datetime(2025, 6, 3, 6, 0, tzinfo=LONDON)
    return Plan(
        council="Oakham",
        shift_date=date(2025, 6, 3),
        shift_start=start,
        shift_end=start + timedelta(hours=8),
        depot=DEPOT,
        travel="haversine",
        routes=[_route(1, one), _route(2, two)],
        skipped=[_bin("bin-21", "skip", "Only 20% full")],
        left_out=[_bin("bin-22", "worth", "Did not fit the shift")],
        created_at=datetime(2025, 6, 2, 18, 0, tzinfo=UTC),
        plan_id=7,
    )


PLAN = _plan()


def _kind(collection: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in collection["features"] if f["properties"]["kind"] == kind]


def _xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - our own output, not untrusted input


def _svg(page: str) -> ET.Element:
    match = re.search(r"<svg.*</svg>", page, re.S)
    assert match, "no svg in the page"
    return _xml(match.group(0).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def test_geojson_is_a_json_feature_collection_with_every_part() -> None:
    """Two routes, five stops, two bins and the depot, each a Feature that survives JSON."""
    collection = json.loads(json.dumps(plan_geojson(PLAN)))
    assert collection["type"] == "FeatureCollection"
    assert {f["type"] for f in collection["features"]} == {"Feature"}
    counts = {k: len(_kind(collection, k)) for k in ("route", "stop", "bin", "depot")}
    assert counts == {"route": 2, "stop": 5, "bin": 2, "depot": 1}
    assert _kind(collection, "depot")[0]["geometry"]["coordinates"] == [DEPOT[1], DEPOT[0]]


def test_geojson_positions_are_lon_lat() -> None:
    """Lines follow the path and points sit on their bins, longitude first."""
    collection = plan_geojson(PLAN)
    for feature, route in zip(_kind(collection, "route"), PLAN.routes, strict=True):
        assert feature["geometry"]["type"] == "LineString"
        assert feature["geometry"]["coordinates"] == [[lon, lat] for lat, lon in route.path]
    stops = [s for r in PLAN.routes for s in r.stops]
    for feature, stop in zip(_kind(collection, "stop"), stops, strict=True):
        assert feature["geometry"] == {"type": "Point", "coordinates": [stop.lon, stop.lat]}


def test_geojson_route_and_stop_properties() -> None:
    """Routes carry their totals; stops their order from 1, vehicle, reason and local ISO time."""
    collection = plan_geojson(PLAN)
    route = _kind(collection, "route")[1]["properties"]
    assert route == {"kind": "route", "vehicle": 2, "stops": 2, "distance_m": 12_345.0,
                     "duration_s": 7_500.0, "load_litres": 400.0}  # fmt: skip
    stops = _kind(collection, "stop")
    assert [(s["properties"]["vehicle"], s["properties"]["order"]) for s in stops] == [
        (1, 1), (1, 2), (1, 3), (2, 1), (2, 2)
    ]  # fmt: skip
    second = stops[1]["properties"]
    assert second["device_id"] == "bin-02" and second["street"] == AMPERSANDS
    assert second["decision"] == "must" and second["predicted_fill_pct"] == 97.0
    assert second["reason"] == "bin-02 will be full by tomorrow"
    assert datetime.fromisoformat(second["arrival"]) == datetime(2025, 6, 3, 5, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "device_id", "reason"),
    [("skipped", "bin-21", "Only 20% full"), ("left_out", "bin-22", "Did not fit the shift")],
)
def test_geojson_bins_not_collected_have_a_status(status: str, device_id: str, reason: str) -> None:
    """Skipped and left-out bins are points with their status and reason."""
    (feature,) = [
        f for f in _kind(plan_geojson(PLAN), "bin") if f["properties"]["status"] == status
    ]
    assert feature["properties"]["device_id"] == device_id
    assert feature["properties"]["reason"] == reason
    assert feature["geometry"]["coordinates"] == [-0.725, 52.675]


def test_geojson_route_without_path_has_null_geometry() -> None:
    """A route whose path is missing is still a feature, with no invented line."""
    plan = PLAN.model_copy(update={"routes": [PLAN.routes[0].model_copy(update={"path": []})]})
    assert _kind(plan_geojson(plan), "route")[0]["geometry"] is None


@pytest.mark.parametrize("vehicle", [None, 1, 2])
def test_gpx_has_a_route_and_track_per_vehicle_in_stop_order(vehicle: int | None) -> None:
    """GPX 1.1 in its namespace: per vehicle an rte with the stops in order and the full track."""
    root = _xml(plan_gpx(PLAN, vehicle))
    ns = {"g": GPX_NS}
    assert root.tag == f"{{{GPX_NS}}}gpx"
    assert root.get("version") == "1.1" and root.get("creator") == "smartstreets"
    routes = [r for r in PLAN.routes if vehicle in (None, r.vehicle)]
    rtes, trks = root.findall("g:rte", ns), root.findall("g:trk", ns)
    assert len(rtes) == len(trks) == len(routes)
    for rte, trk, route in zip(rtes, trks, routes, strict=True):
        assert rte.findtext("g:number", namespaces=ns) == str(route.vehicle)
        names = [p.findtext("g:name", namespaces=ns) for p in rte.findall("g:rtept", ns)]
        assert names == [s.device_id for s in route.stops]
        points = trk.findall("g:trkseg/g:trkpt", ns)
        drawn = [float(p.get(k, "")) for p in points for k in ("lat", "lon")]
        assert drawn == pytest.approx([v for point in route.path for v in point], abs=1e-7)
    assert [w.findtext("g:name", namespaces=ns) for w in root.findall("g:wpt", ns)] == ["Depot"]


def test_gpx_escapes_data_and_gives_utc_times() -> None:
    """Streets with markup characters round-trip as text; arrival times are in UTC."""
    text = plan_gpx(PLAN, 1)
    assert "&lt;&amp;&gt;" in text and AMPERSANDS not in text
    ns = {"g": GPX_NS}
    second = _xml(text).findall("g:rte/g:rtept", ns)[1]
    assert (
        second.findtext("g:desc", namespaces=ns)
        == f"{AMPERSANDS}: about 70% now; bin-02 will be full by tomorrow"
    )
    assert second.findtext("g:time", namespaces=ns) == "2025-06-03T05:20:00Z"
    assert (second.get("lat"), second.get("lon")) == ("52.6750000", "-0.7250000")


@pytest.mark.parametrize(
    "export",
    [lambda p: plan_gpx(p, 3), lambda p: route_page(p, 3), lambda p: route_page(p, 0)],
    ids=["gpx", "page", "page-zero"],
)
def test_unknown_vehicle_raises(export: Callable[[Plan], str]) -> None:
    """Asking for a vehicle the plan does not have is an error, not an empty export."""
    with pytest.raises(ValueError, match="Expected vehicle in"):
        export(PLAN)


@pytest.mark.parametrize("action_base", [None, "/v1/councils/oakham/bins"])
def test_page_without_tiles_references_nothing(action_base: str | None) -> None:
    """With no tile URL the page loads nothing: no src or href, no http(s) URL at all."""
    page = route_page(PLAN, 1, action_base=action_base)
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"\b(src|href)\s*=", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert "<image" not in page and "OpenStreetMap" not in page


@pytest.mark.parametrize("vehicle", [1, 2])
def test_page_map_has_a_marker_per_stop_and_the_whole_path(vehicle: int) -> None:
    """The SVG is well-formed, numbers every stop, marks the depot and draws every path point."""
    route = PLAN.routes[vehicle - 1]
    svg = _svg(route_page(PLAN, vehicle))
    assert svg.get("role") == "img" and svg.get("aria-label")
    assert svg.find(f"{SVG}title") is not None
    markers = [g for g in svg.iter(f"{SVG}g") if "stop" in (g.get("class") or "").split()]
    assert [g.findtext(f"{SVG}text") for g in reversed(markers)] == [
        str(i) for i in range(1, len(route.stops) + 1)
    ]
    (line,) = svg.iter(f"{SVG}polyline")
    assert len(line.get("points", "").split()) == len(route.path)
    assert any(t.text == "D" for t in svg.iter(f"{SVG}text"))
    assert any(t.text == "N" for t in svg.iter(f"{SVG}text"))
    assert any(re.fullmatch(r"\d+(\.\d+)? k?m", t.text or "") for t in svg.iter(f"{SVG}text"))


@pytest.mark.parametrize("tile_url", [None, TILES])
def test_page_map_is_north_up_and_inside_the_frame(tile_url: str | None) -> None:
    """Every stop is drawn inside the view box, and a more northerly stop is drawn higher."""
    svg = _svg(route_page(PLAN, 1, tile_url=tile_url))
    _, _, width, height = map(float, svg.get("viewBox", "").split())
    circles = [(float(c.get("cx", "")), float(c.get("cy", ""))) for c in svg.iter(f"{SVG}circle")]
    assert all(0 < x < width and 0 < y < height for x, y in circles)
    by_order = circles[::-1]  # drawn last-first so that stop 1 sits on top
    assert by_order[1][1] < by_order[0][1] < by_order[2][1]  # stop 2 northmost, stop 3 south
    assert by_order[0][0] < by_order[1][0] < by_order[2][0]  # and west to east


def test_page_tiles_cover_the_map_and_are_credited() -> None:
    """With a tile template, tiles from it cover the whole map and the page credits them."""
    page = route_page(PLAN, 1, tile_url=TILES)
    svg = _svg(page)
    _, _, width, height = map(float, svg.get("viewBox", "").split())
    images = list(svg.iter(f"{SVG}image"))
    assert images and all(
        re.fullmatch(r"https://tile\.example/\d+/\d+/\d+\.png", i.get("href", "")) for i in images
    )
    boxes = [[float(i.get(k, "")) for k in ("x", "y", "width", "height")] for i in images]
    assert min(x for x, *_ in boxes) <= 0 and min(y for _, y, *_ in boxes) <= 0
    assert max(x + w for x, _, w, _ in boxes) >= width
    assert max(y + h for _, y, _, h in boxes) >= height
    assert "Map tiles: tile.example" in page and "© OpenStreetMap contributors" in page


@pytest.mark.parametrize("action_base", [None, "/v1/councils/oakham/bins"])
def test_page_escapes_data(action_base: str | None) -> None:
    """Streets and device ids are shown as text, never as markup, with or without the script."""
    page = route_page(PLAN, 2, action_base=action_base)
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "bin-12&x" not in page and "bin-12&amp;x" in page
    assert page.count("<script>") == (action_base is not None)


def test_page_summary_and_local_times() -> None:
    """The summary gives the route's totals, and arrivals show in the plan's local time."""
    page = route_page(PLAN, 1)
    text = re.sub(r"<[^>]+>", " ", page)
    for expected in ("Oakham", "Tue 3 Jun 2025", "12.3 km", "2:05", "600 L", "06:00"):
        assert expected in text
    assert re.search(r"Stops\s+3\b", text)
    assert re.search(r"Left for another day:\s+2 bins\s+\(1 needed", text)
    assert re.findall(r">(\d\d:\d\d)<", page) == ["06:10", "06:20", "06:35"]


def test_page_is_accessible_and_printable() -> None:
    """Language, viewport, scoped headers, headings and print rules that keep rows whole."""
    page = route_page(PLAN, 1)
    assert '<html lang="en-GB">' in page and 'name="viewport"' in page
    assert page.count('<th scope="col">') == 7 and page.count('<th scope="row">') == 3
    assert re.search(r"<h1>.+</h1>", page) and page.count("<h2") == 2
    print_css = page[page.index("@media print") :]
    assert "break-inside:avoid" in print_css and "button" in print_css
    assert "@page{size:A4" in page


@pytest.mark.parametrize(
    ("collected", "done"),
    [(frozenset(), []), ({"bin-02", "elsewhere"}, [2]), ({"bin-01", "bin-03"}, [1, 3])],
)
def test_page_marks_collected_stops(collected: Set[str], done: list[int]) -> None:
    """Collected stops are ticked, struck through and green on the map; others are not."""
    page = route_page(PLAN, 1, collected=collected, action_base="/v1/councils/oakham/bins")
    rows = re.findall(r'<tr data-stop="(\d)"( class="done")?>', page)
    assert [int(i) for i, state in rows if state] == done
    assert page.count("✓</span>") == len(done)
    svg = _svg(page)
    green = [g.get("id", "") for g in svg.iter(f"{SVG}g") if g.get("class") == "stop done"]
    assert sorted(green) == [f"m-{i}" for i in done]
    buttons = re.findall(r'<button type="button" data-device="([^"]+)"', page)
    assert buttons == [s.device_id for i, s in enumerate(PLAN.routes[0].stops, 1) if i not in done]


def test_page_buttons_post_to_the_action_base() -> None:
    """The script posts to {action_base}/{device}/collected with the stored bearer token."""
    page = route_page(PLAN, 1, action_base="/v1/councils/oak&ham/bins")
    assert 'data-action="/v1/councils/oak&amp;ham/bins"' in page
    script = page[page.index("<script>") : page.index("</script>")]
    for needle in ('"smartstreets.token"', '"/collected"', '"Authorization"', "prompt(", "fetch("):
        assert needle in script
    assert "<button" not in route_page(PLAN, 1)
