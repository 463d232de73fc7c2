"""Uplinks that network servers deliver by HTTP webhook, stored exactly as their MQTT bridges
store them.

The Things Stack v3 (a webhook) and ChirpStack v4 (its HTTP integration, event ``up``) post the
same JSON envelope they would publish on MQTT. The envelope names its device, so it gets the
topic the network server's MQTT integration would have used (``webhook_topic``), and from there
it goes through the bridge's own decoding (``decode_uplink``: registry, device model) and the
same :class:`StreamWriter`, in one transaction: a reading's natural key stores it once, so the
network server retrying is harmless, and an uplink that cannot be stored is quarantined raw with
its reason, replayable like a bridged one.

Two things differ from the bridge, because the request speaks for one council: a device of
another council is not stored but quarantined (``council mismatch``) under an HTTP topic, which
no council's replay takes, so that one council's network server can neither write another's
data nor fill its quarantine; and a body that is no envelope at all is refused (422), kept in
quarantine under its built topic or, if it names no device, under that HTTP topic.
"""

import logging
from datetime import datetime
from typing import Any, NoReturn

import psycopg
from pydantic import BaseModel, Field

from api.device_readings import MAX_REASONS
from ingest.contract.decode import Rejection
from ingest.contract.lorawan import EnvelopeError, Network, parse_uplink, webhook_topic
from ingest.db.device_cache import DeviceCache
from ingest.db.quarantine import HTTP_TOPIC_PREFIX
from ingest.db.uplinks import decode_uplink
from ingest.db.writer import Message, StreamWriter

log = logging.getLogger(__name__)

UP_EVENT = "up"
"""ChirpStack's ``?event=`` of an uplink; its other events (``join``, ``status``…) are ignored."""


class UplinkRefused(ValueError):
    """A body that is no uplink envelope: refused (422), already kept in quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UplinksPublic(BaseModel):
    """What a network server's uplink turned into."""

    network: str = Field(description="The network server: 'ttn' or 'chirpstack'.")
    topic: str = Field(description="The topic its MQTT integration would have published it on.")
    written: int = Field(ge=0, description="Readings stored.")
    duplicates: int = Field(ge=0, description="Readings stored before (a retry), not written.")
    quarantined: int = Field(
        ge=0, description="Results quarantined (unknown device, no measurement, wrong council…)."
    )
    reasons: list[str] = Field(
        description=f"Why results were quarantined, the first {MAX_REASONS} of them."
    )


def http_topic(council: str, network: Network) -> str:
    """Where a webhook's refused body is kept when it names no device (never replayed)."""
    return f"{HTTP_TOPIC_PREFIX}v1/{council}/uplinks/{network.value}"


def _clean(reason: str) -> str:
    return reason.replace("\x00", "\\x00")


def _refuse(
    conn: psycopg.Connection, topic: str, body: bytes, reason: str, at: datetime
) -> NoReturn:
    StreamWriter(conn).write([Message(topic, body, at, Rejection(reason))])
    raise UplinkRefused(_clean(reason))


def store_uplink(
    conn: psycopg.Connection,
    prefix: str,
    council: str,
    network: Network,
    body: bytes,
    received_at: datetime,
) -> UplinksPublic:
    """Decode and write one webhook's uplink (readings and quarantine) in one transaction;
    :class:`UplinkRefused` once a body that is no envelope has been quarantined. ``conn`` is
    the service's own (the registry of every council) and not in a transaction."""
    try:
        topic = webhook_topic(network, body)
    except EnvelopeError as exc:
        _refuse(conn, http_topic(council, network), body, str(exc), received_at)
    up = parse_uplink(topic, body)
    if isinstance(up, str):
        _refuse(conn, topic, body, up, received_at)
    cache = DeviceCache()
    results = decode_uplink(conn, cache, prefix, network, topic, body, received_at)
    messages = [Message(t, body, received_at, result) for t, result in results]
    if any(r.topic is not None and r.topic.council != council for _, r in results):
        reason = f"council mismatch: {network} device {up.device_id} is not registered to {council}"
        messages = [Message(http_topic(council, network), body, received_at, Rejection(reason))]
    refused = [_clean(m.decoded.reason) for m in messages if isinstance(m.decoded, Rejection)]
    result = StreamWriter(conn, cache).write(messages)
    reasons = refused[:MAX_REASONS]
    if result.quarantined > len(refused) and len(reasons) < MAX_REASONS:
        # The registry refused readings the bridge decoding passed: the device moved meanwhile.
        reasons.append(f"refused by the registry: {', '.join(sorted(result.reasons))}")
    return UplinksPublic(
        network=network.value,
        topic=topic,
        written=sum(result.written.values()),
        duplicates=result.duplicates,
        quarantined=result.quarantined,
        reasons=reasons,
    )


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


_BASE64 = {"type": "string", "format": "byte", "description": "Base64."}
_TIME = {"type": "string", "format": "date-time"}
_EUI = {"type": "string", "pattern": "^[0-9A-Fa-f]{16}$"}
_PORT = {"type": "integer", "minimum": 0, "maximum": 255}
_ID = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[^/@+#\\x00]+$"}

TTN_ENVELOPE = _object(
    {
        "end_device_ids": _object(
            {
                "device_id": _ID,
                "application_ids": _object({"application_id": _ID}, ["application_id"]),
                "dev_eui": _EUI,
            },
            ["device_id", "application_ids"],
        ),
        "received_at": _TIME,
        "uplink_message": _object(
            {
                "f_port": _PORT,
                "frm_payload": _BASE64,
                "decoded_payload": {"type": "object"},
                "received_at": _TIME,
            },
            ["received_at"],
        ),
    },
    ["end_device_ids", "uplink_message"],
)
TTN_ENVELOPE["description"] = (
    "The Things Stack v3 uplink message, as its MQTT server publishes it (the fields read)."
)
CHIRPSTACK_ENVELOPE = _object(
    {
        "deviceInfo": _object({"applicationId": _ID, "devEui": _EUI}, ["applicationId", "devEui"]),
        "time": _TIME,
        "fPort": _PORT,
        "data": _BASE64,
        "object": {"type": "object"},
    },
    ["deviceInfo", "time"],
)
CHIRPSTACK_ENVELOPE["description"] = (
    "ChirpStack v4 up event, as its HTTP and MQTT integrations send it (the fields read)."
)
ENVELOPE = {"anyOf": [TTN_ENVELOPE, CHIRPSTACK_ENVELOPE]}
"""The request body: either network server's uplink envelope, for the OpenAPI document."""
