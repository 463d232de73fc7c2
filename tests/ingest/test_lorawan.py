"""Network-server uplink envelopes: The Things Stack v3 and ChirpStack v4, read or refused.

The fixtures follow the envelopes the two network servers document (The Things Stack: "MQTT
Server" and "Data Formats" in its integration docs; ChirpStack v4: the MQTT integration's ``up``
event, the ``UplinkEvent`` message of its integration API). They are written for these tests,
with the fields ingest reads and a few it ignores (metadata, correlation ids).
"""

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.contract.lorawan import (
    EnvelopeError,
    Network,
    Uplink,
    network_of_topic,
    parse_uplink,
    webhook_topic,
)

WHEN = "2026-03-02T10:15:30.123456789Z"


def ttn_uplink(
    device_id: str,
    payload: bytes,
    *,
    app: str = "bins-app",
    tenant: str | None = "ttn",
    dev_eui: str = "70B3D57ED005A1B2",
    when: str = WHEN,
    decoded: dict[str, Any] | None = None,
    f_port: int = 85,
) -> tuple[str, bytes]:
    """A The Things Stack v3 uplink as its MQTT server publishes it: (topic, envelope)."""
    up: dict[str, Any] = {
        "session_key_id": "AXBSH1Pk6Z9FqB1h3F7Cxw==",
        "f_port": f_port,
        "f_cnt": 42,
        "frm_payload": base64.b64encode(payload).decode(),
        "rx_metadata": [{"gateway_ids": {"gateway_id": "town-hall-gw"}, "rssi": -97, "snr": 7.5}],
        "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 9}}},
        "received_at": when,
    }
    if decoded is not None:
        up["decoded_payload"] = decoded
    body = {
        "end_device_ids": {
            "device_id": device_id,
            "application_ids": {"application_id": app},
            "dev_eui": dev_eui,
            "join_eui": "0000000000000000",
            "dev_addr": "260B1234",
        },
        "correlation_ids": ["as:up:01HQ5Z6J8K9M0N1P2Q3R4S5T6V"],
        "received_at": "2026-03-02T10:15:30.200000000Z",
        "uplink_message": up,
    }
    where = f"{app}@{tenant}" if tenant else app
    return f"v3/{where}/devices/{device_id}/up", json.dumps(body).encode()


def chirpstack_uplink(
    dev_eui: str,
    payload: bytes,
    *,
    app: str = "5f0c8a59-7d7e-4c39-9a7b-1b6e2c3d4e5f",
    when: str = WHEN,
    decoded: dict[str, Any] | None = None,
    f_port: int = 85,
) -> tuple[str, bytes]:
    """A ChirpStack v4 ``up`` event as its MQTT integration publishes it: (topic, envelope)."""
    body: dict[str, Any] = {
        "deduplicationId": "3c6c1f0e-6d59-4c1c-8c5e-2a8b9f5d7e61",
        "time": when,
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "Rutland",
            "applicationId": app,
            "applicationName": "street-sensors",
            "deviceProfileId": "b0f3a8c2-94c2-4d67-9f0e-6a1d2c3b4a59",
            "deviceProfileName": "Milesight",
            "deviceName": "counter-market-st",
            "devEui": dev_eui.lower(),
            "tags": {"zone": "market"},
        },
        "devAddr": "01a2b3c4",
        "adr": True,
        "dr": 5,
        "fCnt": 7,
        "fPort": f_port,
        "confirmed": False,
        "data": base64.b64encode(payload).decode(),
        "rxInfo": [{"gatewayId": "0016c001ff10a235", "rssi": -88, "snr": 9.2}],
    }
    if decoded is not None:
        body["object"] = decoded
    return f"application/{app}/device/{dev_eui.lower()}/event/up", json.dumps(body).encode()


def test_the_things_stack_uplink_is_read() -> None:
    """A TTN v3 uplink gives its device, DevEUI, time (to the microsecond), port and bytes."""
    topic, envelope = ttn_uplink("bin-17", b"\x01\x75\x5c", decoded={"battery": 92})
    up = parse_uplink(topic, envelope)
    assert isinstance(up, Uplink), up
    assert up.network is Network.TTN and up.application_id == "bins-app"
    assert up.device_id == "bin-17" and up.dev_eui == "70b3d57ed005a1b2"
    assert up.time == datetime(2026, 3, 2, 10, 15, 30, 123456, tzinfo=UTC)
    assert (up.f_port, up.payload, up.decoded) == (85, b"\x01\x75\x5c", {"battery": 92})
    assert up.envelope == envelope
    assert up.network_ids == ("70b3d57ed005a1b2", "bin-17")


def test_open_source_stack_topic_has_no_tenant() -> None:
    """The Things Stack Open Source leaves the tenant out of the topic."""
    up = parse_uplink(*ttn_uplink("bin-17", b"", tenant=None))
    assert isinstance(up, Uplink) and up.application_id == "bins-app" and up.payload == b""


def test_chirpstack_uplink_is_read() -> None:
    """A ChirpStack v4 up event gives its DevEUI, time, port, bytes and decoded object."""
    topic, envelope = chirpstack_uplink("24E124000A000001", b"\x05\xcc", decoded={"in": 3})
    up = parse_uplink(topic, envelope)
    assert isinstance(up, Uplink), up
    assert up.network is Network.CHIRPSTACK
    assert up.device_id == up.dev_eui == "24e124000a000001"
    assert up.time == datetime(2026, 3, 2, 10, 15, 30, 123456, tzinfo=UTC)
    assert (up.f_port, up.payload, up.decoded) == (85, b"\x05\xcc", {"in": 3})


@pytest.mark.parametrize(
    ("topic", "network"),
    [
        ("v3/app@ttn/devices/d1/up", Network.TTN),
        ("v3/app/devices/d1/up", Network.TTN),
        ("v3/app@ttn/devices/d1/join", None),
        ("application/42/device/0011223344556677/event/up", Network.CHIRPSTACK),
        ("application/42/device/0011223344556677/event/status", None),
        ("smartstreets/v1/rutland/bin-fill/bin-1", None),
    ],
)
def test_topics_name_their_network(topic: str, network: Network | None) -> None:
    """Only uplink topics are recognised, other events of the same servers are not."""
    assert network_of_topic(topic) is network


def _ttn_body(**changes: Any) -> tuple[str, bytes]:
    topic, envelope = ttn_uplink("bin-17", b"\x01")
    body = json.loads(envelope)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = body
        for p in parents:
            node = node[p]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    return topic, json.dumps(body).encode()


MALFORMED = [
    ("not a topic", ("v3/app/devices/d1/down", b"{}"), "topic does not parse"),
    ("not JSON", ("v3/app/devices/d1/up", b"{nope"), "invalid JSON"),
    ("not an object", ("v3/app/devices/d1/up", b"[1]"), "invalid JSON: payload is not"),
    ("not UTF-8", ("v3/app/devices/d1/up", b"\xff\xfe"), "invalid UTF-8"),
    ("no ids", _ttn_body(end_device_ids=None), "missing field: end_device_ids"),
    (
        "other device",
        _ttn_body(end_device_ids__device_id="bin-99"),
        "invalid value: end_device_ids.device_id differs",
    ),
    (
        "bad base64",
        _ttn_body(uplink_message__frm_payload="!!"),
        "invalid value: uplink_message.frm_payload",
    ),
    (
        "non-ASCII base64",
        _ttn_body(uplink_message__frm_payload="AQ\u00e9="),
        "invalid value: uplink_message.frm_payload",
    ),
    ("bad port", _ttn_body(uplink_message__f_port=300), "invalid value: uplink_message.f_port"),
    (
        "no offset",
        _ttn_body(uplink_message__received_at="2026-03-02T10:15:30"),
        "timestamp without offset",
    ),
    ("bad EUI", _ttn_body(end_device_ids__dev_eui="XYZ"), "invalid value: end_device_ids.dev_eui"),
    (
        "chirpstack EUI differs",
        (
            chirpstack_uplink("24E124000A000001", b"")[0].replace("000001", "000002"),
            chirpstack_uplink("24E124000A000001", b"")[1],
        ),
        "invalid value: deviceInfo.devEui differs",
    ),
    (
        "chirpstack no time",
        (
            chirpstack_uplink("24E124000A000001", b"")[0],
            json.dumps(
                {
                    k: v
                    for k, v in json.loads(chirpstack_uplink("24E124000A000001", b"")[1]).items()
                    if k != "time"
                }
            ).encode(),
        ),
        "missing field: time",
    ),
]


@pytest.mark.parametrize(("name", "message", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_envelopes_give_reasons(
    name: str, message: tuple[str, bytes], reason: str
) -> None:
    """A malformed envelope is refused with a reason, never an exception."""
    result = parse_uplink(*message)
    assert isinstance(result, str) and result.startswith(reason), result


@pytest.mark.parametrize(
    ("network", "message"),
    [
        (Network.TTN, ttn_uplink("bin-17", b"\x01")),
        (Network.CHIRPSTACK, chirpstack_uplink("24E124000A000001", b"\x01")),
    ],
    ids=["ttn", "chirpstack"],
)
def test_a_webhooks_envelope_gets_the_topic_mqtt_would_have_used(
    network: Network, message: tuple[str, bytes]
) -> None:
    """An envelope posted by webhook is given its network server's MQTT uplink topic (TTN's
    tenant, absent from the envelope, is ``ttn``), which parses it as the bridge would."""
    topic, envelope = message
    assert webhook_topic(network, envelope) == topic
    assert isinstance(parse_uplink(topic, envelope), Uplink)


@pytest.mark.parametrize(
    ("network", "envelope", "reason"),
    [
        (Network.TTN, b"{nope", "invalid JSON"),
        (Network.TTN, b"[1]", "invalid JSON: payload is not a JSON object"),
        (Network.TTN, _ttn_body(end_device_ids=None)[1], "missing field: end_device_ids"),
        (
            Network.TTN,
            _ttn_body(end_device_ids__device_id="a/b")[1],
            "invalid value: end_device_ids.device_id cannot be part of an MQTT topic",
        ),
        (
            Network.TTN,
            _ttn_body(end_device_ids__device_id="bin-\ud800")[1],
            "invalid value: end_device_ids.device_id cannot be part of an MQTT topic",
        ),
        (Network.CHIRPSTACK, ttn_uplink("bin-17", b"")[1], "missing field: deviceInfo"),
        (
            Network.CHIRPSTACK,
            chirpstack_uplink("24E124000A000001", b"")[1].replace(b"24e124000a000001", b"x"),
            "invalid value: deviceInfo.devEui",
        ),
    ],
    ids=[
        "not-json",
        "array",
        "ttn-no-ids",
        "ttn-slash",
        "ttn-surrogate",
        "ttn-on-chirpstack",
        "bad-eui",
    ],
)
def test_an_envelope_naming_no_device_has_no_topic(
    network: Network, envelope: bytes, reason: str
) -> None:
    """An envelope that does not name its device (or names it in what no topic can hold) gets
    no topic, but the reason why."""
    with pytest.raises(EnvelopeError, match=f"^{reason}"):
        webhook_topic(network, envelope)
