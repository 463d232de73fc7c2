"""Road coverage as GeoJSON and the highways map page: levels, k-anonymity, scopes, offline HTML."""

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from analytics.geo.geometry import moved
from analytics.potholes.coverage import Segment
from analytics.potholes.coverage_store import refresh_coverage, store_segments
from analytics.routing.settings import RoutingSettings
from api.app import create_app
from api.auth import Scope, create_token
from api.pothole_queries import EXPORTED_STATES
from api.settings import ApiSettings
from ingest.db.pseudonyms import period_of
from ingest.settings import ServiceSettings
from tests.helpers import chromium, phone_screenshot
from tests.potholes_data import LAT, LON, insert_bumps

NOW = datetime.now(UTC).replace(microsecond=0)
PERIOD = period_of(NOW)
LENGTH_M = 200.0
TILES = "https://tile.example/{z}/{x}/{y}.png"


def _at(north_m: float, east_m: float) -> tuple[float, float]:
    """(lat, lon) ``north_m`` and ``east_m`` metres from the test spot."""
    return moved(LAT, LON, east_m, north_m)


def _segment(segment_id: str, north_m: float, name: str = "High Street") -> Segment:
    """A straight road ``LENGTH_M`` long, west to east, ``north_m`` north of the test spot."""
    return Segment(segment_id, name, "residential", (_at(north_m, 0.0), _at(north_m, LENGTH_M)))


def _phone(uid: str, n: int, period: int = PERIOD) -> str:
    """A pseudonymous phone id of this test, as ingest stores them."""
    return f"p{period}-{uid}{n:06x}"


def _insert_tracks(
    conn: psycopg.Connection,
    council: str,
    devices: list[str],
    north_m: float = 0.0,
    ago: timedelta = timedelta(days=2),
) -> None:
    """One trip per device id along the road ``north_m`` north, a point every 20 m."""
    points = [_at(north_m, e) for e in range(0, int(LENGTH_M) + 1, 20)]
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    rows = []
    for i, device in enumerate(devices):
        start = NOW - ago + timedelta(minutes=10 * i)
        rows.append((council, device, start, start + timedelta(minutes=2), lats, lons))
    conn.cursor().executemany(
        "INSERT INTO trip_coverage (council, device_id, ts_start, ts_end, lats, lons) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        rows,
    )


def _insert_rough_tracks(
    conn: psycopg.Connection, council: str, iri_by_device: dict[str, list[float]]
) -> None:
    """One trip per device along the main road, with its roughness stretches: the ``n``-th
    value at the middle of the ``n``-th 50 m of the road."""
    points = [_at(0.0, e) for e in range(0, int(LENGTH_M) + 1, 20)]
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    rows = []
    for i, (device, iris) in enumerate(iri_by_device.items()):
        middles = [_at(0.0, 25.0 + 50.0 * k) for k in range(len(iris))]
        start = NOW - timedelta(days=1) + timedelta(minutes=10 * i)
        rows.append((council, device, start, start + timedelta(minutes=2), lats, lons,
                     [m[0] for m in middles], [m[1] for m in middles], iris))  # fmt: skip
    conn.cursor().executemany(
        "INSERT INTO trip_coverage (council, device_id, ts_start, ts_end, lats, lons, "
        "rough_lats, rough_lons, rough_iri) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )


@pytest.mark.parametrize(
    ("iris", "iri", "roughness"),
    [
        pytest.param([[1.0, 1.5], [3.0]], None, None, id="two-phones-withheld"),
        pytest.param([[1.0, 1.5], [3.0], [5.5, 6.5]], 3.0, "fair", id="median-of-stretches"),
        pytest.param([[7.0], [8.0], [6.5, 9.0]], 7.5, "very poor", id="very-poor"),
    ],
)
def test_segment_roughness_is_the_median_from_three_phones(
    client: TestClient,
    conn: psycopg.Connection,
    council: str,
    uid: str,
    iris: list[list[float]],
    iri: float | None,
    roughness: str | None,
) -> None:
    """A segment's roughness is the median over every stretch on it, shown from 3 phones; a road
    60 m away gets none of it."""
    store_segments(conn, council, [_segment("main", 0.0), _segment("side", 60.0, "Back Lane")])
    _insert_rough_tracks(conn, council, {_phone(uid, n): v for n, v in enumerate(iris)})
    summary = refresh_coverage(conn, council, now=NOW)
    assert summary["rough"] == 1
    main, side = _coverage(client, conn, council)["features"]
    assert main["properties"]["iri_m_per_km"] == iri
    assert main["properties"]["roughness"] == roughness
    assert side["properties"]["iri_m_per_km"] is None
    stored = conn.execute(
        "SELECT iri_phones, iri_stretches FROM road_coverage WHERE council = %s "
        "AND segment_id = 'main'",
        (council,),
    ).fetchone()
    assert stored == (len(iris), sum(len(v) for v in iris))
    page = client.get(f"/v1/councils/{council}/highways/map", headers=_auth(conn, council)).text
    if iri is None:
        assert " m/km (" not in page
    else:
        assert f"roughness {iri:.1f} m/km ({roughness})" in page


def _insert_pothole(conn: psycopg.Connection, council: str, state: str, east_m: float) -> int:
    """A stored pothole in ``state`` on the main road; its id."""
    lat, lon = _at(0.0, east_m)
    row = conn.execute(
        "INSERT INTO pothole (council, lat, lon, heading_deg, severity, confidence, reports, "
        "devices, first_seen, last_seen, state, state_changed_at) "
        "VALUES (%s, %s, %s, 90, 0.8, 0.9, 5, 3, %s, %s, %s, %s) RETURNING pothole_id",
        (council, lat, lon, NOW - timedelta(days=3), NOW - timedelta(hours=2), state, NOW),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _app(database_url: str, mqtt_url: str, tile_url: str | None = None) -> TestClient:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    routing = RoutingSettings(tile_url=tile_url)
    return TestClient(create_app(ApiSettings(health_cache_s=0), services, routing))


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """The API on the session's database, without map tiles whatever the environment says."""
    with _app(database_url, mqtt_url) as c:
        yield c


def _auth(conn: psycopg.Connection, council: str, scope: Scope = Scope.HIGHWAYS) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(conn, council, scope)}"}


def _coverage(
    client: TestClient, conn: psycopg.Connection, council: str, bbox: str | None = None
) -> dict[str, Any]:
    params = {"bbox": bbox} if bbox is not None else {}
    resp = client.get(
        f"/v1/councils/{council}/coverage", params=params, headers=_auth(conn, council)
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["type"] == "FeatureCollection"
    return body


def _box(south_m: float, west_m: float, north_m: float, east_m: float) -> str:
    (min_lat, min_lon), (max_lat, max_lon) = _at(south_m, west_m), _at(north_m, east_m)
    return f"{min_lon},{min_lat},{max_lon},{max_lat}"


@pytest.mark.parametrize(
    ("tracks", "level", "passes", "phones"),
    [
        pytest.param([], "unseen", None, None, id="untouched"),
        pytest.param([(0, 0), (0, 1)], "rare", None, None, id="two-phones"),
        pytest.param([(0, 0), (0, 1), (0, 0), (0, 1)], "rare", None, None, id="two-phones-often"),
        pytest.param([(0, 0), (0, 1), (-1, 2)], "rare", None, None, id="three-over-two-periods"),
        pytest.param([(0, 0), (0, 1), (0, 2)], "low", 3, 3, id="three-phones"),
        pytest.param([(0, n % 3) for n in range(9)], "low", 9, 3, id="nine-passes"),
        pytest.param([(0, n % 4) for n in range(10)], "covered", 10, 4, id="ten-passes"),
    ],
)
def test_levels_follow_passes_and_phones(
    client: TestClient,
    conn: psycopg.Connection,
    council: str,
    uid: str,
    tracks: list[tuple[int, int]],
    level: str,
    passes: int | None,
    phones: int | None,
) -> None:
    """Level and passes per segment; counts withheld below 3 phones; a road 60 m away unseen."""
    store_segments(conn, council, [_segment("main", 0.0), _segment("side", 60.0, "Back Lane")])
    _insert_tracks(conn, council, [_phone(uid, n, PERIOD + dp) for dp, n in tracks])
    _insert_tracks(conn, council, [_phone(uid, 99)], ago=timedelta(days=40))
    summary = refresh_coverage(conn, council, now=NOW)
    assert summary == {
        "tracks": len(tracks),
        "segments": 2,
        "passed": 1 if tracks else 0,
        "rough": 0,
    }
    body = _coverage(client, conn, council)
    assert body["refreshed_at"] is not None
    assert datetime.fromisoformat(body["refreshed_at"]) == NOW
    main, side = body["features"]
    assert main["id"] == "main" and main["geometry"]["type"] == "LineString"
    (lon0, lat0), (lon1, lat1) = main["geometry"]["coordinates"]
    assert (lat0, lon0) == pytest.approx(_at(0.0, 0.0))
    assert (lat1, lon1) == pytest.approx(_at(0.0, LENGTH_M))
    props = main["properties"]
    assert props["name"] == "High Street" and props["road_class"] == "residential"
    assert props["length_m"] == pytest.approx(LENGTH_M, abs=0.5)
    assert (props["level"], props["passes"], props["phones"]) == (level, passes, phones)
    if passes is None:
        assert props["last_pass"] is None
    else:
        last = NOW - timedelta(days=2) + timedelta(minutes=10 * (len(tracks) - 1) + 2)
        assert datetime.fromisoformat(props["last_pass"]) == last
    assert side["properties"]["segment_id"] == "side"
    assert (side["properties"]["level"], side["properties"]["passes"]) == ("unseen", None)
    assert uid not in str(body)


def test_never_refreshed_is_unseen(
    client: TestClient, conn: psycopg.Connection, council: str
) -> None:
    """Segments imported but never refreshed are unseen, with no refresh time."""
    store_segments(conn, council, [_segment("main", 0.0)])
    body = _coverage(client, conn, council)
    assert body["refreshed_at"] is None
    assert [f["properties"]["level"] for f in body["features"]] == ["unseen"]


def test_bbox_selects_segments(client: TestClient, conn: psycopg.Connection, council: str) -> None:
    """Only segments with a point inside the bbox are returned; none when it holds no road."""
    store_segments(conn, council, [_segment("near", 0.0), _segment("far", 3000.0)])
    ids = [f["id"] for f in _coverage(client, conn, council)["features"]]
    assert ids == ["far", "near"]
    near = _coverage(client, conn, council, _box(-50, -50, 50, 250))
    assert [f["id"] for f in near["features"]] == ["near"]
    far = _coverage(client, conn, council, _box(2900, 150, 3100, 400))
    assert [f["id"] for f in far["features"]] == ["far"]
    assert _coverage(client, conn, council, _box(1000, 0, 2000, 200))["features"] == []


@pytest.mark.parametrize("path", ["coverage", "highways/map"])
@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "1,2,0,3", "1,2,3,91", "-181,0,0,1"])
def test_bad_bbox_is_422(
    client: TestClient, conn: psycopg.Connection, council: str, path: str, bbox: str
) -> None:
    """A malformed or out-of-range bbox is 422 with the problem."""
    store_segments(conn, council, [_segment("main", 0.0)])
    resp = client.get(
        f"/v1/councils/{council}/{path}", params={"bbox": bbox}, headers=_auth(conn, council)
    )
    assert resp.status_code == 422
    assert "bbox" in resp.json()["detail"]


@pytest.mark.parametrize("path", ["coverage", "highways/map"])
def test_scope_and_council_are_enforced(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str, path: str
) -> None:
    """No token is 401; a crew token or another council's highways token is 403."""
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (f"o-{uid}",))
    store_segments(conn, council, [_segment("main", 0.0)])
    url = f"/v1/councils/{council}/{path}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=_auth(conn, council, Scope.CREW)).status_code == 403
    assert client.get(url, headers=_auth(conn, f"o-{uid}")).status_code == 403
    assert client.get(url, headers=_auth(conn, council)).status_code == 200


@pytest.fixture
def mapped(conn: psycopg.Connection, council: str, uid: str) -> dict[str, list[int] | list[str]]:
    """Two roads (one driven by 3 phones), rough-road bumps from 3 phones and one pothole in
    each state; the listed potholes' ids, the others' ids and every phone id used."""
    store_segments(conn, council, [_segment("main", 0.0), _segment("side", 60.0, "Back Lane")])
    phones = [_phone(uid, n) for n in range(3)]
    _insert_tracks(conn, council, phones)
    refresh_coverage(conn, council, now=NOW)
    raw = [f"raw{n}-{uid}" for n in range(3)]
    bumpers = [_phone(uid, 10 + n) for n in range(3)]
    insert_bumps(conn, council, raw + bumpers, NOW - timedelta(hours=1), east_m=100.0)
    listed = [
        _insert_pothole(conn, council, state, 20.0 + 30 * n)
        for n, state in enumerate(["confirmed", "confirmed", *EXPORTED_STATES[1:]])
    ]
    hidden = [
        _insert_pothole(conn, council, state, 40.0 + 30 * n)
        for n, state in enumerate(["candidate", "duplicate"])
    ]
    return {"listed": listed, "hidden": hidden, "phones": phones + raw + bumpers}


def _table_ids(page: str) -> list[int]:
    """The Id column (the last) of the page's pothole table."""
    return [int(i) for i in re.findall(r"<td>(\d+)</td></tr>", page)]


def test_map_page_shows_roads_hexes_and_potholes(
    client: TestClient,
    conn: psycopg.Connection,
    council: str,
    mapped: dict[str, list[int] | list[str]],
) -> None:
    """The page is offline HTML: an SVG with roads, a hexagon and one numbered marker per
    listed pothole, the list of confirmed-or-later potholes, and no phone ids."""
    resp = client.get(f"/v1/councils/{council}/highways/map", headers=_auth(conn, council))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["cache-control"] == "no-store"
    page = resp.text
    assert '<meta name="viewport"' in page and "<svg" in page
    assert page.count("<polyline") == 2
    assert page.count('fill="#d93025"') == 1
    listed, hidden = mapped["listed"], mapped["hidden"]
    assert page.count('<g class="hole">') == len(listed) == 5
    assert sorted(_table_ids(page)) == sorted(listed)
    for pid in hidden:
        assert f"pothole {pid}," not in page
    assert f"{len(listed)} numbered potholes" in page
    assert "http://" not in page and "https://" not in page
    assert re.search(r"\bp\d+-", page) is None
    for phone in mapped["phones"]:
        assert str(phone) not in page


def test_map_page_bbox_limits_the_list(
    client: TestClient,
    conn: psycopg.Connection,
    council: str,
    mapped: dict[str, list[int] | list[str]],
) -> None:
    """A bbox around the first potholes lists only them."""
    resp = client.get(
        f"/v1/councils/{council}/highways/map",
        params={"bbox": _box(-10, 10, 10, 55)},
        headers=_auth(conn, council),
    )
    assert resp.status_code == 200, resp.text
    assert _table_ids(resp.text) == mapped["listed"][:2]


def test_map_page_draws_tiles_when_configured(
    database_url: str, mqtt_url: str, conn: psycopg.Connection, council: str
) -> None:
    """With a tile URL the page draws tiles from it and credits their host."""
    store_segments(conn, council, [_segment("main", 0.0)])
    with _app(database_url, mqtt_url, TILES) as c:
        resp = c.get(f"/v1/councils/{council}/highways/map", headers=_auth(conn, council))
    assert resp.status_code == 200, resp.text
    assert "https://tile.example/" in resp.text and "Map tiles: tile.example" in resp.text


def test_map_page_of_empty_council(
    client: TestClient, conn: psycopg.Connection, council: str
) -> None:
    """Nothing to show is 404 with a hint; with a bbox an empty map; potholes alone suffice."""
    url, headers = f"/v1/councils/{council}/highways/map", _auth(conn, council)
    resp = client.get(url, headers=headers)
    assert resp.status_code == 404
    assert "bbox" in resp.json()["detail"]
    empty = client.get(url, params={"bbox": _box(-100, -100, 100, 300)}, headers=headers)
    assert empty.status_code == 200 and "No potholes in this area." in empty.text
    pid = _insert_pothole(conn, council, "confirmed", 50.0)
    only_holes = client.get(url, headers=headers)
    assert only_holes.status_code == 200, only_holes.text
    assert _table_ids(only_holes.text) == [pid]


def test_entry_page(client: TestClient) -> None:
    """``/highways`` needs no token and offers a form to pick the council."""
    resp = client.get("/highways")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert '<form id="pick"' in resp.text and 'name="council"' in resp.text
    assert '<meta name="viewport"' in resp.text


def test_map_page_shows_potholes_just_off_the_roads(
    client: TestClient, conn: psycopg.Connection, council: str
) -> None:
    """The default area covers the potholes as well as the roads, with a margin."""
    store_segments(conn, council, [_segment("main", 0.0)])
    pid = _insert_pothole(conn, council, "confirmed", 50.0)
    conn.execute(
        "UPDATE pothole SET lat = %s, lon = %s WHERE pothole_id = %s", (*_at(30.0, 250.0), pid)
    )
    page = client.get(f"/v1/councils/{council}/highways/map", headers=_auth(conn, council))
    assert page.status_code == 200 and _table_ids(page.text) == [pid]


@pytest.mark.skipif(chromium() is None, reason="needs Chromium (Debian package 'chromium')")
def test_map_page_renders_on_a_phone(
    client: TestClient,
    conn: psycopg.Connection,
    council: str,
    mapped: dict[str, list[int] | list[str]],
    tmp_path: Path,
) -> None:
    """Saved and opened offline in a phone-sized headless Chromium, the map shows the road three
    phones drove (light blue), the undriven one (grey) and the red potholes."""
    resp = client.get(f"/v1/councils/{council}/highways/map", headers=_auth(conn, council))
    page, shot = tmp_path / "map.html", tmp_path / "map.png"
    # The legend carries the same colours; hidden, only the map itself can supply them.
    html = resp.text.replace("</style>", ".legend{display:none}</style>", 1)
    page.write_text(html, encoding="utf-8")
    phone_screenshot(page.as_uri(), shot, tmp_path / "profile", 1200)
    pixels = np.asarray(Image.open(io.BytesIO(shot.read_bytes())).convert("RGB"), dtype=np.int16)

    def near(colour: str, tolerance: int = 10) -> int:
        target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
        return int((np.abs(pixels - target) <= tolerance).all(axis=2).sum())

    assert near("#7baaf7") > 150, "the road driven by 3 phones (under 10 passes) is not drawn"
    assert near("#9aa0a6") > 100, "the undriven road is not drawn"
    assert near("#c5221f") > 100, "no pothole marker"
    assert pixels.shape[1] == 412  # laid out for the phone's width, nothing wider forced
