"""The highways heatmap: H3 hexagons as GeoJSON, k-anonymous, scope-enforced."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import h3
import psycopg
import pytest
from fastapi.testclient import TestClient

from analytics.potholes.heatmap import MIN_PHONES
from analytics.potholes.store import refresh_potholes
from api.app import create_app
from api.auth import Scope, create_token
from api.routers.heatmap import resolution_for_zoom
from api.settings import ApiSettings
from ingest.settings import ServiceSettings
from tests.potholes_data import LAT, LON, insert_bumps

NOW = datetime.now(UTC).replace(microsecond=0)
BOX = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """The API on the session's database."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    with TestClient(create_app(ApiSettings(health_cache_s=0), services)) as c:
        yield c


def _auth(conn: psycopg.Connection, council: str, scope: Scope = Scope.HIGHWAYS) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(conn, council, scope)}"}


def _cells(client: TestClient, conn: psycopg.Connection, council: str) -> list[dict[str, object]]:
    resp = client.get(
        f"/v1/councils/{council}/heatmap",
        params={"bbox": BOX, "zoom": 16},
        headers=_auth(conn, council),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    features: list[dict[str, object]] = body["features"]
    return features


def test_resolution_follows_zoom() -> None:
    assert [resolution_for_zoom(z) for z in (3, 12, 13, 14, 15, 20)] == [8, 8, 9, 9, 10, 10]


def test_cell_needs_three_phones(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    """Two phones keep a cell hidden; a third publishes it, with the stored pothole counted."""
    assert MIN_PHONES == 3
    insert_bumps(conn, council, [f"a-{uid}", f"b-{uid}"], NOW - timedelta(hours=1))
    insert_bumps(conn, council, [f"a-{uid}"], NOW - timedelta(hours=2))
    insert_bumps(conn, council, [f"old-{uid}"], NOW - timedelta(days=120))
    assert _cells(client, conn, council) == []
    insert_bumps(conn, council, [f"c-{uid}"], NOW - timedelta(hours=1))
    refresh_potholes(conn, council, now=NOW)
    (cell,) = _cells(client, conn, council)
    props = cell["properties"]
    assert isinstance(props, dict)
    assert props["cell"] == h3.latlng_to_cell(LAT, LON, 10)
    assert (props["reports"], props["phones"], props["potholes"]) == (4, 3, 1)
    assert props["roughness"] == pytest.approx(1.6)
    assert uid not in str(cell)


def test_polygon_is_closed_lon_lat(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1))
    (cell,) = _cells(client, conn, council)
    geometry = cell["geometry"]
    assert isinstance(geometry, dict) and geometry["type"] == "Polygon"
    (ring,) = geometry["coordinates"]
    assert ring[0] == ring[-1] and len(ring) >= 7
    for lon, lat in ring:
        assert lon == pytest.approx(LON, abs=0.002) and lat == pytest.approx(LAT, abs=0.002)


def test_scope_council_and_bbox_are_enforced(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    """No token is 401; a crew token or another council's token is 403; a bad bbox is 422."""
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (f"o-{uid}",))
    url = f"/v1/councils/{council}/heatmap"
    params = {"bbox": BOX, "zoom": "12"}
    assert client.get(url, params=params).status_code == 401
    crew = client.get(url, params=params, headers=_auth(conn, council, Scope.CREW))
    assert crew.status_code == 403
    assert client.get(url, params=params, headers=_auth(conn, f"o-{uid}")).status_code == 403
    bad = client.get(url, params={"bbox": "1,2,3", "zoom": "12"}, headers=_auth(conn, council))
    assert bad.status_code == 422
