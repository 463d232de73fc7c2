"""Drives uploaded over HTTPS: stored like MQTT reports (pseudonymised, once), refused whole into
quarantine when malformed, only for councils that opted in, and capped in size and rate."""

import asyncio
import json
import random
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from fastapi import HTTPException
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from typer.testing import CliRunner

from analytics.geo.geometry import moved
from api.app import create_app
from api.drive_upload import drives_topic
from api.rate_limit import DriveLimits
from api.settings import ApiSettings
from deploy.cli import app as cli_app
from ingest.db.council_profile import ProfileChange, update_profile
from ingest.settings import ServiceSettings
from simulators.phones import RoadFeature, Trip, simulate_trip
from simulators.town import CENTRE
from tests.helpers import served

START = datetime(2026, 3, 2, 8, tzinfo=UTC)
ROUTE = [CENTRE, moved(*CENTRE, 800, 0), moved(*CENTRE, 800, 600)]
SPEEDS = [12.0, 9.0]
runner = CliRunner()


@cache
def _trip(seed: int) -> Trip:
    rng = random.Random(seed)
    road = [
        RoadFeature(f"p{i}", "pothole", *moved(*CENTRE, 100 + 120 * i, 0.3), severity=0.9)
        for i in range(6)
    ]
    return simulate_trip(ROUTE, SPEEDS, road, START, rng, trip_margin_m=0.0)


def _drive(seed: int = 1, **changes: Any) -> dict[str, Any]:
    """A realistic drive body: a simulated trip's reports and coverage, a fresh trip token."""
    trip = _trip(seed)
    assert trip.reports and trip.coverage is not None
    body: dict[str, Any] = {
        "trip": secrets.token_urlsafe(16),
        "phone": f"install-{secrets.token_hex(6)}",
        "reports": [r.model_dump(mode="json", exclude_none=True) for r in trip.reports],
        "coverage": trip.coverage.model_dump(mode="json", exclude_none=True),
    }
    return {**body, **changes}


def _client(database_url: str, mqtt_url: str, **api: Any) -> TestClient:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    return TestClient(create_app(ApiSettings(**api), services))


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """The API on the session's database, with the default limits."""
    with _client(database_url, mqtt_url) as c:
        yield c


@pytest.fixture
def enabled(conn: psycopg.Connection, council: str) -> str:
    """This test's council, with drives enabled."""
    update_profile(conn, council, ProfileChange(drives_enabled=True))
    return council


def _counts(conn: psycopg.Connection, council: str) -> tuple[int, ...]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM bump_report WHERE council = %(c)s), "
        "(SELECT count(*) FROM trip_coverage WHERE council = %(c)s), "
        "(SELECT count(*) FROM drive_upload WHERE council = %(c)s)",
        {"c": council},
    ).fetchone()
    assert row is not None
    return tuple(row)


def _quarantined(conn: psycopg.Connection, council: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT payload, reason, copies FROM quarantine WHERE topic = %s",
        (drives_topic(council),),
    ).fetchall()


def test_drive_is_stored_with_the_phone_pseudonymised(
    client: TestClient, conn: psycopg.Connection, enabled: str
) -> None:
    """A drive answers 202 after its reports and coverage landed, under a pseudonym only."""
    body = _drive()
    resp = client.post(f"/v1/councils/{enabled}/drives", json=body)
    assert resp.status_code == 202, resp.text
    n = len(body["reports"])
    assert resp.json() == {
        "trip": body["trip"],
        "status": "stored",
        "reports": n,
        "duplicates": 0,
        "coverage": 1,
    }
    assert _counts(conn, enabled) == (n, 1, 1)
    ids = conn.execute(
        "SELECT device_id FROM bump_report WHERE council = %(c)s "
        "UNION SELECT device_id FROM trip_coverage WHERE council = %(c)s",
        {"c": enabled},
    ).fetchall()
    assert len(ids) == 1 and ids[0][0] != body["phone"] and ids[0][0].startswith("p")
    stored = conn.execute(
        "SELECT reports, coverage FROM drive_upload WHERE council = %s AND trip = %s",
        (enabled, body["trip"]),
    ).fetchone()
    assert stored == (n, True)


def test_a_second_upload_is_already_stored(
    client: TestClient, conn: psycopg.Connection, enabled: str
) -> None:
    """The same trip again writes nothing and says so; the same reports under a new trip token
    are duplicates by their natural keys."""
    body = _drive()
    url = f"/v1/councils/{enabled}/drives"
    assert client.post(url, json=body).status_code == 202
    before = _counts(conn, enabled)
    again = client.post(url, json=body)
    n = len(body["reports"])
    assert again.status_code == 202
    assert again.json() == {
        "trip": body["trip"],
        "status": "already stored",
        "reports": 0,
        "duplicates": n + 1,
        "coverage": 0,
    }
    assert _counts(conn, enabled) == before
    renamed = client.post(url, json={**body, "trip": secrets.token_urlsafe(16)})
    assert renamed.status_code == 202
    assert renamed.json()["status"] == "stored" and renamed.json()["duplicates"] == n + 1
    assert _counts(conn, enabled)[:2] == before[:2]


def _bad_report(body: dict[str, Any]) -> dict[str, Any]:
    reports = [dict(r) for r in body["reports"]]
    reports[1]["peak_z_g"] = 99.0
    return {**body, "reports": reports}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda b: b"{not json", "invalid JSON"),
        (lambda b: json.dumps([b]).encode(), "not a JSON object"),
        (lambda b: json.dumps({**b, "trip": "short"}).encode(), "trip"),
        (lambda b: json.dumps({k: v for k, v in b.items() if k != "phone"}).encode(), "phone"),
        (lambda b: json.dumps({**b, "extra": 1}).encode(), "extra"),
        (lambda b: json.dumps(_bad_report(b)).encode(), "reports[1]: out of range: peak_z_g"),
        (lambda b: json.dumps({**b, "coverage": {"points": []}}).encode(), "coverage: "),
        (lambda b: b'{"trip": NaN}', "invalid JSON"),
    ],
    ids=["not-json", "array", "trip", "no-phone", "extra", "bad-report", "bad-coverage", "nan"],
)
def test_a_malformed_drive_is_quarantined_whole(
    client: TestClient, conn: psycopg.Connection, enabled: str, make: Any, reason: str
) -> None:
    """A malformed drive is a 422 naming the fault; its body is one quarantine row (a repeat
    adds a copy), the phone's id replaced by its pseudonym; nothing else is stored."""
    body = _drive()
    raw: bytes = make(body)
    url = f"/v1/councils/{enabled}/drives"
    headers = {"Content-Type": "application/json"}
    resp = client.post(url, content=raw, headers=headers)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert reason in detail and "\n" not in detail
    assert client.post(url, content=raw, headers=headers).status_code == 422
    ((payload, why, copies),) = _quarantined(conn, enabled)
    assert why == f"drive: {detail}" and copies == 2
    if raw.startswith(b"{") and body["phone"].encode() in raw:  # an envelope with the phone
        head, tail = raw.split(body["phone"].encode(), 1)
        kept = bytes(payload)
        assert kept.startswith(head) and kept.endswith(tail)
        assert re.fullmatch(rb"p\d+-[0-9a-f]{16}", kept[len(head) : len(kept) - len(tail)])
    else:
        assert bytes(payload) == raw
    assert _counts(conn, enabled) == (0, 0, 0)


def test_councils_must_opt_in(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    """A council without drives is 403 saying how to enable them; an unknown one is 404."""
    resp = client.post(f"/v1/councils/{council}/drives", json=_drive())
    assert resp.status_code == 403
    assert f"smartstreets councils set {council} --drives" in resp.json()["detail"]
    assert client.post(f"/v1/councils/nope-{uid}/drives", json=_drive()).status_code == 404
    assert _counts(conn, council) == (0, 0, 0) and not _quarantined(conn, council)


def test_too_large_a_drive_is_refused_unread(
    database_url: str, mqtt_url: str, conn: psycopg.Connection, enabled: str
) -> None:
    """Over the cap is 413, whether the Content-Length says so or a chunked body grows past it."""
    raw = json.dumps(_drive()).encode()
    url = f"/v1/councils/{enabled}/drives"
    with _client(database_url, mqtt_url, drive_max_bytes=len(raw) - 1) as small:
        declared = small.post(url, content=raw, headers={"Content-Type": "application/json"})
        assert declared.status_code == 413 and "at most" in declared.json()["detail"]
        chunks = iter([raw[:1000], raw[1000:]])
        streamed = small.post(url, content=chunks, headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
    assert _counts(conn, enabled) == (0, 0, 0) and not _quarantined(conn, enabled)


def test_uploads_are_rate_limited_per_client_and_per_trip(
    database_url: str, mqtt_url: str, enabled: str
) -> None:
    """Past the client's or the trip's allowance the answer is 429 with Retry-After."""
    url = f"/v1/councils/{enabled}/drives"
    with _client(database_url, mqtt_url, drive_uploads_per_trip=2) as c:
        body = _drive()
        assert [c.post(url, json=body).status_code for _ in range(3)] == [202, 202, 429]
        assert c.post(url, json=_drive()).status_code == 202  # another trip is fine
    with _client(database_url, mqtt_url, drive_uploads_per_min=2) as c:
        codes = [c.post(url, json=_drive()) for _ in range(3)]
        assert [r.status_code for r in codes] == [202, 202, 429]
        assert int(codes[2].headers["Retry-After"]) >= 1
        assert "retry after" in codes[2].json()["detail"]


def test_limits_keep_buckets_per_address_and_trip() -> None:
    """Each address (an IPv6 /64 as one) and each trip has its own bucket; 0 turns one off."""

    async def run() -> None:
        limits = DriveLimits(ApiSettings(drive_uploads_per_min=2, drive_uploads_per_trip=1))
        for _ in range(2):
            await limits.check_client("10.0.0.1")
            await limits.check_client("2001:db8::1")
        with pytest.raises(HTTPException) as refused:
            await limits.check_client("2001:db8::2")
        assert refused.value.status_code == 429
        assert refused.value.headers is not None
        assert int(refused.value.headers["Retry-After"]) >= 1
        await limits.check_client("10.0.0.2")
        await limits.check_trip("c", "t" * 16)
        await limits.check_trip("d", "t" * 16)
        with pytest.raises(HTTPException):
            await limits.check_trip("c", "t" * 16)
        off = DriveLimits(ApiSettings(drive_uploads_per_min=0, drive_uploads_per_trip=0))
        for _ in range(100):
            await off.check_client("10.0.0.1")
            await off.check_trip("c", "t" * 16)

    asyncio.run(run())


def test_councils_command_shows_and_sets_drives(database_url: str, council: str, uid: str) -> None:
    """'councils set C --drives' enables drives and 'show' says so; an unknown council or a
    'set' without a change is one error line and a non-zero exit."""
    db = ["--database-url", database_url]
    shown = runner.invoke(cli_app, ["councils", "show", council, *db])
    assert shown.exit_code == 0, shown.output
    assert f"slug: {council}" in shown.output and "drives: disabled" in shown.output
    assert "timezone: Europe/London" in shown.output
    on = runner.invoke(cli_app, ["councils", "set", council, "--drives", *db])
    assert on.exit_code == 0 and "drives: enabled" in on.output
    shown = runner.invoke(cli_app, ["councils", "show", council, *db])
    assert "drives: enabled" in shown.output
    off = runner.invoke(cli_app, ["councils", "set", council, "--no-drives", *db])
    assert off.exit_code == 0 and "drives: disabled" in off.output
    for args in (["show", f"nope-{uid}"], ["set", f"nope-{uid}", "--drives"], ["set", council]):
        bad = runner.invoke(cli_app, ["councils", *args, *db])
        assert bad.exit_code != 0
        assert bad.output.startswith("error: ") and len(bad.output.strip().splitlines()) == 1


@pytest.fixture
def served_api(database_url: str, mqtt_url: str) -> Iterator[str]:
    """The API under uvicorn on a free port, without rate limits; its base URL."""
    app = create_app(
        ApiSettings(drive_uploads_per_min=0, drive_uploads_per_trip=0, rate_limit_per_min=0),
        ServiceSettings(database_url=database_url, mqtt_url=mqtt_url),
    )
    with served(app) as url:
        yield url


def test_fuzzed_drives_never_get_a_server_error(served_api: str, enabled: str) -> None:
    """Drives generated from the OpenAPI document get documented answers, never a 5xx."""
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json")
    (operation,) = [
        found.ok()
        for found in schema.get_all_operations()
        if isinstance(found, Ok) and found.ok().path == "/v1/councils/{council}/drives"
    ]

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.path_parameters = {"council": enabled}
        response = httpx.request(timeout=30, **case.as_transport_kwargs(base_url=served_api))
        case.validate_response(
            response,
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        )

    run()
