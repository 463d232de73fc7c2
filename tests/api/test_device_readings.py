"""Devices' readings over HTTP: stored like MQTT messages (once, by natural key), bad lines
quarantined without stopping the others, bodies that are not JSON refused into quarantine, and
only for the device's own broker login, capped in size and rate."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from api.app import create_app
from api.settings import ApiSettings
from ingest.contract.topics import Stream, build_topic
from ingest.credentials import broker_users, hash_password, render_password_file
from ingest.db.registry import DeviceCreate, RegisteredDevice, import_devices
from ingest.settings import ServiceSettings
from tests.helpers import served

NDJSON = {"Content-Type": "application/x-ndjson"}
NOW = datetime.now(UTC).replace(microsecond=0)
PATH = "/v1/councils/{council}/devices/{device_id}/readings"


@dataclass(frozen=True)
class Fleet:
    """This test's devices, their broker passwords and the password file the API reads."""

    council: str
    other: str
    bin: str
    counter: str
    stranger: str
    """Another council's bin."""
    unregistered: str
    """A broker login with no device in the registry."""
    passwords: dict[str, str]
    passwd: Path

    def auth(self, device: str, password: str | None = None) -> tuple[str, str]:
        return device, self.passwords[device] if password is None else password

    def url(self, device: str, council: str | None = None) -> str:
        return PATH.format(council=council or self.council, device_id=device)


@pytest.fixture
def fleet(conn: psycopg.Connection, council: str, uid: str, tmp_path: Path) -> Fleet:
    """A bin and a counter of this test's council, a bin of another council, and Mosquitto's
    password file for them as 'smartstreets devices credentials' writes it."""
    other = f"o-{uid}"
    devices = [
        DeviceCreate(council=council, kind="bin", device_id=f"bin-{uid}", lat=52.67, lon=-0.72,
                     capacity_litres=240),
        DeviceCreate(council=council, kind="counter", device_id=f"ctr-{uid}", lat=52.67,
                     lon=-0.72, zone="Market"),
        DeviceCreate(council=other, kind="bin", device_id=f"far-{uid}", lat=52.6, lon=-0.7,
                     capacity_litres=240),
    ]  # fmt: skip
    import_devices(conn, devices)
    registered = [RegisteredDevice(d.device_id, d.council, d.kind, d.zone) for d in devices]
    ghost = RegisteredDevice(f"ghost-{uid}", council, "bin", None)
    users = broker_users("smartstreets", [*registered, ghost])
    passwords = {u.username: f"pw-{u.username}-{uid}" for u in users}
    passwd = tmp_path / "passwd"
    passwd.write_text(render_password_file(users, passwords))
    return Fleet(
        council, other, f"bin-{uid}", f"ctr-{uid}", f"far-{uid}", f"ghost-{uid}", passwords, passwd
    )


def _client(database_url: str, mqtt_url: str, fleet: Fleet, **api: Any) -> TestClient:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    settings = ApiSettings(device_passwords_file=fleet.passwd, **api)
    return TestClient(create_app(settings, services))


@pytest.fixture
def client(database_url: str, mqtt_url: str, fleet: Fleet) -> Iterator[TestClient]:
    """The API on the session's database, reading the fleet's password file."""
    with _client(database_url, mqtt_url, fleet) as c:
        yield c


def _fill(minutes: int, pct: float = 40.0) -> dict[str, Any]:
    return {"ts": (NOW - timedelta(minutes=minutes)).isoformat(), "fill_pct": pct, "seq": minutes}


def _count(minutes: int, people: int = 12) -> dict[str, Any]:
    end = NOW - timedelta(minutes=minutes)
    start = end - timedelta(minutes=15)
    return {"period_start": start.isoformat(), "period_end": end.isoformat(), "count": people}


def _ndjson(*lines: dict[str, Any] | bytes) -> bytes:
    return b"\n".join(x if isinstance(x, bytes) else json.dumps(x).encode() for x in lines) + b"\n"


def _rows(conn: psycopg.Connection, device: str) -> int:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM bin_fill WHERE device_id = %(d)s) "
        "+ (SELECT count(*) FROM footfall_count WHERE device_id = %(d)s)",
        {"d": device},
    ).fetchone()
    assert row is not None
    return int(row[0])


def _quarantined(conn: psycopg.Connection, device: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT topic, payload, reason, copies FROM quarantine WHERE device_id = %s ORDER BY id",
        (device,),
    ).fetchall()


@pytest.mark.parametrize(("kind", "make"), [("bin", _fill), ("counter", _count)])
def test_a_reading_is_stored(
    client: TestClient, conn: psycopg.Connection, fleet: Fleet, kind: str, make: Any
) -> None:
    """One JSON reading, the device's MQTT payload, answers 202 once its row is committed."""
    device = fleet.bin if kind == "bin" else fleet.counter
    resp = client.post(fleet.url(device), json=make(5), auth=fleet.auth(device))
    assert resp.status_code == 202, resp.text
    stream = "bin-fill" if kind == "bin" else "footfall"
    assert resp.json() == {
        "device": device,
        "stream": stream,
        "readings": 1,
        "written": 1,
        "duplicates": 0,
        "quarantined": 0,
        "reasons": [],
    }
    assert _rows(conn, device) == 1


def test_a_batch_stores_good_lines_and_quarantines_bad_ones(
    client: TestClient, conn: psycopg.Connection, fleet: Fleet
) -> None:
    """In an NDJSON batch a line breaking the contract is quarantined raw with its reason and
    the others are stored; posting the batch again stores nothing twice."""
    bad = json.dumps(_fill(3, pct=150.0)).encode()
    body = _ndjson(_fill(1), bad, b"", _fill(2))
    url, auth = fleet.url(fleet.bin), fleet.auth(fleet.bin)
    resp = client.post(url, content=body, headers=NDJSON, auth=auth)
    assert resp.status_code == 202, resp.text
    answer = resp.json()
    assert (answer["readings"], answer["written"], answer["duplicates"]) == (3, 2, 0)
    assert answer["quarantined"] == 1
    ((reason,),) = [[r] for r in answer["reasons"]]
    assert reason["line"] == 2 and reason["reason"].startswith("out of range: fill_pct")
    assert _rows(conn, fleet.bin) == 2
    ((topic, payload, why, copies),) = _quarantined(conn, fleet.bin)
    assert topic == build_topic("smartstreets", fleet.council, Stream.BIN_FILL, fleet.bin)
    assert bytes(payload) == bad and why == reason["reason"] and copies == 1
    again = client.post(url, content=body, headers=NDJSON, auth=auth)
    assert again.status_code == 202
    assert (again.json()["written"], again.json()["duplicates"]) == (0, 2)
    assert _rows(conn, fleet.bin) == 2


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"{not json", {"Content-Type": "application/json"}, "invalid JSON"),
        (b"\xff\xfe", {"Content-Type": "application/json"}, "invalid UTF-8"),
        (b"", {"Content-Type": "application/json"}, "no reading"),
        (b"[1, 2]", {"Content-Type": "application/json"}, "not a JSON object"),
        (b"hello\nworld\n", NDJSON, "invalid NDJSON: no line is a JSON object (line 1"),
    ],
    ids=["broken", "not-utf8", "empty", "array", "ndjson-garbage"],
)
def test_a_body_that_is_not_json_is_refused_into_quarantine(
    client: TestClient,
    conn: psycopg.Connection,
    fleet: Fleet,
    body: bytes,
    headers: dict[str, str],
    reason: str,
) -> None:
    """A body that is no JSON at all is a 422 naming why, kept whole in quarantine."""
    resp = client.post(
        fleet.url(fleet.bin), content=body, headers=headers, auth=fleet.auth(fleet.bin)
    )
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert reason in detail
    ((_, payload, why, copies),) = _quarantined(conn, fleet.bin)
    assert bytes(payload) == body and why == detail and copies == 1
    assert _rows(conn, fleet.bin) == 0


def test_only_the_devices_own_login_is_accepted(
    client: TestClient, conn: psycopg.Connection, fleet: Fleet
) -> None:
    """No login, a wrong password, another device's login, a login without a registered device
    and an unknown device are all the same 401 asking for Basic; another council's device is
    403. Nothing is stored or quarantined."""
    reading = _fill(1)
    refused = [
        client.post(fleet.url(fleet.bin), json=reading),
        client.post(fleet.url(fleet.bin), json=reading, auth=fleet.auth(fleet.bin, "wrong")),
        client.post(fleet.url(fleet.bin), json=reading, auth=fleet.auth(fleet.counter)),
        client.post(
            fleet.url(fleet.unregistered), json=reading, auth=fleet.auth(fleet.unregistered)
        ),
        client.post(fleet.url("nobody-here"), json=reading, auth=("nobody-here", "x")),
        client.post(fleet.url(fleet.bin), json=reading, headers={"Authorization": "Bearer abc"}),
    ]
    assert [r.status_code for r in refused] == [401] * len(refused)
    assert all(r.headers["WWW-Authenticate"].startswith("Basic") for r in refused)
    assert len({r.json()["detail"] for r in refused[1:5]}) == 1
    other = client.post(fleet.url(fleet.stranger), json=reading, auth=fleet.auth(fleet.stranger))
    assert other.status_code == 403 and fleet.council in other.json()["detail"]
    own = client.post(
        fleet.url(fleet.stranger, fleet.other), json=reading, auth=fleet.auth(fleet.stranger)
    )
    assert own.status_code == 202
    assert _rows(conn, fleet.bin) == 0 and not _quarantined(conn, fleet.bin)


def test_a_changed_password_file_takes_effect_without_a_restart(
    client: TestClient, fleet: Fleet
) -> None:
    """A rewritten password file is read on the next request: the new password works, the old
    one is 401, and a damaged line is a 401 for its login, not a server error."""
    url = fleet.url(fleet.bin)
    assert client.post(url, json=_fill(1), auth=fleet.auth(fleet.bin)).status_code == 202
    lines = fleet.passwd.read_text().splitlines()
    counter_line = next(line for line in lines if line.startswith(f"{fleet.counter}:"))
    rotated = [
        f"{fleet.bin}:{hash_password('rotated')}" if line.startswith(f"{fleet.bin}:") else line
        for line in lines
        if line is not counter_line
    ]
    damaged = counter_line.split("$")
    damaged[3] = "!!not base64!!"
    fleet.passwd.write_text("\n".join([*rotated, "$".join(damaged)]) + "\n")
    assert client.post(url, json=_fill(2), auth=fleet.auth(fleet.bin)).status_code == 401
    assert client.post(url, json=_fill(2), auth=(fleet.bin, "rotated")).status_code == 202
    counter = client.post(fleet.url(fleet.counter), json=_count(1), auth=fleet.auth(fleet.counter))
    assert counter.status_code == 401


def test_no_password_file_refuses_every_device(
    database_url: str, mqtt_url: str, fleet: Fleet
) -> None:
    """Without a password file configured every device gets 401, not a server error."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    with TestClient(create_app(ApiSettings(), services)) as c:
        resp = c.post(fleet.url(fleet.bin), json=_fill(1), auth=fleet.auth(fleet.bin))
    assert resp.status_code == 401


def test_too_large_a_body_or_batch_is_refused(
    database_url: str, mqtt_url: str, conn: psycopg.Connection, fleet: Fleet
) -> None:
    """Over the byte cap (declared or streamed) or the line cap is 413; nothing is stored."""
    body = _ndjson(*(_fill(m) for m in range(1, 40)))
    url, auth = fleet.url(fleet.bin), fleet.auth(fleet.bin)
    with _client(database_url, mqtt_url, fleet, device_readings_max_bytes=1024) as small:
        declared = small.post(url, content=body, headers=NDJSON, auth=auth)
        assert declared.status_code == 413 and "at most 1024 bytes" in declared.json()["detail"]
        streamed = small.post(
            url, content=iter([body[:1000], body[1000:]]), headers=NDJSON, auth=auth
        )
        assert streamed.status_code == 413
    with _client(database_url, mqtt_url, fleet, device_readings_max_lines=10) as few:
        lines = few.post(url, content=body, headers=NDJSON, auth=auth)
        assert lines.status_code == 413 and "at most 10 readings" in lines.json()["detail"]
    assert _rows(conn, fleet.bin) == 0 and not _quarantined(conn, fleet.bin)


def test_requests_are_rate_limited_per_device(
    database_url: str, mqtt_url: str, fleet: Fleet
) -> None:
    """Past a device's allowance the answer is 429 with Retry-After; other devices go on."""
    with _client(database_url, mqtt_url, fleet, device_posts_per_min=2) as c:
        url, auth = fleet.url(fleet.bin), fleet.auth(fleet.bin)
        codes = [c.post(url, json=_fill(m), auth=auth) for m in range(3)]
        assert [r.status_code for r in codes] == [202, 202, 429]
        assert int(codes[2].headers["Retry-After"]) >= 1
        assert "retry after" in codes[2].json()["detail"]
        counter = c.post(fleet.url(fleet.counter), json=_count(1), auth=fleet.auth(fleet.counter))
        assert counter.status_code == 202


@pytest.fixture
def served_api(database_url: str, mqtt_url: str, fleet: Fleet) -> Iterator[str]:
    """The API under uvicorn on a free port, without rate limits; its base URL."""
    app = create_app(
        ApiSettings(
            device_passwords_file=fleet.passwd, device_posts_per_min=0, rate_limit_per_min=0
        ),
        ServiceSettings(database_url=database_url, mqtt_url=mqtt_url),
    )
    with served(app) as url:
        yield url


@schemathesis.serializer("application/x-ndjson")
def _ndjson_lines(ctx: Any, value: Any) -> bytes:
    """The document shows a batch as an array; it is sent one element a line."""
    items = value if isinstance(value, list) else [value]
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


@pytest.mark.parametrize("media_type", ["application/json", "application/x-ndjson"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_readings_never_get_a_server_error(
    served_api: str, fleet: Fleet, media_type: str, mode: GenerationMode
) -> None:
    """Readings and batches generated from the OpenAPI document (valid and not), posted with
    the bin's own login, get documented answers, never a 5xx."""
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json")
    (operation,) = [
        found.ok()
        for found in schema.get_all_operations()
        if isinstance(found, Ok) and found.ok().path == PATH
    ]
    login = httpx.BasicAuth(*fleet.auth(fleet.bin))
    path = {"council": fleet.council, "device_id": fleet.bin}

    @given(case=operation.as_strategy(mode, path_parameters=path, media_type=media_type))
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=served_api)
        response = httpx.request(timeout=30, auth=login, **kwargs)
        case.validate_response(
            response,
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        )

    run()
