"""Network servers' uplinks by HTTP webhook (POST /v1/councils/{council}/uplinks/{network})
against a real database: TTN and ChirpStack envelopes stored through the bridge's decoding,
everything else quarantined raw, and only the council's ingest (or admin) tokens let in."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from api.auth import Scope, create_token
from api.settings import ApiSettings
from ingest.contract.payloads import MAX_PAYLOAD_BYTES
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings
from tests.helpers import served
from tests.ingest.test_lorawan import chirpstack_uplink, ttn_uplink

PATH = "/v1/councils/{council}/uplinks/{network}"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
EM310_PAYLOAD = bytes.fromhex("01755C03824401040001")
"""An EM310-UDL uplink from Milesight's documentation: battery, 324 mm, tilted."""
EM500_PAYLOAD = bytes.fromhex("01756403821E00")
"""An EM500-UDL uplink: 30 mm, inside its 250 mm blind zone, so full."""


def _eui(uid: str, n: int) -> str:
    return f"{uid}{n:06x}".upper()


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Site:
    """This test's council, another council, their LoRaWAN devices and tokens."""

    council: str
    other: str
    uid: str
    tokens: dict[str, str]

    def url(self, network: str, council: str | None = None) -> str:
        return PATH.format(council=council or self.council, network=network)

    def auth(self, holder: str = "ingest") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[holder]}"}

    def ttn(self, n: int, payload: bytes = EM310_PAYLOAD) -> tuple[str, bytes]:
        """A TTN uplink of the device with DevEUI number ``n``."""
        return ttn_uplink(
            f"eui-{self.uid}-{n}", payload, dev_eui=_eui(self.uid, n), when=_stamp(NOW)
        )

    def chirpstack(self, n: int, payload: bytes = EM500_PAYLOAD) -> tuple[str, bytes]:
        """A ChirpStack uplink of the device with DevEUI number ``n``."""
        return chirpstack_uplink(_eui(self.uid, n), payload, when=_stamp(NOW))


@pytest.fixture
def site(conn: psycopg.Connection, council: str, uid: str) -> Site:
    """A TTN EM310-UDL bin (DevEUI 1) and a ChirpStack EM500-UDL bin (DevEUI 2) of the council,
    a TTN bin of another council (DevEUI 3); ingest, admin and crew tokens of the council and an
    ingest token of the other."""
    other = f"o-{uid}"
    base = {"lat": 52.67, "lon": -0.72, "kind": "bin", "capacity_litres": 240}
    rows = [
        dict(base, council=council, device_id=f"em310-{uid}", network="ttn",
             network_id=_eui(uid, 1), model="em310-udl", depth_mm=1000),
        dict(base, council=council, device_id=f"em500-{uid}", network="chirpstack",
             network_id=_eui(uid, 2), model="em500-udl", depth_mm=1500,
             model_config={"blind_mm": 250}),
        dict(base, council=other, device_id=f"far-{uid}", network="ttn",
             network_id=_eui(uid, 3), model="em310-udl", depth_mm=1000),
    ]  # fmt: skip
    import_devices(conn, [DeviceCreate.model_validate(r) for r in rows])
    tokens = {
        "ingest": create_token(conn, council, Scope.INGEST),
        "admin": create_token(conn, council, Scope.ADMIN),
        "crew": create_token(conn, council, Scope.CREW),
        "other": create_token(conn, other, Scope.INGEST),
    }
    return Site(council, other, uid, tokens)


def _client(database_url: str, mqtt_url: str, **api: Any) -> TestClient:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    return TestClient(create_app(ApiSettings(health_cache_s=0, **api), services))


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """The API on the session's database."""
    with _client(database_url, mqtt_url) as c:
        yield c


def _swap(envelope: bytes, field: str, value: str) -> bytes:
    """A TTN envelope with its uplink message's ``field`` set to ``value``."""
    body = json.loads(envelope)
    body["uplink_message"][field] = value
    return json.dumps(body).encode()


def _fill(conn: psycopg.Connection, device: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT council, ts, fill_pct FROM bin_fill WHERE device_id = %s ORDER BY ts", (device,)
    ).fetchall()


def _quarantined(conn: psycopg.Connection, topic: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT payload, reason, council, device_id, copies FROM quarantine WHERE topic = %s",
        (topic,),
    ).fetchall()


@pytest.mark.parametrize(
    ("network", "device", "fill"),
    [("ttn", "em310", pytest.approx(67.6)), ("chirpstack", "em500", 100.0)],
)
def test_an_uplink_of_a_registered_device_is_stored_once(
    client: TestClient, conn: psycopg.Connection, site: Site, network: str, device: str, fill: Any
) -> None:
    """A TTN or ChirpStack envelope of the council's device is stored as its reading (202 after
    the commit); the network server posting it again stores nothing more."""
    topic, envelope = site.ttn(1) if network == "ttn" else site.chirpstack(2)
    params = {"event": "up"} if network == "chirpstack" else {}
    url = site.url(network)
    first = client.post(url, content=envelope, headers=site.auth(), params=params)
    assert first.status_code == 202, first.text
    assert first.json() == {
        "network": network,
        "topic": topic,
        "written": 1,
        "duplicates": 0,
        "quarantined": 0,
        "reasons": [],
    }
    again = client.post(url, content=envelope, headers=site.auth("admin"), params=params)
    assert again.status_code == 202
    assert (again.json()["written"], again.json()["duplicates"]) == (0, 1)
    assert _fill(conn, f"{device}-{site.uid}") == [(site.council, NOW, fill)]


def test_an_unknown_device_is_quarantined(
    client: TestClient, conn: psycopg.Connection, site: Site
) -> None:
    """An uplink of no registered device is accepted and quarantined raw under its MQTT topic,
    where the bridge would have put it (so it can be replayed once the device is registered)."""
    topic, envelope = site.ttn(9)
    resp = client.post(site.url("ttn"), content=envelope, headers=site.auth())
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert (body["written"], body["quarantined"]) == (0, 1)
    assert body["reasons"][0].startswith("unknown device: ttn device eui-")
    ((payload, reason, council, device, copies),) = _quarantined(conn, topic)
    assert bytes(payload) == envelope and reason == body["reasons"][0]
    assert (council, device, copies) == (None, None, 1)


def test_another_councils_device_is_quarantined_not_stored(
    client: TestClient, conn: psycopg.Connection, site: Site
) -> None:
    """A device registered to another council is not stored for either council: a council
    mismatch, quarantined under the webhook's HTTP topic (which no replay takes)."""
    _, envelope = site.ttn(3)
    resp = client.post(site.url("ttn"), content=envelope, headers=site.auth())
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert (body["written"], body["quarantined"]) == (0, 1)
    assert body["reasons"][0].startswith("council mismatch:")
    assert _fill(conn, f"far-{site.uid}") == []
    ((payload, reason, council, _, _),) = _quarantined(conn, f"http/v1/{site.council}/uplinks/ttn")
    assert bytes(payload) == envelope and reason.startswith("council mismatch") and council is None
    own = client.post(site.url("ttn", site.other), content=envelope, headers=site.auth("other"))
    assert own.status_code == 202 and own.json()["written"] == 1


@pytest.mark.parametrize("event", ["join", "status", "log"])
def test_other_chirpstack_events_are_ignored(
    client: TestClient, conn: psycopg.Connection, site: Site, event: str
) -> None:
    """ChirpStack's events other than ``up`` get 204 and change nothing."""
    topic, envelope = site.chirpstack(2)
    resp = client.post(
        site.url("chirpstack"), content=envelope, headers=site.auth(), params={"event": event}
    )
    assert resp.status_code == 204 and resp.content == b""
    assert _fill(conn, f"em500-{site.uid}") == [] and _quarantined(conn, topic) == []


def test_only_the_councils_ingest_or_admin_tokens_are_accepted(
    client: TestClient, conn: psycopg.Connection, site: Site
) -> None:
    """No token or an unknown one is 401 asking for a bearer token; a crew token, or another
    council's ingest token, is 403; nothing is stored. An ingest token opens no other route."""
    _, envelope = site.ttn(1)
    url = site.url("ttn")
    unauthenticated = [
        client.post(url, content=envelope),
        client.post(url, content=envelope, headers={"Authorization": "Bearer sst_nope"}),
        client.post(url, content=envelope, auth=("em310", "password")),
    ]
    assert [r.status_code for r in unauthenticated] == [401, 401, 401]
    assert all(r.headers["WWW-Authenticate"] == "Bearer" for r in unauthenticated)
    forbidden = [
        client.post(url, content=envelope, headers=site.auth("crew")),
        client.post(url, content=envelope, headers=site.auth("other")),
    ]
    assert [r.status_code for r in forbidden] == [403, 403]
    assert _fill(conn, f"em310-{site.uid}") == []
    crew_route = client.get(f"/v1/councils/{site.council}/bins/latest", headers=site.auth())
    assert crew_route.status_code == 403


@pytest.mark.parametrize(
    ("network", "make", "reason", "topic"),
    [
        ("ttn", lambda s: ("", b"{nope"), "invalid JSON", None),
        ("ttn", lambda s: ("", b""), "invalid JSON", None),
        ("chirpstack", lambda s: ("", b"[1, 2]"), "invalid JSON: payload is not", None),
        ("chirpstack", lambda s: s.ttn(1), "missing field: deviceInfo", None),
        (
            "ttn",
            lambda s: (s.ttn(1)[0], s.ttn(1)[1].replace(b'"received_at"', b'"at"')),
            "missing field: uplink_message.received_at",
            "built",
        ),
        (
            "ttn",
            lambda s: ("", s.ttn(1)[1].replace(b'"eui-', b'"\\ud800-')),
            "invalid value: end_device_ids.device_id cannot be part of an MQTT topic",
            None,
        ),
        (
            "ttn",
            lambda s: (s.ttn(1)[0], _swap(s.ttn(1)[1], "frm_payload", "AQ\u00e9=")),
            "invalid value: uplink_message.frm_payload is not base64",
            "built",
        ),
    ],
    ids=["broken", "empty", "array", "ttn-on-chirpstack", "no-time", "surrogate", "non-ascii"],
)
def test_a_body_that_is_no_envelope_is_refused_into_quarantine(
    client: TestClient,
    conn: psycopg.Connection,
    site: Site,
    network: str,
    make: Any,
    reason: str,
    topic: str | None,
) -> None:
    """A body that is not an uplink envelope is 422 naming why, kept raw in quarantine under
    the topic its ids give or, naming no device, under the webhook's HTTP topic."""
    built, body = make(site)
    resp = client.post(site.url(network), content=body, headers=site.auth())
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert detail.startswith(reason)
    where = built if topic == "built" else f"http/v1/{site.council}/uplinks/{network}"
    ((payload, why, _, _, copies),) = _quarantined(conn, where)
    assert bytes(payload) == body and why == detail and copies == 1


def test_too_large_a_body_is_refused(
    client: TestClient, conn: psycopg.Connection, site: Site
) -> None:
    """A body over the contract's size cap, declared or streamed, is 413; nothing is kept."""
    body = b'{"pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    url = site.url("ttn")
    declared = client.post(url, content=body, headers=site.auth())
    assert declared.status_code == 413
    assert f"at most {MAX_PAYLOAD_BYTES} bytes" in declared.json()["detail"]
    streamed = client.post(url, content=iter([body[:1000], body[1000:]]), headers=site.auth())
    assert streamed.status_code == 413
    assert _quarantined(conn, f"http/v1/{site.council}/uplinks/ttn") == []


def test_requests_are_rate_limited_per_token(database_url: str, mqtt_url: str, site: Site) -> None:
    """Past a token's allowance the answer is 429 with Retry-After; another token goes on."""
    with _client(database_url, mqtt_url, uplink_posts_per_min=2) as c:
        url = site.url("ttn")
        codes = [c.post(url, content=site.ttn(1)[1], headers=site.auth()) for _ in range(3)]
        assert [r.status_code for r in codes] == [202, 202, 429]
        assert int(codes[2].headers["Retry-After"]) >= 1
        admin = c.post(url, content=site.ttn(1)[1], headers=site.auth("admin"))
        assert admin.status_code == 202


@pytest.fixture
def served_api(database_url: str, mqtt_url: str) -> Iterator[str]:
    """The API under uvicorn on a free port, without rate limits; its base URL."""
    app = create_app(
        ApiSettings(uplink_posts_per_min=0, rate_limit_per_min=0),
        ServiceSettings(database_url=database_url, mqtt_url=mqtt_url),
    )
    with served(app) as url:
        yield url


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzed_uplinks_never_get_a_server_error(
    served_api: str, site: Site, mode: GenerationMode
) -> None:
    """Envelopes, networks and events generated from the OpenAPI document (valid and not),
    posted with the council's ingest token, get documented answers, never a 5xx."""
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json")
    (operation,) = [
        found.ok()
        for found in schema.get_all_operations()
        if isinstance(found, Ok) and found.ok().path == PATH
    ]
    auth = site.auth()

    @given(case=operation.as_strategy(mode, path_parameters={"council": site.council}))
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=served_api)
        kwargs["headers"] = {**kwargs.get("headers", {}), **auth}
        response = httpx.request(timeout=30, **kwargs)
        case.validate_response(
            response,
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        )

    run()
