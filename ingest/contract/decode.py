"""Turn raw MQTT messages into validated readings, or into a reason for quarantine.

Decoding is pure (no I/O) and never raises for bad input: every message ends as either a
:class:`Reading` or a :class:`Rejection`, and the caller stores one or the other.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ingest.contract.payloads import MAX_PAYLOAD_BYTES, Payload, payload_model
from ingest.contract.topics import TopicParts, parse_topic
from ingest.errors import InvalidTopic

MAX_CLOCK_AHEAD = timedelta(days=1)
"""Readings stamped further than this ahead of the ingest clock are refused as out of range."""


@dataclass(frozen=True, slots=True)
class Reading:
    """A message that passed every check the contract makes on its own."""

    topic: TopicParts
    payload: Payload


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that breaks the contract, with a reason a device maker can act on."""

    reason: str
    topic: TopicParts | None = None


_KIND_BY_ERROR = {
    "missing": "missing field",
    "extra_forbidden": "unknown field",
    "greater_than": "out of range",
    "greater_than_equal": "out of range",
    "less_than": "out of range",
    "less_than_equal": "out of range",
    "too_long": "out of range",
    "too_short": "out of range",
    "finite_number": "out of range",
    "timezone_aware": "timestamp without offset",
    "enum": "unknown value",
    "value_error": "invalid value",
}


def _describe(error: ErrorDetails) -> str:
    kind = _KIND_BY_ERROR.get(error["type"])
    if kind is None:
        kind = "wrong type" if error["type"].endswith(("_type", "_parsing")) else "invalid value"
    where = ".".join(str(p) for p in error["loc"]) or "payload"
    return f"{kind}: {where}: {error['msg']}"


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming every problem pydantic found, most useful first."""
    return "; ".join(_describe(e) for e in exc.errors(include_url=False, include_input=False))


def decode(prefix: str, topic: str, payload: bytes, received_at: datetime) -> Reading | Rejection:
    """Check one message against the device contract.

    Parameters
    ----------
    prefix
        The deployment's topic prefix (``SMARTSTREETS_MQTT_PREFIX``).
    topic, payload
        The message as it came off the broker.
    received_at
        The ingest clock, used to refuse readings stamped far in the future.
    """
    try:
        parts = parse_topic(prefix, topic)
    except InvalidTopic as exc:
        return Rejection(f"topic does not parse: {exc}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Rejection(f"oversized payload: {len(payload)} bytes > {MAX_PAYLOAD_BYTES}", parts)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(f"invalid UTF-8 at byte {exc.start}", parts)
    if not text.lstrip().startswith("{"):
        return Rejection("invalid JSON: payload is not a JSON object", parts)
    try:
        model = payload_model(parts.stream).model_validate_json(text)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            detail = str(exc.errors()[0]["msg"]).removeprefix("Invalid JSON: ")
            return Rejection(f"invalid JSON: {detail}", parts)
        return Rejection(describe_validation_error(exc), parts)
    if model.ts - received_at > MAX_CLOCK_AHEAD:
        return Rejection(
            f"out of range: timestamp {model.ts.isoformat()} is more than "
            f"{MAX_CLOCK_AHEAD} ahead of the ingest clock",
            parts,
        )
    return Reading(parts, model)
