"""Potholes through the highways API: scopes, filters, lifecycle actions, CSV and Open311."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from analytics.potholes.store import refresh_potholes
from api.app import create_app
from api.auth import Scope, create_token
from api.routers.potholes import CSV_HEADER
from api.settings import ApiSettings
from ingest.settings import ServiceSettings
from tests.potholes_data import LAT, LON, insert_bumps

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """The API on the session's database."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    with TestClient(create_app(ApiSettings(health_cache_s=0), services)) as c:
        yield c


@pytest.fixture
def holes(conn: psycopg.Connection, council: str, uid: str) -> list[int]:
    """A confirmed pothole (three phones) and, 200 m east, a candidate (one phone); their ids."""
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1))
    insert_bumps(conn, council, [f"q-{uid}"], NOW - timedelta(hours=1), east_m=200.0)
    refresh_potholes(conn, council, now=NOW)
    rows = conn.execute(
        "SELECT pothole_id FROM pothole WHERE council = %s ORDER BY pothole_id", (council,)
    ).fetchall()
    return [r[0] for r in rows]


def _auth(conn: psycopg.Connection, council: str, scope: Scope = Scope.HIGHWAYS) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(conn, council, scope)}"}


def test_list_filters_and_hides_phones(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str, holes: list[int]
) -> None:
    """Potholes are listed by bbox, state and confidence, without any device id."""
    base, headers = f"/v1/councils/{council}/potholes", _auth(conn, council)
    everything = client.get(base, headers=headers)
    assert everything.status_code == 200
    assert sorted(p["pothole_id"] for p in everything.json()) == holes
    assert "device_id" not in everything.text and uid not in everything.text
    confirmed = client.get(base, params={"state": "confirmed"}, headers=headers).json()
    assert [p["pothole_id"] for p in confirmed] == holes[:1]
    assert confirmed[0]["devices"] == 3
    box = f"{LON - 0.001},{LAT - 0.001},{LON + 0.001},{LAT + 0.001}"
    inside = client.get(base, params={"bbox": box}, headers=headers).json()
    assert [p["pothole_id"] for p in inside] == holes[:1]
    sure = client.get(base, params={"min_confidence": 0.99}, headers=headers).json()
    assert all(p["confidence"] >= 0.99 for p in sure)
    bad = client.get(base, params={"bbox": "1,2,3"}, headers=headers)
    assert bad.status_code == 422 and "bbox" in bad.json()["detail"]


@pytest.mark.parametrize(
    "path", ["potholes", "potholes.csv", "potholes/open311", "potholes/1/state"]
)
def test_scope_and_council_are_enforced(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str, path: str
) -> None:
    """No token is 401; a crew token or another council's highways token is 403."""
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (f"o-{uid}",))
    url = f"/v1/councils/{council}/{path}"
    body = {"action": "report"}

    def call(headers: dict[str, str]) -> int:
        if path.endswith("/state"):
            return client.post(url, json=body, headers=headers).status_code
        return client.get(url, headers=headers).status_code

    assert call({}) == 401
    assert call(_auth(conn, council, Scope.CREW)) == 403
    assert call(_auth(conn, f"o-{uid}")) == 403


def test_lifecycle_actions(
    client: TestClient, conn: psycopg.Connection, council: str, holes: list[int]
) -> None:
    """Report then repair a confirmed pothole; a disallowed action is 409, unknown ids 404."""
    headers = _auth(conn, council)
    confirmed, candidate = holes

    def act(pid: int, **body: object) -> tuple[int, dict[str, object]]:
        resp = client.post(
            f"/v1/councils/{council}/potholes/{pid}/state", json=body, headers=headers
        )
        return resp.status_code, resp.json()

    assert act(candidate, action="report")[0] == 409
    code, out = act(candidate, action="repair")
    assert code == 409 and "candidate" in str(out["detail"])
    assert act(confirmed, action="report") == (
        200,
        {"pothole_id": confirmed, "state": "reported", "duplicate_of": None},
    )
    assert act(confirmed, action="repair")[1]["state"] == "repaired"
    assert act(candidate, action="mark_duplicate", duplicate_of=confirmed)[1] == {
        "pothole_id": candidate,
        "state": "duplicate",
        "duplicate_of": confirmed,
    }
    assert act(candidate, action="report")[0] == 409
    assert act(candidate, action="mark_duplicate")[0] == 422
    assert act(confirmed, action="fill")[0] == 422
    assert act(999_999_999, action="report")[0] == 404
    assert act(confirmed, action="mark_duplicate", duplicate_of=999_999_999)[0] == 404


def test_csv_export(
    client: TestClient, conn: psycopg.Connection, council: str, holes: list[int]
) -> None:
    """The CSV has the documented header and only confirmed-or-later potholes."""
    resp = client.get(f"/v1/councils/{council}/potholes.csv", headers=_auth(conn, council))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.text)))
    assert tuple(rows[0]) == CSV_HEADER
    assert [int(r[0]) for r in rows[1:]] == holes[:1]
    assert rows[1][1] == "confirmed"


def test_open311_service_requests(
    client: TestClient, conn: psycopg.Connection, council: str, holes: list[int]
) -> None:
    """Open311 GeoReport v2 fields; a repaired pothole is closed."""
    headers = _auth(conn, council)
    url = f"/v1/councils/{council}/potholes/open311"
    (request,) = client.get(url, headers=headers).json()
    assert {
        "service_request_id",
        "status",
        "service_code",
        "description",
        "lat",
        "long",
        "requested_datetime",
        "updated_datetime",
    } <= request.keys()
    assert request["service_request_id"] == str(holes[0])
    assert (request["status"], request["service_code"]) == ("open", "pothole")
    assert request["lat"] == pytest.approx(LAT) and request["long"] == pytest.approx(LON)
    datetime.fromisoformat(request["requested_datetime"])
    state = f"/v1/councils/{council}/potholes/{holes[0]}/state"
    assert client.post(state, json={"action": "repair"}, headers=headers).status_code == 200
    (request,) = client.get(url, headers=headers).json()
    assert request["status"] == "closed"
