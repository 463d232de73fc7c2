"""Drives uploaded by residents' phones over HTTPS, stored exactly as MQTT ingest stores them.

A drive is one JSON envelope: a fresh trip token, the app's install id and the phone's bump
reports and coverage track. Each report (and the coverage) becomes the message the phone would
have published on ``build_topic(prefix, council, stream, phone)``, is checked by the same
decoder and written by the same :class:`StreamWriter` (so the phone's id is pseudonymised and
re-deliveries are no-ops), together with the drive's ``drive_upload`` row, in one transaction.
A drive that breaks the contract anywhere is stored nowhere but in quarantine, as its raw body.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingest.contract.decode import Rejection, decode, describe_validation_error
from ingest.contract.payloads import BumpReport, TripCoverage
from ingest.contract.topics import DEVICE_ID_PATTERN, Stream, build_topic
from ingest.db.writer import Message, StreamWriter

TRIP_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
"""A drive's trip token: fresh and random for every drive, chosen by the app."""
PHONE_PATTERN = f"^{DEVICE_ID_PATTERN}$"
"""The app's install id: what a phone's device id is on MQTT."""
MAX_REPORTS = 2000
"""Most bump reports one drive may carry."""


def drives_topic(council: str) -> str:
    """The topic a refused drive is quarantined under (it never was an MQTT message)."""
    return f"http/v1/{council}/drives"


class DriveCreate(BaseModel):
    """One finished drive, as the drive app uploads it."""

    model_config = ConfigDict(extra="forbid")

    trip: str = Field(
        pattern=TRIP_PATTERN,
        description="A fresh random token for this drive; uploading it again stores nothing.",
    )
    phone: str = Field(
        pattern=PHONE_PATTERN,
        description="The app's random install id; stored only as a pseudonym of the period.",
    )
    reports: list[BumpReport] = Field(
        max_length=MAX_REPORTS, description="The jolts detected on the drive, as on MQTT."
    )
    coverage: TripCoverage | None = Field(
        default=None, description="Where the drive went, ends trimmed, as on MQTT; or null."
    )


class DrivePublic(BaseModel):
    """What an accepted drive turned into; counts are rows written by this request."""

    trip: str = Field(description="The drive's trip token.")
    status: Literal["stored", "already stored"] = Field(
        description="'already stored': this trip was uploaded before and nothing was written."
    )
    reports: int = Field(ge=0, description="Bump reports written.")
    duplicates: int = Field(ge=0, description="Reports or coverage already stored, not written.")
    coverage: int = Field(ge=0, le=1, description="Coverage tracks written (0 or 1).")


class _Envelope(BaseModel):
    """The envelope alone; each report and the coverage are left to the device decoder."""

    model_config = ConfigDict(strict=True, extra="forbid")

    trip: str = Field(pattern=TRIP_PATTERN)
    phone: str = Field(pattern=PHONE_PATTERN)
    reports: list[dict[str, Any]] = Field(max_length=MAX_REPORTS)
    coverage: dict[str, Any] | None = None


class DriveRefused(ValueError):
    """A drive that breaks the contract, with a one-line reason naming what is wrong."""

    def __init__(self, reason: str, phone: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.phone = phone


class DriveNotStored(RuntimeError):
    """A valid drive the writer still refused (its council vanished meanwhile); nothing stored."""


@dataclass(frozen=True)
class Drive:
    """A drive that passed every check: its messages, decoded, ready for the writer."""

    trip: str
    phone: str
    messages: list[Message]
    reports: int
    coverage: bool


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _message_bytes(item: dict[str, Any]) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


def parse_drive(prefix: str, council: str, body: bytes, received_at: datetime) -> Drive:
    """Check a drive's body and turn it into MQTT-equivalent messages.

    Raises :class:`DriveRefused` for the first thing wrong with it.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DriveRefused(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise DriveRefused(f"invalid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise DriveRefused("invalid JSON: the body is not a JSON object")
    try:
        envelope = _Envelope.model_validate(raw)
    except ValidationError as exc:
        phone = raw.get("phone")
        readable = phone if isinstance(phone, str) and re.match(PHONE_PATTERN, phone) else None
        raise DriveRefused(describe_validation_error(exc), readable) from None
    items = [(Stream.BUMP, f"reports[{i}]", r) for i, r in enumerate(envelope.reports)]
    if envelope.coverage is not None:
        items.append((Stream.COVERAGE, "coverage", envelope.coverage))
    messages = []
    for stream, where, item in items:
        topic = build_topic(prefix, council, stream, envelope.phone)
        payload = _message_bytes(item)
        decoded = decode(prefix, topic, payload, received_at)
        if isinstance(decoded, Rejection):
            raise DriveRefused(f"{where}: {decoded.reason}", envelope.phone)
        messages.append(Message(topic, payload, received_at, decoded))
    return Drive(
        envelope.trip,
        envelope.phone,
        messages,
        len(envelope.reports),
        envelope.coverage is not None,
    )


def store_drive(conn: psycopg.Connection, council: str, drive: Drive) -> DrivePublic:
    """Write ``drive`` and its ``drive_upload`` row in one transaction, unless its trip was
    stored before; ``conn`` must not be in a transaction (this one commits)."""
    writer = StreamWriter(conn)
    total = len(drive.messages)
    try:
        with conn.transaction():
            claimed = conn.execute(
                "INSERT INTO drive_upload (council, trip, reports, coverage) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                (council, drive.trip, drive.reports, drive.coverage),
            ).fetchone()
            if claimed is None:
                return DrivePublic(
                    trip=drive.trip,
                    status="already stored",
                    reports=0,
                    duplicates=total,
                    coverage=0,
                )
            result = writer.write(drive.messages)
            if result.quarantined:
                # Only a council removed since the request began gets here: store nothing.
                raise DriveNotStored(f"the writer refused the drive: {result.reasons}")
    except BaseException:
        writer.pseudonyms.forget()
        raise
    return DrivePublic(
        trip=drive.trip,
        status="stored",
        reports=result.written.get("bump_report", 0),
        duplicates=result.duplicates,
        coverage=result.written.get("trip_coverage", 0),
    )


def _hide_phone(
    conn: psycopg.Connection,
    council: str,
    body: bytes,
    phone: str | None,
    at: datetime,
    writer: StreamWriter,
) -> bytes:
    """``body`` with the phone's own id replaced by its pseudonym, as MQTT quarantine keeps it."""
    if phone is None:
        return body
    stored = writer.pseudonyms(conn, council, phone, at).encode()
    pattern = rb'("phone"\s*:\s*")' + re.escape(phone.encode()) + rb'"'
    return re.sub(pattern, lambda m: m[1] + stored + b'"', body)


def quarantine_drive(
    conn: psycopg.Connection, council: str, body: bytes, refused: DriveRefused, at: datetime
) -> None:
    """Keep a refused drive's body and reason in quarantine (one row; a repeat adds a copy)."""
    writer = StreamWriter(conn)
    topic = drives_topic(council)
    try:
        with conn.transaction():
            kept = _hide_phone(conn, council, body, refused.phone, at, writer)
            writer.write([Message(topic, kept, at, Rejection(f"drive: {refused.reason}"))])
    except BaseException:
        writer.pseudonyms.forget()
        raise
