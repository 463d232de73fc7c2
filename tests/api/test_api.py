"""The API against a real database: health, tokens and scopes, and one endpoint per stream."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Scope, create_token, revoke_token
from api.settings import ApiSettings
from deploy.embedded import free_port
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings


def _client(database_url: str, mqtt_url: str) -> TestClient:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    return TestClient(create_app(ApiSettings(health_cache_s=0), services))


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """A client of an app on the session's database and broker."""
    with _client(database_url, mqtt_url) as c:
        yield c


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_reports_database_and_broker(client: TestClient, conn: psycopg.Connection) -> None:
    """/health is 200 with versions and the storage path when both services answer."""
    resp = client.get("/health")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ok" and body["broker"]["ok"] is True
    db = body["database"]
    assert db["ok"] is True and db["server_version"][0].isdigit()
    assert db["storage"] in ("timescaledb", "postgres")
    assert (db["timescaledb"] is not None) == (db["storage"] == "timescaledb")


def test_health_is_503_when_broker_is_down(database_url: str) -> None:
    """A broker that does not answer makes /health 503 with the reason."""
    with _client(database_url, f"mqtt://127.0.0.1:{free_port()}") as c:
        resp = c.get("/health")
    assert resp.status_code == 503
    assert resp.json()["status"] == "degraded"
    assert "cannot reach" in resp.json()["broker"]["detail"]


@pytest.fixture
def bins(conn: psycopg.Connection, council: str, uid: str) -> list[str]:
    """Two bins, one with two readings and flags, one never heard from."""
    ids = [f"bin-a-{uid}", f"bin-b-{uid}"]
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="bin", device_id=i, lat=52.6, lon=-0.7, capacity_litres=240
            )
            for i in ids
        ],
    )
    now = datetime.now(UTC)
    conn.cursor().executemany(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct, flags) "
        "VALUES (%s, %s, %s, %s, %s)",
        [
            (council, ids[0], now - timedelta(minutes=20), 40, []),
            (council, ids[0], now - timedelta(minutes=5), 85, ["fire"]),
        ],
    )
    return ids


def test_latest_fill_needs_a_token(client: TestClient, council: str, bins: list[str]) -> None:
    """Without a token, or with a malformed one, the crew endpoint is 401."""
    url = f"/v1/councils/{council}/bins/latest"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=_auth("sst_nope")).status_code == 401


@pytest.mark.parametrize("scope", [Scope.CREW, Scope.ADMIN])
def test_latest_fill_per_bin(
    client: TestClient, conn: psycopg.Connection, council: str, bins: list[str], scope: Scope
) -> None:
    """A crew (or admin) token sees each bin's newest reading; silent bins are null and stale."""
    token = create_token(conn, council, scope)
    resp = client.get(f"/v1/councils/{council}/bins/latest", headers=_auth(token))
    assert resp.status_code == 200, resp.text
    by_id = {b["device_id"]: b for b in resp.json()}
    assert by_id[bins[0]]["fill_pct"] == 85 and by_id[bins[0]]["flags"] == ["fire"]
    assert by_id[bins[0]]["stale"] is False
    assert by_id[bins[1]]["fill_pct"] is None and by_id[bins[1]]["stale"] is True


def test_tokens_are_confined_to_council_and_scope(
    client: TestClient, conn: psycopg.Connection, council: str, bins: list[str], uid: str
) -> None:
    """Another council's crew token, a highways token and a revoked token are all refused."""
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (f"o-{uid}",))
    url = f"/v1/councils/{council}/bins/latest"
    other = create_token(conn, f"o-{uid}", Scope.CREW)
    assert client.get(url, headers=_auth(other)).status_code == 403
    highways = create_token(conn, council, Scope.HIGHWAYS)
    resp = client.get(url, headers=_auth(highways))
    assert resp.status_code == 403 and "does not grant 'crew'" in resp.json()["detail"]
    crew = create_token(conn, council, Scope.CREW)
    assert revoke_token(conn, crew.split("_")[1])
    assert client.get(url, headers=_auth(crew)).status_code == 401


def _counts(
    conn: psycopg.Connection,
    council: str,
    device: str,
    zone: str,
    now: datetime,
    per_hour: int,
    weeks: range,
) -> None:
    rows = []
    for w in weeks:
        end = now - timedelta(weeks=w) - timedelta(minutes=1)
        for q in range(4):
            stop = end - timedelta(minutes=15 * q)
            rows.append((council, device, zone, stop - timedelta(minutes=15), stop, per_hour // 4))
    conn.cursor().executemany(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        rows,
    )


def test_zones_now_levels(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    """Busier than usual is 'very busy'; a silent zone is 'unknown', never 'quiet'."""
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council,
                kind="counter",
                device_id=f"c1-{uid}",
                lat=52.6,
                lon=-0.7,
                zone="market",
            ),
            DeviceCreate(
                council=council,
                kind="counter",
                device_id=f"c2-{uid}",
                lat=52.6,
                lon=-0.7,
                zone="station",
            ),
        ],
    )
    now = datetime.now(UTC)
    _counts(conn, council, f"c1-{uid}", "market", now, 400, range(1, 5))  # usual: 400/h
    _counts(conn, council, f"c1-{uid}", "market", now, 800, range(0, 1))  # now: 800/h
    _counts(conn, council, f"c2-{uid}", "station", now, 400, range(1, 5))  # silent now
    resp = client.get(f"/v1/councils/{council}/zones/now")
    assert resp.status_code == 200, resp.text
    assert "max-age" in resp.headers["cache-control"]
    zones = {z["zone"]: z for z in resp.json()}
    assert zones["market"]["level"] == "very busy"
    assert zones["market"]["count_last_hour"] == 800 and zones["market"]["usual_count"] == 400
    assert zones["station"]["level"] == "unknown"
    assert zones["station"]["counters_reporting"] == 0


def test_zones_now_unknown_council_is_404(client: TestClient, uid: str) -> None:
    """A council that does not exist gives 404 with a message."""
    resp = client.get(f"/v1/councils/nope-{uid}/zones/now")
    assert resp.status_code == 404 and "unknown council" in resp.json()["detail"]


def test_bumps_in_bounding_box(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    """Only bumps inside the box come back, newest first, without the phone's id."""
    now = datetime.now(UTC)
    conn.cursor().executemany(
        "INSERT INTO bump_report (council, device_id, ts, lat, lon, speed_mps, peak_z_g) "
        "VALUES (%s, %s, %s, %s, %s, 10, %s)",
        [
            (council, f"p-{uid}", now - timedelta(minutes=3), 52.66, -0.72, 1.1),
            (council, f"p-{uid}", now - timedelta(minutes=2), 52.67, -0.73, 2.2),
            (council, f"p-{uid}", now - timedelta(minutes=1), 51.00, -0.10, 3.3),
        ],
    )
    token = create_token(conn, council, Scope.HIGHWAYS)
    resp = client.get(
        f"/v1/councils/{council}/bumps",
        params={"bbox": "-0.8,52.6,-0.7,52.7"},
        headers=_auth(token),
    )
    assert resp.status_code == 200, resp.text
    assert [b["peak_z_g"] for b in resp.json()] == pytest.approx([2.2, 1.1])
    assert all("device_id" not in b for b in resp.json())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bbox": "1,2,3"}, "min_lon,min_lat,max_lon,max_lat"),
        ({"bbox": "a,b,c,d"}, "must be numbers"),
        ({"bbox": "10,50,0,51"}, "min < max"),
        (
            {"bbox": "0,50,1,51", "since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
            "since must be before until",
        ),
        ({"bbox": "0,50,1,51", "limit": "0"}, "greater than or equal to 1"),
    ],
)
def test_bad_bump_queries_are_422(
    client: TestClient, conn: psycopg.Connection, council: str, params: dict[str, str], message: str
) -> None:
    """A malformed query gets a 4xx whose message says what is wrong."""
    token = create_token(conn, council, Scope.HIGHWAYS)
    resp = client.get(f"/v1/councils/{council}/bumps", params=params, headers=_auth(token))
    assert resp.status_code == 422
    assert message in resp.text


def test_index_page_lists_zones(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    """The home page is HTML for phones and names each council's zones with a level."""
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council,
                kind="counter",
                device_id=f"c-{uid}",
                lat=52.6,
                lon=-0.7,
                zone="harbour",
            )
        ],
    )
    resp = client.get("/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert 'name="viewport"' in resp.text and "harbour" in resp.text
    assert 'class="level unknown"' in resp.text


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    """/docs is served and the OpenAPI schema lists the endpoints with a bearer scheme."""
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {
        "/health",
        "/v1/councils/{council}/bins/latest",
        "/v1/councils/{council}/zones/now",
        "/v1/councils/{council}/bumps",
    } <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
