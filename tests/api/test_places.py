"""Places in words: bins and potholes get their street from the council's imported roads (a
registry address wins), and every export a crew or a highways team takes away carries it:
plans (JSON, GeoJSON, GPX, the printable page) and potholes (JSON, CSV, Open311)."""

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from analytics.geo.bbox import BBox
from analytics.geo.geometry import moved
from analytics.potholes.coverage import Segment
from analytics.potholes.coverage_store import store_segments
from analytics.potholes.store import refresh_potholes
from analytics.routing.export import GPX_NS
from analytics.routing.io import bin_states, set_depot
from analytics.routing.settings import RoutingSettings
from api.app import create_app
from api.auth import Scope, create_token
from api.map_queries import roads_in_bbox
from api.settings import ApiSettings
from ingest.db.migrate import load_migrations
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings
from tests.potholes_data import LAT, LON, insert_bumps

HERE = "High Street, near Church Street"


def _at(east: float, north: float = 0.0) -> tuple[float, float]:
    return moved(LAT, LON, east, north)


def _roads(high_street: str = "High Street") -> list[Segment]:
    """High Street runs west-east through the test spot; Church Street leaves it northwards
    80 m east of the spot."""
    return [
        Segment("hs-1", high_street, "high_street", (_at(-500), _at(80))),
        Segment("hs-2", high_street, "high_street", (_at(80), _at(600))),
        Segment("cs-1", "Church Street", "residential", (_at(80), _at(80, 300))),
    ]


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    app = create_app(ApiSettings(health_cache_s=0), services, RoutingSettings(seconds=0.3))
    with TestClient(app) as c:
        yield c


@pytest.fixture
def town(conn: psycopg.Connection, council: str, uid: str) -> dict[str, str]:
    """Roads, three full bins (on High Street, on Church Street with a registry address, and
    in a field far from any road) and a pothole in the middle of High Street."""
    store_segments(conn, council, _roads(), "Test map data, CC BY")
    places = {f"hs-{uid}": _at(30, 6), f"cs-{uid}": _at(86, 150), f"far-{uid}": _at(0, 2000)}
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council,
                kind="bin",
                device_id=device_id,
                lat=lat,
                lon=lon,
                capacity_litres=240,
                address="Victoria Hall, 39 High Street" if device_id.startswith("cs") else None,
            )
            for device_id, (lat, lon) in places.items()
        ],
    )
    now = datetime.now(UTC)
    conn.cursor().executemany(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct) VALUES (%s, %s, %s, 95)",
        [(council, d, now - timedelta(hours=h)) for d in places for h in range(3)],
    )
    set_depot(conn, council, *_at(-300))
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], now - timedelta(hours=1))
    refresh_potholes(conn, council, now=now)
    return {
        f"hs-{uid}": HERE,
        f"cs-{uid}": "Victoria Hall, 39 High Street",
        f"far-{uid}": "",
    }


def test_bins_get_their_street_and_addresses_win(
    conn: psycopg.Connection, council: str, town: dict[str, str]
) -> None:
    streets = {b.device_id: b.street or "" for b in bin_states(conn, council, datetime.now(UTC))}
    assert streets == town


def test_streets_follow_a_new_road_import(
    conn: psycopg.Connection, council: str, uid: str, town: dict[str, str]
) -> None:
    """Street names are cached per council until its roads are imported again."""
    now = datetime.now(UTC)
    by_id = {b.device_id: b.street for b in bin_states(conn, council, now)}
    assert by_id[f"hs-{uid}"] == HERE  # and the council's street index is now cached
    store_segments(conn, council, _roads("Market Street"))
    by_id = {b.device_id: b.street for b in bin_states(conn, council, now)}
    assert by_id[f"hs-{uid}"] == "Market Street, near Church Street"


def test_plan_exports_carry_the_street(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str, town: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {create_token(conn, council, Scope.CREW)}"}
    base = f"/v1/councils/{council}/routes"
    day = str((datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date())
    plan = client.post(base, params={"date": day}, headers=headers).json()
    stops = {s["device_id"]: s for r in plan["routes"] for s in r["stops"]}
    assert stops[f"hs-{uid}"]["street"] == HERE
    geo = client.get(f"{base}/{plan['plan_id']}/geojson", headers=headers).json()
    on_map = {
        f["properties"].get("device_id"): f["properties"].get("street") for f in geo["features"]
    }
    assert on_map[f"hs-{uid}"] == HERE
    gpx = client.get(f"{base}/{plan['plan_id']}/gpx", headers=headers).text
    ns = {"g": GPX_NS}
    points = ET.fromstring(gpx).findall(".//g:rtept", ns)  # noqa: S314 - our own output
    named = {p.findtext("g:name", namespaces=ns): p for p in points}
    point = named[f"hs-{uid}"]
    assert point.findtext("g:cmt", namespaces=ns) == HERE
    assert (point.findtext("g:desc", namespaces=ns) or "").startswith(HERE + ": ")
    vehicle = next(r["vehicle"] for r in plan["routes"] if f"hs-{uid}" in str(r))
    page = client.get(f"{base}/{plan['plan_id']}/vehicles/{vehicle}/page", headers=headers)
    assert HERE in page.text
    assert "Streets: Test map data, CC BY." in page.text  # whose roads are drawn


def test_pothole_exports_carry_the_street(
    client: TestClient, conn: psycopg.Connection, council: str, town: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {create_token(conn, council, Scope.HIGHWAYS)}"}
    base = f"/v1/councils/{council}/potholes"
    listed = client.get(base, headers=headers).json()
    assert listed and all(p["street"] == HERE for p in listed)
    rows = list(csv.DictReader(io.StringIO(client.get(f"{base}.csv", headers=headers).text)))
    assert rows and all(r["street"] == HERE for r in rows)
    (request,) = client.get(f"{base}/open311", headers=headers).json()
    assert request["address"] == HERE
    assert HERE in request["description"]


def test_open_data_potholes_and_bins_carry_the_street(
    client: TestClient, council: str, uid: str, town: dict[str, str]
) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get(f"/open-data/{council}/potholes.csv").text)))
    assert rows and all(r["street"] == HERE for r in rows)
    body = client.get(f"/open-data/{council}/fiware/WasteContainer.json").json()
    addresses = {e["id"].rsplit(":", 1)[1]: e.get("address", {}).get("streetAddress") for e in body}
    assert addresses[f"hs-{uid}"] == HERE
    assert addresses[f"cs-{uid}"] == "Victoria Hall, 39 High Street"
    assert addresses[f"far-{uid}"] is None


def test_a_long_road_crossing_the_map_is_drawn(conn: psycopg.Connection, council: str) -> None:
    """A segment longer than the usual cut (a GeoJSON import with --max-length-m 2000) that
    starts far outside a map's area but crosses it is still among the roads drawn."""
    long_road = Segment("long", "Ring Road", "trunk", (_at(-1500), _at(1500)))
    store_segments(conn, council, [long_road, *_roads()])
    (lat0, lon0), (lat1, lon1) = _at(-50, -50), _at(50, 50)
    names = {r.name for r in roads_in_bbox(conn, council, BBox(lon0, lat0, lon1, lat1))}
    assert "Ring Road" in names


def test_roads_imported_before_their_stamp_get_one(conn: psycopg.Connection, council: str) -> None:
    """Roads stored without an import stamp (before migration 0017) are stamped by 0018, so
    their street index is cached rather than rebuilt on every request."""
    conn.execute(
        "INSERT INTO road_segment (council, segment_id, name, road_class, lats, lons, length_m) "
        "VALUES (%s, 'old', 'Old Road', 'residential', %s, %s, 100)",
        (council, [LAT, LAT + 0.0009], [LON, LON]),
    )
    stamp = "SELECT roads_updated_at FROM council WHERE slug = %s"
    assert conn.execute(stamp, (council,)).fetchone() == (None,)
    (sql,) = [m.for_storage("postgres") for m in load_migrations() if m.version == 18]
    conn.execute(sql)
    row = conn.execute(stamp, (council,)).fetchone()
    assert row is not None and row[0] is not None
