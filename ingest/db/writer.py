"""Write decoded messages to their tables, and everything else to quarantine, in one transaction.

Rows are copied into per-connection staging tables and moved with ``INSERT … ON CONFLICT DO
NOTHING``, so a reading delivered twice (a redelivery, a device retrying) is stored once. The
caller acknowledges the batch's messages only after :meth:`StreamWriter.write` returns.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from ingest.contract.decode import Reading, Rejection
from ingest.contract.topics import STREAM_OF_KIND, Stream
from ingest.db.device_cache import DeviceCache
from ingest.db.pseudonyms import PhonePseudonyms
from ingest.db.tables import PHONE_STREAMS, TABLES, Table, row_of, table_of

__all__ = [
    "Message",
    "StreamWriter",
    "WriteResult",
    "fingerprint",
    "table_of",
]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Message:
    """One message off the broker, decoded, waiting to be written."""

    topic: str
    payload: bytes
    received_at: datetime
    decoded: Reading | Rejection
    redelivered: bool = False
    """The broker's DUP flag: this delivery may repeat one already counted (``_counted``)."""
    client_id: str | None = None
    """The MQTT client id the message was delivered to; with ``packet_id``, its delivery."""
    packet_id: int | None = None
    """The PUBLISH packet id; the broker resends an unacknowledged delivery with the same one."""
    replayed: bool = False
    """Re-decoded from quarantine: never a new copy; a refusal only updates the stored reason."""


@dataclass
class WriteResult:
    """What a batch turned into."""

    written: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


_KIND_FOR_STREAM = {stream: kind for kind, stream in STREAM_OF_KIND.items()}
_KIND_NAME = {"bin": "a bin", "counter": "a people counter"}


def _text(value: str) -> str:
    """``value`` storable in a text column: PostgreSQL refuses U+0000, which a hostile payload's
    field names (quoted in the reason) can carry; the raw bytes are kept as they came."""
    return value.replace("\x00", "\\x00")


DELIVERY_MEMORY = "1 day"
"""How long a counted delivery is remembered, to recognise the broker resending it."""


def fingerprint(topic: str, payload: bytes) -> bytes:
    """Identity of a message for quarantine: the same bytes on the same topic are one message."""
    return hashlib.sha256(topic.encode() + b"\x00" + payload).digest()


class StreamWriter:
    """Writes batches of messages over one connection it owns."""

    def __init__(
        self,
        conn: psycopg.Connection,
        cache: DeviceCache | None = None,
        pseudonyms: PhonePseudonyms | None = None,
    ) -> None:
        self.conn = conn
        self.cache = cache or DeviceCache()
        self.pseudonyms = pseudonyms or PhonePseudonyms()
        self._staged: set[str] = set()

    def _stored_id(self, msg: Message, council: str, stream: Stream, device_id: str) -> str:
        """The id a message's device is stored under: a phone's pseudonym, else its own id."""
        if stream in PHONE_STREAMS:
            return self.pseudonyms(self.conn, council, device_id, msg.received_at)
        return device_id

    def _registry_rejection(self, reading: Reading) -> str | None:
        """Why a well-formed reading still cannot be stored, or ``None``."""
        topic = reading.topic
        want_kind = _KIND_FOR_STREAM.get(topic.stream)
        if want_kind is None:  # phones are not registered, but their council must exist
            if not self.cache.council_exists(self.conn, topic.council):
                return f"unknown council: {topic.council}"
            return None
        device = self.cache.device(self.conn, topic.device_id)
        if device is None:
            return "unknown device"
        if device.council != topic.council:
            return f"council mismatch: device is registered to {device.council}"
        if device.kind != want_kind:
            return f"wrong stream for device: {topic.device_id} is {_KIND_NAME[device.kind]}"
        return None

    def _stage(self, table: Table) -> sql.Identifier:
        stage = f"stage_{table.name}"
        if stage not in self._staged:
            self.conn.execute(
                sql.SQL(
                    "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) "
                    "ON COMMIT DELETE ROWS"
                ).format(sql.Identifier(stage), sql.Identifier(table.name))
            )
            self._staged.add(stage)
        return sql.Identifier(stage)

    def _copy(self, table: Table, rows: list[tuple[object, ...]]) -> int:
        stage = self._stage(table)
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
        with self.conn.cursor() as cur:
            with cur.copy(
                sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(stage, cols)
            ) as copy:
                copy.set_types(list(table.types))
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
                    sql.Identifier(table.name), cols, cols, stage
                )
            )
            inserted = cur.rowcount
        return inserted

    def _counted(self, items: Sequence[tuple[Message, str]]) -> list[int]:
        """How many new copies each delivery adds (0 or 1), recording the counted deliveries.

        A delivery is counted exactly once: a non-DUP delivery is always new; a DUP delivery is
        the broker resending an unacknowledged PUBLISH with the same packet id, so it repeats
        a counted delivery only if that (client, packet id) was recorded with the same bytes in
        a committed transaction - the same one that counted it. Without a client and packet id
        (HTTP uploads, simulators) a DUP flag alone decides.
        """
        prints = [fingerprint(m.topic, m.payload) for m, _ in items]
        dups = {
            (m.client_id, m.packet_id)
            for m, _ in items
            if m.redelivered and m.client_id is not None and m.packet_id is not None
        }
        known: dict[tuple[str, int], bytes] = {}
        if dups:
            clients, packets = zip(*dups, strict=True)
            rows = self.conn.execute(
                "SELECT d.client_id, d.packet_id, d.fingerprint FROM quarantine_delivery d "
                "JOIN unnest(%s::text[], %s::integer[]) AS k (client_id, packet_id) "
                "USING (client_id, packet_id) "
                "WHERE d.counted_at > now() - %s::interval",
                (list(clients), list(packets), DELIVERY_MEMORY),
            ).fetchall()
            known = {(r[0], r[1]): bytes(r[2]) for r in rows}
        fresh: list[int] = []
        for (msg, _), key in zip(items, prints, strict=True):
            if msg.replayed:
                fresh.append(0)
            elif msg.client_id is None or msg.packet_id is None:
                fresh.append(0 if msg.redelivered else 1)
            else:
                delivery = (msg.client_id, msg.packet_id)
                fresh.append(0 if msg.redelivered and known.get(delivery) == key else 1)
                known[delivery] = key  # a later DUP in this batch repeats this delivery
        records = [
            {"client_id": m.client_id, "packet_id": m.packet_id, "fingerprint": key}
            for (m, _), key in zip(items, prints, strict=True)
            if m.client_id is not None and m.packet_id is not None and not m.replayed
        ]
        if records:
            self.conn.execute(
                "DELETE FROM quarantine_delivery WHERE counted_at < now() - %s::interval",
                (DELIVERY_MEMORY,),
            )
            self.conn.cursor().executemany(
                """
                INSERT INTO quarantine_delivery (client_id, packet_id, fingerprint)
                VALUES (%(client_id)s, %(packet_id)s, %(fingerprint)s)
                ON CONFLICT (client_id, packet_id) DO UPDATE
                SET fingerprint = EXCLUDED.fingerprint, counted_at = EXCLUDED.counted_at
                """,
                records,
            )
        return fresh

    def _quarantine(self, items: Sequence[tuple[Message, str]]) -> None:
        merged: dict[bytes, tuple[Message, str, int]] = {}
        for (msg, reason), fresh in zip(items, self._counted(items), strict=True):
            key = fingerprint(msg.topic, msg.payload)
            prev = merged.get(key)
            merged[key] = (msg, reason, fresh if prev is None else prev[2] + fresh)
        rows = []
        for key, (msg, reason, fresh) in merged.items():
            topic = msg.decoded.topic
            device_id = stored_topic = None
            if topic is not None:
                device_id = self._stored_id(msg, topic.council, topic.stream, topic.device_id)
                # A phone's own id is not kept even here: the topic keeps its pseudonym.
                if device_id != topic.device_id and msg.topic.endswith(topic.device_id):
                    stored_topic = msg.topic.removesuffix(topic.device_id) + device_id
            rows.append(
                {
                    "fingerprint": key,
                    "received_at": msg.received_at,
                    "fresh": fresh,
                    "replayed": msg.replayed,
                    "topic": _text(stored_topic or msg.topic),
                    "payload": msg.payload,
                    "reason": _text(reason),
                    "council": topic.council if topic else None,
                    "stream": topic.stream.value if topic else None,
                    "device_id": device_id,
                }
            )
        # A first sighting is one copy even if it arrives flagged as a redelivery (its first
        # delivery was never committed). A replay keeps the times and copies, renews the reason.
        self.conn.cursor().executemany(
            """
            INSERT INTO quarantine (fingerprint, received_at, last_received_at, copies, topic,
                                    payload, reason, council, stream, device_id)
            VALUES (%(fingerprint)s, %(received_at)s, %(received_at)s, greatest(%(fresh)s, 1),
                    %(topic)s, %(payload)s, %(reason)s, %(council)s, %(stream)s, %(device_id)s)
            ON CONFLICT (fingerprint) DO UPDATE
            SET last_received_at = CASE WHEN %(replayed)s THEN quarantine.last_received_at
                                        ELSE EXCLUDED.last_received_at END,
                copies = quarantine.copies + %(fresh)s,
                reason = CASE WHEN %(replayed)s THEN EXCLUDED.reason ELSE quarantine.reason END
            """,
            rows,
        )

    def write(self, batch: Sequence[Message]) -> WriteResult:
        """Store a batch in one transaction; raises ``psycopg.Error`` if nothing was stored."""
        try:
            return self._write(batch)
        except BaseException:
            # A salt first stored in the failed transaction was rolled back with it.
            self.pseudonyms.forget()
            raise

    def _write(self, batch: Sequence[Message]) -> WriteResult:
        result = WriteResult()
        rows: dict[Stream, list[tuple[object, ...]]] = {}
        bad: list[tuple[Message, str]] = []
        with self.conn.transaction():
            for msg in batch:
                decoded = msg.decoded
                if isinstance(decoded, Rejection):
                    bad.append((msg, decoded.reason))
                    continue
                reason = self._registry_rejection(decoded)
                if reason is not None:
                    bad.append((msg, reason))
                    continue
                device = (
                    self.cache.device(self.conn, decoded.topic.device_id)
                    if decoded.topic.stream is Stream.FOOTFALL
                    else None
                )
                t = decoded.topic
                stored_id = self._stored_id(msg, t.council, t.stream, t.device_id)
                rows.setdefault(t.stream, []).append(
                    row_of(decoded, device, msg.received_at, stored_id)
                )
            for stream, stream_rows in rows.items():
                table = TABLES[stream]
                inserted = self._copy(table, stream_rows)
                result.written[table.name] = inserted
                result.duplicates += len(stream_rows) - inserted
            if bad:
                self._quarantine(bad)
        result.quarantined = len(bad)
        for _, reason in bad:
            kind = reason.split(":", 1)[0]
            result.reasons[kind] = result.reasons.get(kind, 0) + 1
        return result
