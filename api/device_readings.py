"""Readings that devices POST over HTTP, stored exactly as MQTT ingest stores them.

Cellular devices that cannot speak MQTT send the payloads they would have published: one JSON
object, or a batch as newline-delimited JSON. Each becomes the message the device would have
published on ``build_topic(prefix, council, stream, device_id)`` (its stream is its kind's), is
checked by the same decoder and written by the same :class:`StreamWriter` in one transaction:
natural keys make a retry a no-op, and a reading that breaks the contract goes to quarantine,
raw, with its reason, while the others are stored, as on MQTT. A device logs in with its broker
login (its id and the password ``smartstreets devices credentials`` issued), checked against
Mosquitto's password file with the broker's own hash.
"""

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from pydantic import BaseModel, Field

from ingest.contract.decode import Rejection, decode
from ingest.contract.payloads import BinFillReading, FootfallCount
from ingest.contract.topics import STREAM_OF_KIND, TopicParts, build_topic
from ingest.credentials import SALT_BYTES, hash_password, verify_password
from ingest.db.registry import RegisteredDevice, lookup_device
from ingest.db.writer import Message, StreamWriter

log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"
"""The media type of a batch: one reading a line."""
MAX_REASONS = 10
"""Most quarantine reasons an answer lists (the count covers them all)."""
PAYLOAD_MODELS = (BinFillReading, FootfallCount)
"""What a registered device's reading may be, by kind (bin, counter)."""

_NOBODY = hash_password("nobody", salt=bytes(SALT_BYTES))
"""Checked for an unknown login, so it takes as long to refuse as a wrong password."""


class DeviceRefused(Exception):
    """A request whose device may not post here: ``status`` is 401 or 403."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class ReadingsRefused(ValueError):
    """A body that is not JSON (or NDJSON) at all: refused whole, kept in quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyReadings(ValueError):
    """A batch of more lines than the cap."""


class LineReason(BaseModel):
    """Why one reading went to quarantine."""

    line: int = Field(ge=1, description="Its line in the body (1 for a single JSON reading).")
    reason: str = Field(description="The contract's reason, as MQTT quarantine gives it.")


class ReadingsPublic(BaseModel):
    """What a device's request turned into; counts are readings of this request."""

    device: str = Field(description="The device's id.")
    stream: str = Field(description="The stream its readings were stored as.")
    readings: int = Field(ge=0, description="Readings received (non-blank lines).")
    written: int = Field(ge=0, description="Readings stored.")
    duplicates: int = Field(ge=0, description="Readings stored before (a retry), not written.")
    quarantined: int = Field(ge=0, description="Readings that broke the contract, quarantined.")
    reasons: list[LineReason] = Field(
        description=f"Why readings were quarantined, the first {MAX_REASONS} of them."
    )


def _parse_passwd(text: str) -> dict[str, str]:
    """Mosquitto's ``user:hash`` lines, by user; blank and ``#`` lines skipped."""
    users = {}
    for line in text.splitlines():
        name, sep, hashed = line.strip().partition(":")
        if sep and name and not name.startswith("#"):
            users[name] = hashed
    return users


class DevicePasswords:
    """Broker logins read from Mosquitto's password file, re-read whenever the file changes
    (``devices credentials`` replaces it atomically), so new devices need no API restart."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._loaded: tuple[tuple[int, int, int], dict[str, str]] | None = None

    def _users(self) -> dict[str, str]:
        if self.path is None:
            return {}
        try:
            st = os.stat(self.path)
            signature = (st.st_ino, st.st_mtime_ns, st.st_size)
            loaded = self._loaded
            if loaded is not None and loaded[0] == signature:
                return loaded[1]
            users = _parse_passwd(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("device passwords unreadable path=%s: %s", self.path, exc)
            return {}
        self._loaded = (signature, users)
        return users

    def verify(self, username: str, password: str) -> bool:
        """Whether ``password`` is ``username``'s broker password."""
        hashed = self._users().get(username)
        try:
            ok = verify_password(password, hashed if hashed is not None else _NOBODY)
        except ValueError:  # a damaged line (bad base64): that login cannot log in
            log.warning("damaged password line user=%s path=%s", username, self.path)
            return False
        return ok and hashed is not None


def authenticate(
    conn: psycopg.Connection,
    passwords: DevicePasswords,
    council: str,
    device_id: str,
    credentials: tuple[str, str] | None,
) -> RegisteredDevice:
    """The registered device that ``credentials`` (user, password) log in as; 401 unless they
    are the path's device and its broker password, 403 if it belongs to another council."""
    if credentials is None:
        raise DeviceRefused(401, "log in with HTTP Basic: the device id and its broker password")
    user, password = credentials
    if user != device_id or not passwords.verify(user, password):
        raise DeviceRefused(401, "wrong device id or password")
    device = lookup_device(conn, device_id)
    if device is None or device.kind not in STREAM_OF_KIND:
        # The broker knows the login but the registry does not: say no more than for a stranger.
        raise DeviceRefused(401, "wrong device id or password")
    if device.council != council:
        raise DeviceRefused(403, f"device {device_id} does not belong to council {council}")
    return device


@dataclass(frozen=True)
class Batch:
    """A body split into the messages its device would have published, decoded."""

    messages: list[Message]
    reasons: list[LineReason]
    """Why decoded lines were refused, in line order."""


def _parts(device: RegisteredDevice) -> TopicParts:
    return TopicParts(device.council, STREAM_OF_KIND[device.kind], device.device_id)


def _topic(prefix: str, device: RegisteredDevice) -> str:
    return build_topic(prefix, device.council, STREAM_OF_KIND[device.kind], device.device_id)


def _lines(body: bytes, ndjson: bool) -> list[tuple[int, bytes]]:
    if not ndjson:
        return [(1, body)] if body.strip() else []
    lines = (line.removesuffix(b"\r") for line in body.split(b"\n"))
    return [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]


def _not_json(reason: str) -> bool:
    return reason.startswith(("invalid JSON", "invalid UTF-8"))


def parse_readings(
    prefix: str,
    device: RegisteredDevice,
    body: bytes,
    ndjson: bool,
    max_lines: int,
    received_at: datetime,
) -> Batch:
    """Split and decode a body; raise :class:`ReadingsRefused` if no line of it is a JSON
    object (or the body is not UTF-8), :class:`TooManyReadings` past ``max_lines``."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadingsRefused(f"invalid UTF-8 at byte {exc.start}") from None
    lines = _lines(body, ndjson)
    if not lines:
        raise ReadingsRefused("invalid JSON: the body holds no reading")
    if len(lines) > max_lines:
        raise TooManyReadings(f"a request may hold at most {max_lines} readings")
    topic = _topic(prefix, device)
    messages, reasons = [], []
    for n, line in lines:
        decoded = decode(prefix, topic, line, received_at)
        if isinstance(decoded, Rejection):
            reasons.append(LineReason(line=n, reason=decoded.reason.replace("\x00", "\\x00")))
        messages.append(Message(topic, line, received_at, decoded))
    if len(reasons) == len(lines) and all(_not_json(r.reason) for r in reasons):
        first = reasons[0]
        if not ndjson:
            raise ReadingsRefused(first.reason)
        raise ReadingsRefused(f"invalid NDJSON: no line is a JSON object (line {first.line}: "
                              f"{first.reason})")  # fmt: skip
    return Batch(messages, reasons)


def store_readings(
    conn: psycopg.Connection, device: RegisteredDevice, batch: Batch
) -> ReadingsPublic:
    """Write ``batch`` (readings and quarantine) in one transaction; ``conn`` must not be in a
    transaction (this one commits)."""
    result = StreamWriter(conn).write(batch.messages)
    reasons = batch.reasons[:MAX_REASONS]
    if result.quarantined > len(batch.reasons) and len(reasons) < MAX_REASONS:
        # The registry refused readings the decoder passed: the device moved or went meanwhile.
        kinds = ", ".join(sorted(result.reasons))
        reasons.append(LineReason(line=1, reason=f"refused by the registry: {kinds}"))
    return ReadingsPublic(
        device=device.device_id,
        stream=STREAM_OF_KIND[device.kind].value,
        readings=len(batch.messages),
        written=sum(result.written.values()),
        duplicates=result.duplicates,
        quarantined=result.quarantined,
        reasons=reasons,
    )


def quarantine_body(
    conn: psycopg.Connection,
    prefix: str,
    device: RegisteredDevice,
    body: bytes,
    reason: str,
    at: datetime,
) -> None:
    """Keep a refused body whole in quarantine under the device's topic (a repeat adds a copy)."""
    rejection = Rejection(reason, _parts(device))
    StreamWriter(conn).write([Message(_topic(prefix, device), body, at, rejection)])
