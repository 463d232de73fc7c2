"""Uplinks of LoRaWAN devices as their network server publishes them over MQTT.

Two envelopes are understood, each as its maker documents it:

- The Things Stack v3 (its "MQTT Server" and "Data Formats" pages): topic
  ``v3/{application id}[@{tenant id}]/devices/{device id}/up``; JSON with ``end_device_ids``,
  ``received_at`` and ``uplink_message`` (``f_port``, ``frm_payload`` in base64,
  ``decoded_payload`` when the application has a payload formatter).
- ChirpStack v4 (its MQTT integration, event ``up``): topic
  ``application/{application id}/device/{dev eui}/event/up``; JSON with ``deviceInfo``, ``time``,
  ``fPort``, ``data`` in base64 and ``object`` when a codec decoded it.

Parsing is pure and never raises for bad input: an envelope becomes an :class:`Uplink` or a
reason a network operator can act on. Which device it is, and what its bytes mean, is decided
later, against the registry (``ingest.codecs``).
"""

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ingest.contract.payloads import MAX_PAYLOAD_BYTES


class Network(StrEnum):
    """Where a registered device's readings come from (``device.network``)."""

    MQTT = "mqtt"
    TTN = "ttn"
    CHIRPSTACK = "chirpstack"
    HTTP = "http"


BRIDGED = (Network.TTN, Network.CHIRPSTACK)
"""The networks whose uplinks ingest can take from a network server's MQTT integration."""

TOPIC_FILTERS = {
    Network.TTN: "v3/+/devices/+/up",
    Network.CHIRPSTACK: "application/+/device/+/event/up",
}
"""The MQTT topic filter matching every uplink a network server publishes."""

_TTN_TOPIC = re.compile(r"^v3/([^/@]+)(?:@([^/]+))?/devices/([^/]+)/up$")
_CHIRPSTACK_TOPIC = re.compile(r"^application/([^/]+)/device/([0-9A-Fa-f]{16})/event/up$")
_EUI = re.compile(r"^[0-9A-Fa-f]{16}$")
_FRACTION = re.compile(r"(\.\d{6})\d+")
_NOT_IN_TOPIC = re.compile("[/@+#\x00-\x1f\x7f\ud800-\udfff]")
"""What a topic segment built from an envelope may not hold: MQTT's separators and wildcards,
control characters, and lone surrogates (which JSON can carry but UTF-8 cannot)."""


@dataclass(frozen=True, slots=True)
class Uplink:
    """One uplink as a network server delivered it."""

    network: Network
    application_id: str
    device_id: str
    """The network server's name for the device: TTN's device id, ChirpStack's DevEUI."""
    dev_eui: str | None
    """The DevEUI in lower-case hex, when the envelope carries it."""
    time: datetime
    """When the network received the uplink (TTN ``received_at``, ChirpStack ``time``)."""
    f_port: int | None
    payload: bytes
    """The application payload (``frm_payload`` / ``data``), decoded from base64."""
    decoded: dict[str, Any] | None
    """The network server's own decoding (``decoded_payload`` / ``object``), if any."""
    envelope: bytes
    """The message exactly as it came off the broker, for quarantine."""

    @property
    def network_ids(self) -> tuple[str, ...]:
        """The identities a registry row may know this device by, most specific first."""
        ids = [self.dev_eui] if self.dev_eui else []
        return tuple(dict.fromkeys([*ids, self.device_id.lower()]))


class EnvelopeError(ValueError):
    """An envelope that cannot be read; the message is the reason."""


def network_of_topic(topic: str) -> Network | None:
    """The network server whose uplink topic this is, or ``None``."""
    if _TTN_TOPIC.match(topic):
        return Network.TTN
    if _CHIRPSTACK_TOPIC.match(topic):
        return Network.CHIRPSTACK
    return None


def parse_time(value: object, field: str) -> datetime:
    """An RFC 3339 time with an offset; network servers send nanoseconds, Python keeps micro."""
    if not isinstance(value, str):
        raise EnvelopeError(f"missing field: {field}")
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.replace("Z", "+00:00")))
    except ValueError:
        raise EnvelopeError(
            f"invalid value: {field}: {value[:40]!r} is not an RFC 3339 time"
        ) from None
    if parsed.tzinfo is None:
        raise EnvelopeError(f"timestamp without offset: {field}")
    return parsed


def _object(value: object, field: str, *, required: bool = True) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise EnvelopeError(f"{'missing field' if value is None else 'wrong type'}: {field}")
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"{'missing field' if value is None else 'wrong type'}: {field}")
    return value


def _port(value: object, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 255:
        raise EnvelopeError(f"invalid value: {field}: expected a port 0-255")
    return value


def _base64(value: object, field: str) -> bytes:
    if value is None:  # both servers leave empty fields out
        return b""
    if not isinstance(value, str):
        raise EnvelopeError(f"wrong type: {field}")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or a ValueError for a non-ASCII string
        raise EnvelopeError(f"invalid value: {field} is not base64") from None


def _eui(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _EUI.match(value):
        raise EnvelopeError(f"invalid value: {field}: expected 16 hex digits")
    return value.lower()


def _ttn(match: re.Match[str], body: dict[str, Any], envelope: bytes) -> Uplink:
    application_id, _tenant, device_id = match.groups()
    ids = _object(body.get("end_device_ids"), "end_device_ids")
    assert ids is not None
    if _text(ids.get("device_id"), "end_device_ids.device_id") != device_id:
        raise EnvelopeError("invalid value: end_device_ids.device_id differs from the topic")
    apps = _object(ids.get("application_ids"), "end_device_ids.application_ids")
    assert apps is not None
    app = _text(apps.get("application_id"), "end_device_ids.application_ids.application_id")
    if app != application_id:
        raise EnvelopeError("invalid value: application_id differs from the topic")
    up = _object(body.get("uplink_message"), "uplink_message")
    assert up is not None
    when = up.get("received_at", body.get("received_at"))
    return Uplink(
        network=Network.TTN,
        application_id=application_id,
        device_id=device_id,
        dev_eui=_eui(ids.get("dev_eui"), "end_device_ids.dev_eui"),
        time=parse_time(when, "uplink_message.received_at"),
        f_port=_port(up.get("f_port"), "uplink_message.f_port"),
        payload=_base64(up.get("frm_payload"), "uplink_message.frm_payload"),
        decoded=_object(
            up.get("decoded_payload"), "uplink_message.decoded_payload", required=False
        ),
        envelope=envelope,
    )


def _chirpstack(match: re.Match[str], body: dict[str, Any], envelope: bytes) -> Uplink:
    application_id, dev_eui = match.groups()
    info = _object(body.get("deviceInfo"), "deviceInfo")
    assert info is not None
    if _eui(info.get("devEui"), "deviceInfo.devEui") != dev_eui.lower():
        raise EnvelopeError("invalid value: deviceInfo.devEui differs from the topic")
    if info.get("applicationId") not in (None, application_id):
        raise EnvelopeError("invalid value: deviceInfo.applicationId differs from the topic")
    return Uplink(
        network=Network.CHIRPSTACK,
        application_id=application_id,
        device_id=dev_eui.lower(),
        dev_eui=dev_eui.lower(),
        time=parse_time(body.get("time"), "time"),
        f_port=_port(body.get("fPort"), "fPort"),
        payload=_base64(body.get("data"), "data"),
        decoded=_object(body.get("object"), "object", required=False),
        envelope=envelope,
    )


def _json_object(envelope: bytes) -> dict[str, Any]:
    if len(envelope) > MAX_PAYLOAD_BYTES:
        raise EnvelopeError(f"oversized payload: {len(envelope)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        body = json.loads(envelope.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"invalid UTF-8 at byte {exc.start}") from None
    except ValueError as exc:
        raise EnvelopeError(f"invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise EnvelopeError("invalid JSON: payload is not a JSON object")
    return body


def _segment(value: object, field: str) -> str:
    text = _text(value, field)
    if len(text) > 100 or _NOT_IN_TOPIC.search(text):
        raise EnvelopeError(f"invalid value: {field} cannot be part of an MQTT topic")
    return text


def webhook_topic(network: Network, envelope: bytes) -> str:
    """The topic ``network``'s MQTT integration would have published ``envelope`` on, built from
    the envelope's own ids, for an uplink that came by HTTP webhook instead (TTN's tenant is not
    in its envelope: ``ttn``); raises :class:`EnvelopeError` with the reason if it names none."""
    body = _json_object(envelope)
    if network is Network.TTN:
        ids = _object(body.get("end_device_ids"), "end_device_ids")
        assert ids is not None
        apps = _object(ids.get("application_ids"), "end_device_ids.application_ids")
        assert apps is not None
        app = _segment(apps.get("application_id"), "end_device_ids.application_ids.application_id")
        device = _segment(ids.get("device_id"), "end_device_ids.device_id")
        return f"v3/{app}@ttn/devices/{device}/up"
    if network is Network.CHIRPSTACK:
        info = _object(body.get("deviceInfo"), "deviceInfo")
        assert info is not None
        app = _segment(info.get("applicationId"), "deviceInfo.applicationId")
        eui = _eui(info.get("devEui"), "deviceInfo.devEui")
        if eui is None:
            raise EnvelopeError("missing field: deviceInfo.devEui")
        return f"application/{app}/device/{eui}/event/up"
    raise ValueError(f"{network} delivers no uplinks by webhook")


def parse_uplink(topic: str, envelope: bytes) -> Uplink | str:
    """Read a network server's uplink message; return the :class:`Uplink` or why it cannot be."""
    ttn, chirpstack = _TTN_TOPIC.match(topic), _CHIRPSTACK_TOPIC.match(topic)
    if ttn is None and chirpstack is None:
        return f"topic does not parse: {topic[:120]!r} is not a TTN v3 or ChirpStack v4 uplink"
    try:
        body = _json_object(envelope)
        if ttn is not None:
            return _ttn(ttn, body, envelope)
        assert chirpstack is not None
        return _chirpstack(chirpstack, body, envelope)
    except EnvelopeError as exc:
        return str(exc)
