"""Collection plans through the API and the CLI, against a real database: make, fetch, export,
mark bins collected; tokens confined to their council; clear errors."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from analytics.geo.geometry import moved
from analytics.routing.export import GPX_NS
from analytics.routing.io import bin_states, set_depot
from analytics.routing.settings import RoutingSettings
from api.app import create_app
from api.auth import Scope, create_token
from api.settings import ApiSettings
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings

CENTRE = (52.6697, -0.7269)


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """An app whose plans search for half a second."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    app = create_app(ApiSettings(health_cache_s=0), services, RoutingSettings(seconds=0.5))
    with TestClient(app) as c:
        yield c


@pytest.fixture
def town(conn: psycopg.Connection, council: str, uid: str) -> dict[str, float]:
    """Six bins with three days of half-hourly readings; returns each bin's level now."""
    levels = {f"bin-{i}-{uid}": 15.0 * i for i in range(6)}  # 0% .. 75%
    devices = []
    for i, device_id in enumerate(levels):
        lat, lon = moved(*CENTRE, 150 * (i % 2), 250 * i)
        devices.append(
            DeviceCreate(
                council=council,
                kind="bin",
                device_id=device_id,
                lat=lat,
                lon=lon,
                capacity_litres=240,
                address=f"{i} Church Street",
            )
        )
    import_devices(conn, devices)
    now = datetime.now(UTC)
    rows = []
    for device_id, level in levels.items():
        rate = 1.5  # %/h: a 75% bin will overflow by tomorrow morning
        for k in range(72 * 2):
            fill = max(0.0, level - rate * k / 2)
            rows.append((council, device_id, now - timedelta(minutes=30 * k), round(fill, 1)))
    conn.cursor().executemany(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct) VALUES (%s, %s, %s, %s)", rows
    )
    set_depot(conn, council, *CENTRE)
    return levels


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _tomorrow() -> str:
    return str((datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date())


def test_plan_fetch_export_and_mark_collected(
    client: TestClient, conn: psycopg.Connection, council: str, town: dict[str, float]
) -> None:
    """A crew makes tomorrow's plan, fetches it back, exports it and marks a bin collected."""
    headers = _auth(create_token(conn, council, Scope.CREW))
    base = f"/v1/councils/{council}/routes"
    made = client.post(base, params={"date": _tomorrow()}, headers=headers)
    assert made.status_code == 201, made.text
    plan = made.json()
    planned = [s["device_id"] for r in plan["routes"] for s in r["stops"]]
    fullest = max(town, key=town.__getitem__)
    assert fullest in planned
    emptiest = min(town, key=town.__getitem__)
    assert emptiest in {b["device_id"] for b in plan["skipped"]}
    assert all(s["street"].endswith("Church Street") for r in plan["routes"] for s in r["stops"])

    latest = client.get(base, params={"date": _tomorrow()}, headers=headers)
    assert latest.status_code == 200 and latest.json()["plan_id"] == plan["plan_id"]

    geo = client.get(f"{base}/{plan['plan_id']}/geojson", headers=headers)
    assert geo.headers["content-type"].startswith("application/geo+json")
    kinds = [f["geometry"]["type"] for f in geo.json()["features"] if f["geometry"]]
    assert kinds.count("LineString") == len(plan["routes"])

    gpx = client.get(f"{base}/{plan['plan_id']}/gpx", params={"vehicle": 1}, headers=headers)
    assert gpx.status_code == 200
    tree = ET.fromstring(gpx.text)  # noqa: S314 - our own output, not untrusted input
    points = tree.findall(f".//{{{GPX_NS}}}rtept")
    assert len(points) == len(plan["routes"][0]["stops"])

    page_url = f"{base}/{plan['plan_id']}/vehicles/1/page"
    stop = plan["routes"][0]["stops"][0]["device_id"]
    done = client.post(
        f"/v1/councils/{council}/bins/{stop}/collected",
        json={"plan_id": plan["plan_id"]},
        headers=headers,
    )
    assert done.status_code == 201, done.text
    page = client.get(page_url, headers=headers)
    assert page.status_code == 200 and "<svg" in page.text
    assert page.text.count("collected") >= 1 and stop in page.text
    count = conn.execute(
        "SELECT count(*) FROM bin_collection WHERE device_id = %s AND plan_id = %s",
        (stop, plan["plan_id"]),
    ).fetchone()
    assert count == (1,)


def test_collected_bin_resets_the_fill_model(
    conn: psycopg.Connection, council: str, town: dict[str, float]
) -> None:
    """A crew's collection after the last reading makes the bin's level near zero."""
    fullest = max(town, key=town.__getitem__)
    now = datetime.now(UTC)
    before = next(b for b in bin_states(conn, council, now) if b.device_id == fullest)
    conn.execute(
        "INSERT INTO bin_collection (device_id, council, collected_at) VALUES (%s, %s, %s)",
        (fullest, council, now + timedelta(seconds=30)),
    )
    later = now + timedelta(minutes=1)
    after = next(b for b in bin_states(conn, council, later) if b.device_id == fullest)
    assert before.model is not None and after.model is not None
    assert before.model.predict(now).median_pct > 60
    assert after.model.predict(later).median_pct < 10


def test_routes_are_confined_to_the_council(
    client: TestClient, conn: psycopg.Connection, council: str, town: dict[str, float], uid: str
) -> None:
    """Another council's crew token can neither plan, read nor mark this council's bins."""
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (f"o-{uid}",))
    other = _auth(create_token(conn, f"o-{uid}", Scope.CREW))
    base = f"/v1/councils/{council}"
    assert (
        client.post(f"{base}/routes", params={"date": _tomorrow()}, headers=other).status_code
        == 403
    )
    assert (
        client.get(f"{base}/routes", params={"date": _tomorrow()}, headers=other).status_code == 403
    )
    bin_id = next(iter(town))
    assert client.post(f"{base}/bins/{bin_id}/collected", headers=other).status_code == 403
    mine = _auth(create_token(conn, f"o-{uid}", Scope.CREW))
    resp = client.post(f"/v1/councils/o-{uid}/bins/{bin_id}/collected", headers=mine)
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"collected_at": "2026-01-01T07:00:00"}, 422, "time zone"),
        ({"collected_at": "2099-01-01T07:00:00Z"}, 422, "future"),
        ({"colected_at": "2026-01-01T07:00:00Z"}, 422, "colected_at"),
    ],
)
def test_bad_collection_is_a_clear_4xx(
    client: TestClient,
    conn: psycopg.Connection,
    council: str,
    town: dict[str, float],
    body: dict[str, str],
    status: int,
    message: str,
) -> None:
    """Naive or future times and unknown fields are refused with a message."""
    headers = _auth(create_token(conn, council, Scope.CREW))
    bin_id = next(iter(town))
    resp = client.post(
        f"/v1/councils/{council}/bins/{bin_id}/collected", json=body, headers=headers
    )
    assert resp.status_code == status
    assert message in json.dumps(resp.json())


def test_no_depot_and_no_plan_are_explained(
    client: TestClient, conn: psycopg.Connection, council: str
) -> None:
    """A council without a depot gets 409 saying how to set one; a missing plan is 404."""
    headers = _auth(create_token(conn, council, Scope.CREW))
    base = f"/v1/councils/{council}/routes"
    resp = client.post(base, params={"date": _tomorrow()}, headers=headers)
    assert resp.status_code == 409 and "routes depot" in resp.json()["detail"]
    missing = client.get(base, params={"date": _tomorrow()}, headers=headers)
    assert missing.status_code == 404 and "no plan" in missing.json()["detail"]
    assert client.get(f"{base}/999999999", headers=headers).status_code == 404


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"SMARTSTREETS_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
    )


def test_cli_plan_prints_json_and_writes_pages(
    database_url: str, council: str, town: dict[str, float], tmp_path: object
) -> None:
    """'routes plan --format json --html DIR' prints the plan and writes one page per vehicle."""
    out = _cli(
        "routes",
        "plan",
        "--council",
        council,
        "--date",
        _tomorrow(),
        "--format",
        "json",
        "--seconds",
        "0.3",
        "--html",
        str(tmp_path),
        database_url=database_url,
    )
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["council"] == council and plan["routes"]
    pages = list(tmp_path.iterdir())  # type: ignore[attr-defined]
    assert len(pages) == len(plan["routes"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--depot", "north"], "--depot: expected LAT,LON"),
        (["--format", "pdf"], "--format"),
        (["--council", "nowhere-at-all"], "unknown council"),
    ],
)
def test_cli_plan_bad_arguments_are_one_line(
    database_url: str, council: str, args: list[str], message: str
) -> None:
    """Bad arguments give a one-line error and a non-zero exit, no traceback."""
    base = ["routes", "plan", "--council", council, "--date", _tomorrow()]
    out = _cli(*base, *args, database_url=database_url)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr
