"""The pages' maps in a real headless Chromium at a phone's width: the council's imported roads
are drawn under the crews' route, the highways map and the residents' zones, with street names
written on the map, no request leaving the server, and WCAG 2.1 AA kept."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.types.json import Jsonb

from analytics.geo.geometry import moved
from analytics.potholes.coverage import Segment
from analytics.potholes.coverage_store import store_segments
from analytics.routing.io import save_plan
from analytics.routing.schema import Plan, Stop, VehicleRoute
from api.auth import Scope, create_token
from tests.axe import violations
from tests.cdp import Tab, browser_tab
from tests.helpers import chromium

pytestmark = pytest.mark.skipif(
    chromium() is None, reason="needs Chromium (Debian package 'chromium')"
)

CENTRE = (52.6697, -0.7269)
STREETS = ("High Street", "Church Street")

_MAP = """(sel => {
  const svg = document.querySelector(sel), box = svg.getBoundingClientRect();
  const inside = r => r.width > 0 && r.left >= box.left - 1 && r.right <= box.right + 1
    && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  return {
    width: box.width,
    roads: [...svg.querySelectorAll('g.roads[aria-hidden="true"] use')].map(u => {
      const r = u.getBoundingClientRect(); return [r.width, r.height];
    }),
    paths: svg.querySelectorAll('g.roads path').length,
    labels: [...svg.querySelectorAll('g.road-names text')].filter(
      t => inside(t.getBoundingClientRect())).map(t => t.textContent),
    texts: [...svg.querySelectorAll('text')].map(t => t.textContent),
    scrolls: document.documentElement.scrollWidth > window.innerWidth,
    away: performance.getEntriesByType('resource').map(e => e.name).filter(
      n => !n.startsWith(location.origin)),
  };
})"""


def _segments(
    name: str, cls: str, east: float, north: float, de: float, dn: float, n: int
) -> list[Segment]:
    """A street of ``n`` consecutive segments, each ``de`` east and ``dn`` north."""
    return [
        Segment(
            f"{name[:4].lower()}-{i}",
            name,
            cls,
            (
                moved(*CENTRE, east + i * de, north + i * dn),
                moved(*CENTRE, east + (i + 1) * de, north + (i + 1) * dn),
            ),
        )
        for i in range(n)
    ]


@pytest.fixture
def streets(conn: psycopg.Connection, council: str) -> str:
    """The council's imported roads: High Street (simulator class) east-west, Church Street
    (an OSM tag) north-south, a residential lane and a service road, in 150 m segments."""
    store_segments(
        conn,
        council,
        [
            *_segments("High Street", "high_street", -600, 0, 150, 0, 8),
            *_segments("Church Street", "secondary", 60, -450, 0, 150, 6),
            *_segments("Mill Lane", "residential", -450, 200, 150, 0, 6),
            *_segments("Depot Yard", "service", -300, -250, 0, 150, 2),
        ],
    )
    return council


def _plan(council: str) -> Plan:
    """A one-vehicle plan along High Street and up Church Street."""
    tz = ZoneInfo("Europe/London")
    start = datetime.now(tz).replace(hour=6, minute=0, second=0, microsecond=0)
    spots = [moved(*CENTRE, -300, 0), moved(*CENTRE, 60, 0), moved(*CENTRE, 60, 300)]
    stops = [
        Stop(
            device_id=f"bin-{i}",
            lat=lat,
            lon=lon,
            street=street,
            zone=None,
            decision="must",
            reason="full by tomorrow",
            fill_now_pct=80.0,
            predicted_fill_pct=99.0,
            load_litres=200.0,
            arrival=(start + timedelta(minutes=10 * i)).astimezone(UTC),
            distance_from_previous_m=300.0,
        )
        for i, ((lat, lon), street) in enumerate(
            zip(spots, ["High Street", "High Street", "Church Street"], strict=True), 1
        )
    ]
    depot = moved(*CENTRE, -600, 0)
    route = VehicleRoute(
        vehicle=1,
        stops=stops,
        distance_m=2000.0,
        duration_s=1800.0,
        load_litres=600.0,
        path=[depot, *spots, moved(*CENTRE, 60, 0), depot],
    )
    return Plan(
        council=council,
        shift_date=date.today(),
        shift_start=start,
        shift_end=start + timedelta(hours=8),
        depot=depot,
        travel="haversine",
        routes=[route],
        skipped=[],
        left_out=[],
        created_at=datetime.now(UTC),
    )


def _open(tab: Tab, url: str, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    tab.send("Network.setExtraHTTPHeaders", {"headers": headers})
    tab.send("Page.navigate", {"url": url})
    tab.wait_for("document.readyState === 'complete'", what=f"{url} loaded")
    return dict(tab.evaluate(f"({_MAP})('svg[role=img]')"))


def test_route_and_highways_maps_draw_the_streets_and_name_them(
    server: str, conn: psycopg.Connection, streets: str, tmp_path: Path
) -> None:
    """On the crews' route page and the highways map, the council's roads are drawn inside
    the map (street-sized, not dots), High Street and Church Street are written on the map
    itself, nothing is fetched from elsewhere, the page fits a phone and axe finds nothing."""
    plan = save_plan(conn, _plan(streets))
    pages = {
        f"/v1/councils/{streets}/routes/{plan.plan_id}/vehicles/1/page": Scope.CREW,
        f"/v1/councils/{streets}/highways/map": Scope.HIGHWAYS,
    }
    with browser_tab(tmp_path / "profile", width=390, height=844) as tab:
        tab.send("Network.enable")
        for path, scope in pages.items():
            drawn = _open(tab, server + path, create_token(conn, streets, scope))
            assert drawn["paths"] >= 3, path  # main, minor and service tiers
            assert drawn["roads"] and max(w for w, _ in drawn["roads"]) > drawn["width"] / 3
            assert set(STREETS) <= set(drawn["labels"]), (path, drawn["labels"])
            assert drawn["labels"].count("High Street") == 1
            assert not drawn["scrolls"] and drawn["away"] == [], path
            assert violations(tab) == [], path


def test_residents_page_maps_zones_over_the_streets(
    server: str,
    conn: psycopg.Connection,
    streets: str,
    zones: dict[str, list[str]],
    tmp_path: Path,
) -> None:
    """The residents' page draws each zone, the one with a boundary by its display name and
    the other by its slug, with the streets beneath and the levels written out."""
    corners = [moved(*CENTRE, e, n) for e, n in [(-400, -80), (0, -80), (0, 80), (-400, 80)]]
    ring = [[lon, lat] for lat, lon in [*corners, corners[0]]]
    conn.execute(
        "INSERT INTO council_zone (council, zone, display_name, boundary) "
        "VALUES (%s, 'high-street', 'The High Street', %s)",
        (streets, Jsonb({"type": "Polygon", "coordinates": [ring]})),
    )
    with browser_tab(tmp_path / "profile", width=390, height=844) as tab:
        drawn = _open(tab, f"{server}/councils/{streets}", None)
        assert drawn["roads"] and drawn["paths"] >= 1
        assert {"The High Street", "station"} <= set(drawn["texts"])
        label = tab.evaluate("document.querySelector('svg.zone-map').getAttribute('aria-label')")
        assert "The High Street (" in label and "station (" in label
        assert not drawn["scrolls"] and drawn["away"] == []
        assert violations(tab) == []
