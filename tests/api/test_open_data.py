"""Open data: every dataset in every format, small-count suppression, the DCAT catalogue and
the FIWARE shapes, on a real database."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.open_data import DATASETS, MIN_PEOPLE
from api.open_data_formats import MEDIA_TYPES, Format
from api.open_data_settings import OGL_V3
from api.settings import ApiSettings
from ingest.db.connect import refresh_rollups
from ingest.db.council_profile import ProfileChange, ZoneName, update_profile
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings

HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
LAT, LON = 52.6712345678, -0.7212345678


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """The API on the session's database, open-data settings from the environment."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    with TestClient(create_app(ApiSettings(health_cache_s=0), services)) as c:
        yield c


def _counts(conn: psycopg.Connection, council: str, rows: list[tuple[str, str, int]]) -> None:
    """Footfall of the test hour: (device, zone, people) per counter."""
    conn.cursor().executemany(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        [(council, d, z, HOUR, HOUR + timedelta(hours=1), n) for d, z, n in rows],
    )
    # On TimescaleDB another test's backfill may have materialised the rollups over this hour.
    refresh_rollups(conn, HOUR, HOUR + timedelta(hours=1))


def _fills(
    conn: psycopg.Connection, council: str, rows: list[tuple[str, float, list[str]]]
) -> None:
    """One bin reading each, in the test hour: (device, fill %, flags)."""
    conn.cursor().executemany(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct, temperature_c, flags) "
        "VALUES (%s, %s, %s, %s, 12.5, %s)",
        [(council, d, HOUR + timedelta(minutes=10), f, flags) for d, f, flags in rows],
    )


def _pothole(conn: psycopg.Connection, council: str, state: str, n: int) -> int:
    row = conn.execute(
        "INSERT INTO pothole (council, lat, lon, heading_deg, severity, confidence, reports, "
        "devices, first_seen, last_seen, state, state_changed_at) "
        "VALUES (%s, %s, %s, 90, 0.8123, 0.9456, 7, 4, %s, %s, %s, %s) RETURNING pothole_id",
        (council, LAT + n * 1e-4, LON, HOUR - timedelta(days=3), HOUR, state, HOUR),
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def data(conn: psycopg.Connection, council: str, uid: str) -> dict[str, Any]:
    """Zone 'high' (3 counters, 60 people) and 'quiet' (1 counter, 5 people); bin zone
    'centre' (3 bins at 10, 50, 90%) and 'lane' (2 bins); a pothole in each state; and
    another council with data of its own. What the tests look for."""
    other = f"o-{uid}"
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (other,))
    counters = [(f"hs{i}-{uid}", "high") for i in range(3)] + [(f"q-{uid}", "quiet")]
    bins = [(f"bc{i}-{uid}", "centre") for i in range(3)] + [
        (f"bl{i}-{uid}", "lane") for i in range(2)
    ]
    import_devices(
        conn,
        [
            DeviceCreate(council=council, kind="counter", device_id=d, lat=LAT, lon=LON, zone=z)
            for d, z in counters
        ]
        + [
            DeviceCreate(
                council=council,
                kind="bin",
                device_id=d,
                lat=LAT,
                lon=LON,
                zone=z,
                capacity_litres=240,
                address="High Street",
            )
            for d, z in bins
        ]
        + [
            DeviceCreate(
                council=other,
                kind="counter",
                device_id=f"x-{uid}",
                lat=LAT,
                lon=LON,
                zone=f"elsewhere-{uid}",
            ),
            DeviceCreate(
                council=other,
                kind="bin",
                device_id=f"xb-{uid}",
                lat=LAT,
                lon=LON,
                zone=f"elsewhere-{uid}",
                capacity_litres=240,
            ),
        ],
    )
    _counts(conn, council, [(d, z, 20 if z == "high" else 5) for d, z in counters])
    _counts(conn, other, [(f"x-{uid}", f"elsewhere-{uid}", 500)])
    fills = [10.0, 50.0, 90.0, 30.0, 95.0]
    flags: list[list[str]] = [[], ["fire", "lid_open"], ["lid_open"], [], ["tilted"]]
    _fills(conn, council, [(d, f, fl) for (d, _), f, fl in zip(bins, fills, flags, strict=True)])
    _fills(conn, other, [(f"xb-{uid}", 70.0, [])])
    conn.execute(
        "INSERT INTO bin_collection (device_id, council, collected_at) VALUES (%s, %s, %s)",
        (bins[0][0], council, HOUR - timedelta(days=1)),
    )
    states = ["confirmed", "reported", "repaired", "reopened", "candidate", "duplicate"]
    holes = {s: _pothole(conn, council, s, n) for n, s in enumerate(states)}
    _roughness(conn, council, {"main": (4.5, 3), "lane": (9.0, 2)})
    _roughness(conn, other, {"elsewhere": (7.0, 5)})
    return {
        "other": other,
        "listed": [holes[s] for s in states[:4]],
        "hidden": [holes["candidate"], holes["duplicate"], _pothole(conn, other, "confirmed", 9)],
        "bins": [d for d, _ in bins],
        "phones": ["devices", "reports", "device_id", "phone"],
    }


def _roughness(
    conn: psycopg.Connection, council: str, segments: dict[str, tuple[float, int]]
) -> None:
    """Road segments along the test spot with a median IRI measured by so many phones."""
    for n, (sid, (iri, phones)) in enumerate(segments.items()):
        lats, lons = [LAT + 0.001 * n, LAT + 0.001 * n], [LON, LON + 0.002]
        conn.execute(
            "INSERT INTO road_segment (council, segment_id, name, road_class, lats, lons, "
            "length_m) VALUES (%s, %s, 'High Street', 'residential', %s, %s, 135)",
            (council, sid, lats, lons),
        )
        conn.execute(
            "INSERT INTO road_coverage (council, segment_id, passes, phones, refreshed_at, "
            "iri_m_per_km, iri_phones, iri_stretches) VALUES (%s, %s, 10, 5, %s, %s, %s, 8)",
            (council, sid, HOUR, iri, phones),
        )


def _table(resp: Any, fmt: Format) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows of an export, parsed back with the format's usual reader."""
    if fmt is Format.CSV:
        reader = csv.DictReader(io.StringIO(resp.content.decode()))
        return list(reader.fieldnames or []), list(reader)
    if fmt is Format.GEOJSON:
        body = json.loads(resp.content)
        assert body["type"] == "FeatureCollection"
        rows = [f["properties"] for f in body["features"]]
        assert all(f["type"] == "Feature" for f in body["features"])
        return (list(rows[0]) if rows else []), rows
    frame = pl.read_parquet(io.BytesIO(resp.content))
    return frame.columns, frame.to_dicts()


def _get(client: TestClient, url: str, **params: str) -> Any:
    resp = client.get(url, params=params)
    assert resp.status_code == 200, resp.text
    return resp


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("slug", list(DATASETS))
def test_each_dataset_parses_back(
    client: TestClient, council: str, data: dict[str, Any], slug: str, fmt: Format
) -> None:
    """Each dataset in each format has its documented columns, type, filename and caching."""
    resp = _get(client, f"/open-data/{council}/{slug}.{fmt.value}")
    assert resp.headers["content-type"] == MEDIA_TYPES[fmt]
    assert resp.headers["cache-control"] == "public, max-age=300"
    disposition = resp.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="{council}-{slug}-')
    assert disposition.endswith(f'.{fmt.value}"')
    columns, rows = _table(resp, fmt)
    assert columns == [c.name for c in DATASETS[slug].columns]
    counts = {"footfall-hourly": 2, "bin-fill-daily": 2, "potholes": 4, "road-roughness": 1}
    assert len(rows) == counts[slug]


@pytest.mark.parametrize("fmt", list(Format))
def test_small_footfall_is_suppressed(
    client: TestClient, council: str, data: dict[str, Any], fmt: Format
) -> None:
    """A zone-hour of 5 people is withheld with its flag set; 60 people are published."""
    _, rows = _table(_get(client, f"/open-data/{council}/footfall-hourly.{fmt.value}"), fmt)
    by_zone = {r["zone"]: r for r in rows}
    high, quiet = by_zone["high"], by_zone["quiet"]
    assert str(high["count"]) == "60" and str(high["counters"]) == "3"
    assert str(high["suppressed"]).lower() == "false"
    assert quiet["count"] in (None, "") and str(quiet["suppressed"]).lower() == "true"
    assert datetime.fromisoformat(str(high["hour_start"])).replace(tzinfo=UTC) == HOUR


def test_bin_stats_need_three_bins(client: TestClient, council: str, data: dict[str, Any]) -> None:
    """Zone-days of 3 bins have statistics; of 2 bins, only the counts, flagged suppressed."""
    _, rows = _table(_get(client, f"/open-data/{council}/bin-fill-daily.parquet"), Format.PARQUET)
    centre, lane = sorted(rows, key=lambda r: r["zone"])
    assert centre["zone"] == "centre" and centre["suppressed"] is False
    assert (centre["bins_reporting"], centre["readings"]) == (3, 3)
    assert centre["mean_fill_pct"] == pytest.approx(50.0)
    assert centre["median_fill_pct"] == pytest.approx(50.0)
    assert centre["p90_fill_pct"] == pytest.approx(82.0)
    assert centre["bins_at_or_over_80"] == 1
    assert lane["zone"] == "lane" and lane["suppressed"] is True
    assert lane["bins_reporting"] == 2
    assert [lane[k] for k in ("mean_fill_pct", "median_fill_pct", "p90_fill_pct")] == [None] * 3
    assert lane["bins_at_or_over_80"] is None


def test_potholes_hide_phones_and_unproven(
    client: TestClient, council: str, data: dict[str, Any]
) -> None:
    """Only confirmed-or-later potholes, as Points rounded to 5 decimals, with no phone fields."""
    resp = _get(client, f"/open-data/{council}/potholes.geojson")
    features = resp.json()["features"]
    assert [f["properties"]["id"] for f in features] == data["listed"]
    for n, f in enumerate(features):
        props = f["properties"]
        assert f["geometry"] == {"type": "Point", "coordinates": [props["lon"], props["lat"]]}
        assert props["lat"] == round(LAT + n * 1e-4, 5) and props["lon"] == round(LON, 5)
        assert (props["severity"], props["confidence"]) == (0.81, 0.95)
        assert not set(props) & set(data["phones"])
    for fmt in Format:
        text = _get(client, f"/open-data/{council}/potholes.{fmt.value}").content
        assert b"devices" not in text and b"reports" not in text


def test_roughness_only_from_three_phones(
    client: TestClient, council: str, data: dict[str, Any]
) -> None:
    """A segment measured by fewer than 3 phones is left out; the published one is a line
    with its IRI class, and nothing about phones."""
    body = _get(client, f"/open-data/{council}/road-roughness.geojson").json()
    (feature,) = body["features"]
    assert feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["segment_id"] == "main"
    assert (feature["properties"]["iri_m_per_km"], feature["properties"]["roughness"]) == (
        4.5,
        "poor",
    )
    assert not set(feature["properties"]) & {"phones", "iri_phones", "device_id"}


def test_other_councils_never_appear(
    client: TestClient, council: str, data: dict[str, Any], uid: str
) -> None:
    """No zone, bin, count or pothole of another council is in any export of this one."""
    ids = {str(i) for i in data["hidden"]}
    for slug in DATASETS:
        for fmt in (Format.CSV, Format.GEOJSON):
            resp = _get(client, f"/open-data/{council}/{slug}.{fmt.value}")
            assert b"elsewhere" not in resp.content
            if slug == "footfall-hourly":
                assert b",500," not in resp.content and b": 500" not in resp.content
            _, rows = _table(resp, fmt)
            assert not {str(r.get("id")) for r in rows} & ids
    for model in ("WasteContainer", "CrowdFlowObserved"):
        body = _get(client, f"/open-data/{council}/fiware/{model}.json").text
        assert "elsewhere" not in body and f"xb-{uid}" not in body


def test_catalogue(client: TestClient, council: str, data: dict[str, Any]) -> None:
    """A JSON-LD dcat:Catalog whose every dataset of the council has a publisher, the OGL v3
    licence, a frequency, a table schema or model, and downloads that answer 200 as typed."""
    resp = _get(client, "/open-data/catalog.json")
    assert resp.headers["content-type"].startswith("application/ld+json")
    body = resp.json()
    assert body["@type"] == "dcat:Catalog"
    assert {"dcat", "dct", "foaf"} <= set(body["@context"])
    assert body["dct:license"] == {"@id": OGL_V3}
    mine = [d for d in body["dcat:dataset"] if d["dct:identifier"].startswith(f"{council}/")]
    assert {d["dct:identifier"] for d in mine} == {f"{council}/{s}" for s in DATASETS} | {
        f"{council}/fiware/WasteContainer",
        f"{council}/fiware/CrowdFlowObserved",
    }
    for d in mine:
        assert d["@type"] == "dcat:Dataset" and d["dct:title"] and d["dct:description"]
        assert d["dct:publisher"]["foaf:name"] == f"Council {council[2:]}"
        assert d["dct:license"] == {"@id": OGL_V3}
        assert d["dct:accrualPeriodicity"]["@id"].startswith(
            "http://publications.europa.eu/resource/authority/frequency/"
        )
        assert "dcat:startDate" in d["dct:temporal"]
        assert "dcat:contactPoint" not in d
        slug = d["dct:identifier"].split("/", 1)[1]
        if slug in DATASETS:
            schema = d["csvw:tableSchema"]["csvw:column"]
            assert [c["csvw:name"] for c in schema] == [c.name for c in DATASETS[slug].columns]
            assert all(c["dct:description"] and c["csvw:datatype"] for c in schema)
        else:
            assert d["dct:conformsTo"]["@id"].startswith("https://smart-data-models.github.io/")
        for dist in d["dcat:distribution"]:
            url = dist["dcat:downloadURL"]["@id"]
            got = _get(client, url)
            media = dist["dcat:mediaType"]["@id"].removeprefix(
                "https://www.iana.org/assignments/media-types/"
            )
            assert got.headers["content-type"].split(";")[0] == media


def test_licence_and_contact_come_from_the_environment(
    database_url: str, mqtt_url: str, council: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMARTSTREETS_OPEN_DATA_* set the licence, contact and download base of the catalogue."""
    licence = "https://creativecommons.org/licenses/by/4.0/"
    monkeypatch.setenv("SMARTSTREETS_OPEN_DATA_LICENCE_URL", licence)
    monkeypatch.setenv("SMARTSTREETS_OPEN_DATA_CONTACT_EMAIL", "opendata@example.org")
    monkeypatch.setenv("SMARTSTREETS_OPEN_DATA_BASE_URL", "https://data.example.org/")
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    with TestClient(create_app(ApiSettings(health_cache_s=0), services)) as c:
        body = _get(c, "/open-data/catalog.json").json()
    assert body["dct:license"] == {"@id": licence}
    mine = [d for d in body["dcat:dataset"] if d["dct:identifier"].startswith(f"{council}/")]
    assert mine and all(d["dct:license"] == {"@id": licence} for d in mine)
    contact = mine[0]["dcat:contactPoint"]
    assert contact["vcard:hasEmail"] == {"@id": "mailto:opendata@example.org"}
    url = mine[0]["dcat:distribution"][0]["dcat:downloadURL"]["@id"]
    assert url.startswith(f"https://data.example.org/open-data/{council}/")
    assert "//open-data" not in url


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        pytest.param({"from": "2025-03-02", "to": "2025-03-01"}, 422, "after", id="reversed"),
        pytest.param({"from": "2024-01-01", "to": "2024-12-31"}, 200, None, id="366-days"),
        pytest.param({"from": "2024-01-01", "to": "2025-01-01"}, 422, "366", id="367-days"),
        pytest.param({"to": "2026-02-30"}, 422, None, id="not-a-date"),
        pytest.param({"from": "2025-01-10", "to": "2025-01-10"}, 200, None, id="one-day"),
    ],
)
@pytest.mark.parametrize("slug", list(DATASETS))
def test_date_range_is_validated(
    client: TestClient,
    council: str,
    slug: str,
    params: dict[str, str],
    code: int,
    message: str | None,
) -> None:
    """from/to must be dates, in order, at most 366 days apart; refusals say why."""
    resp = client.get(f"/open-data/{council}/{slug}.csv", params=params)
    assert resp.status_code == code, resp.text
    if message is not None:
        assert message in resp.json()["detail"]


def test_dates_select_the_period(client: TestClient, council: str, data: dict[str, Any]) -> None:
    """A period before the data exports headers only, and names the period in the filename."""
    params = {"from": "2020-01-01", "to": "2020-01-31"}
    for slug in DATASETS:
        resp = _get(client, f"/open-data/{council}/{slug}.csv", **params)
        assert resp.content.decode().count("\r\n") == 1
        assert "2020-01-01-2020-01-31.csv" in resp.headers["content-disposition"]


@pytest.mark.parametrize(
    "path",
    [
        "footfall-hourly.csv",
        "bin-fill-daily.parquet",
        "potholes.geojson",
        "fiware/WasteContainer.json",
        "fiware/CrowdFlowObserved.json",
    ],
)
def test_unknown_council_is_404(client: TestClient, uid: str, path: str) -> None:
    """An unregistered council is 404 on every export."""
    resp = client.get(f"/open-data/nobody-{uid}/{path}")
    assert resp.status_code == 404
    assert "unknown council" in resp.json()["detail"]


@pytest.mark.parametrize("path", ["potholes.xlsx", "footfall-hourly.json", "bins.csv"])
def test_unknown_format_or_dataset_is_refused(client: TestClient, council: str, path: str) -> None:
    """An unknown format is 422 and an unknown dataset 404."""
    resp = client.get(f"/open-data/{council}/{path}")
    assert resp.status_code == (404 if path.startswith("bins") else 422)


def test_fiware_waste_containers(client: TestClient, council: str, data: dict[str, Any]) -> None:
    """One WasteContainer per bin with id, type, Point location, 0..1 filling level and status."""
    resp = _get(client, f"/open-data/{council}/fiware/WasteContainer.json")
    assert resp.headers["content-type"].startswith("application/ld+json")
    entities = {e["id"]: e for e in resp.json()}
    assert set(entities) == {f"urn:ngsi-ld:WasteContainer:{council}:{d}" for d in data["bins"]}
    statuses = []
    for d, fill in zip(data["bins"], [0.1, 0.5, 0.9, 0.3, 0.95], strict=True):
        e = entities[f"urn:ngsi-ld:WasteContainer:{council}:{d}"]
        assert e["type"] == "WasteContainer"
        assert e["location"] == {"type": "Point", "coordinates": [LON, LAT]}
        assert e["fillingLevel"] == pytest.approx(fill)
        assert e["@context"] == "https://smartdatamodels.org/context.jsonld"
        statuses.append(e["status"])
    assert statuses == ["ok", "burning", "lidOpen", "ok", "dropped"]
    first = entities[f"urn:ngsi-ld:WasteContainer:{council}:{data['bins'][0]}"]
    assert datetime.fromisoformat(first["dateLastEmptying"]) == HOUR - timedelta(days=1)
    assert (
        "dateLastEmptying"
        not in entities[f"urn:ngsi-ld:WasteContainer:{council}:{data['bins'][1]}"]
    )


def test_fiware_crowd_flow(client: TestClient, council: str, data: dict[str, Any]) -> None:
    """One CrowdFlowObserved per zone for its latest hour; counts under 10 left out."""
    body = _get(client, f"/open-data/{council}/fiware/CrowdFlowObserved.json").json()
    entities = {e["name"]: e for e in body}
    assert set(entities) == {"high", "quiet"}
    high = entities["high"]
    assert high["id"] == f"urn:ngsi-ld:CrowdFlowObserved:{council}:high"
    assert high["type"] == "CrowdFlowObserved" and high["peopleCount"] == 60
    assert datetime.fromisoformat(high["dateObservedFrom"]) == HOUR
    assert datetime.fromisoformat(high["dateObservedTo"]) == HOUR + timedelta(hours=1)
    assert "peopleCount" not in entities["quiet"] and MIN_PEOPLE == 10
    assert "refRoadSegment" not in high


def test_profile_names_zones_and_sets_the_licence(
    client: TestClient, conn: psycopg.Connection, council: str, data: dict[str, Any]
) -> None:
    """The council's profile names its zones in every table and FIWARE snapshot, and its own
    licence replaces the deployment's for its datasets only."""
    licence = "https://creativecommons.org/licenses/by/4.0/"
    update_profile(
        conn,
        council,
        ProfileChange(
            zones=[
                ZoneName(zone="high", display_name="High Street"),
                ZoneName(zone="centre", display_name="Market Place"),
            ],
            open_data_licence=licence,
        ),
    )
    _, footfall = _table(_get(client, f"/open-data/{council}/footfall-hourly.csv"), Format.CSV)
    assert {(r["zone"], r["zone_name"]) for r in footfall} == {
        ("high", "High Street"),
        ("quiet", "quiet"),
    }
    _, fills = _table(_get(client, f"/open-data/{council}/bin-fill-daily.csv"), Format.CSV)
    assert {r["zone_name"] for r in fills} == {"Market Place", "lane"}
    flows = _get(client, f"/open-data/{council}/fiware/CrowdFlowObserved.json").json()
    assert {e["name"] for e in flows} == {"High Street", "quiet"}
    body = _get(client, "/open-data/catalog.json").json()
    licences = {
        d["dct:identifier"].split("/")[0]: d["dct:license"]["@id"] for d in body["dcat:dataset"]
    }
    assert licences[council] == licence
    assert licences[data["other"]] != licence
