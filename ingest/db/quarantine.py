"""The quarantine, to act on: list and show what was refused, and replay it through today's decoder.

Replaying re-decodes each selected message with the current contract (``decode``) and checks it
against the current registry, through the same :class:`StreamWriter` that ingest uses: what
now passes is stored (natural keys make a second store a no-op) and its quarantine row deleted
in the same transaction; what still fails stays, with its reason renewed and its copies
untouched. Replaying twice changes nothing the second time.

Two kinds of row are never replayed: phones' messages (bump and coverage), whose device id was
replaced by a pseudonym before it was kept, so the phone's own id cannot be recovered; and
drives refused over HTTP (topic ``http/…``), which were never MQTT messages.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from ingest.contract.decode import decode
from ingest.contract.lorawan import network_of_topic
from ingest.db.device_cache import DeviceCache
from ingest.db.tables import PHONE_STREAMS
from ingest.db.uplinks import decode_uplink
from ingest.db.writer import Message, StreamWriter

__all__ = [
    "HTTP_TOPIC_PREFIX",
    "QuarantineFilter",
    "QuarantinedMessage",
    "ReplayResult",
    "get_quarantined",
    "list_quarantine",
    "payload_text",
    "replay",
]

HTTP_TOPIC_PREFIX = "http/"
"""Topics of bodies refused over HTTP (``http/v1/{council}/drives``): not MQTT, not replayable."""

SKIP_PHONE = "phone message: its device id was pseudonymised"
SKIP_HTTP = "HTTP upload: not an MQTT message"
SKIP_ALTERED = "topic kept altered: not the message as received"

_CHUNK = 100
"""Messages replayed per transaction: a long replay makes progress, each chunk is atomic."""


@dataclass(frozen=True)
class QuarantineFilter:
    """Which quarantined messages: every field narrows the selection (``None``: any)."""

    council: str | None = None
    reason: str | None = None
    """A part of the reason, case-insensitive (``unknown device``, ``out of range``)."""
    device: str | None = None
    ids: Sequence[int] | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"Expected limit >= 1, got {self.limit}.")
        if self.ids is not None and not self.ids:
            raise ValueError("Expected at least one id.")


@dataclass(frozen=True)
class QuarantinedMessage:
    """One quarantine row."""

    id: int
    council: str | None
    stream: str | None
    device_id: str | None
    topic: str
    reason: str
    copies: int
    received_at: datetime
    last_received_at: datetime
    payload: bytes


@dataclass
class ReplayResult:
    """What a replay did (or, dry, would do)."""

    stored: int = 0
    """Messages that now decode and were stored (or were already), their rows deleted."""
    duplicates: int = 0
    """Of ``stored``: readings that were already in their table."""
    failing: dict[str, int] = field(default_factory=dict)
    """Messages still refused, by kind of reason; they stay, with the new reason."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Messages not replayed, by why."""
    dry_run: bool = False


def _where(f: QuarantineFilter) -> tuple[sql.Composable, list[object]]:
    clauses: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list[object] = []
    if f.council is not None:
        clauses.append(sql.SQL("council = %s"))
        params.append(f.council)
    if f.reason is not None:
        clauses.append(sql.SQL("strpos(lower(reason), lower(%s)) > 0"))
        params.append(f.reason)
    if f.device is not None:
        clauses.append(sql.SQL("device_id = %s"))
        params.append(f.device)
    if f.ids is not None:
        clauses.append(sql.SQL("id = ANY(%s)"))
        params.append(list(f.ids))
    return sql.SQL(" AND ").join(clauses), params


_COLUMNS = sql.SQL(
    "id, council, stream, device_id, topic, reason, copies, received_at, last_received_at, payload"
)


def list_quarantine(conn: psycopg.Connection, f: QuarantineFilter) -> list[QuarantinedMessage]:
    """The selected rows, most recently received first."""
    where, params = _where(f)
    query: sql.Composed = sql.SQL(
        "SELECT {} FROM quarantine WHERE {} ORDER BY last_received_at DESC, id DESC"
    ).format(_COLUMNS, where)
    if f.limit is not None:
        query = sql.SQL("{} LIMIT %s").format(query)
        params.append(f.limit)
    with conn.cursor(row_factory=class_row(QuarantinedMessage)) as cur:
        return cur.execute(query, params).fetchall()


def get_quarantined(conn: psycopg.Connection, quarantine_id: int) -> QuarantinedMessage | None:
    """One row by id, or ``None``."""
    rows = list_quarantine(conn, QuarantineFilter(ids=[quarantine_id]))
    return rows[0] if rows else None


def payload_text(payload: bytes) -> tuple[str, str]:
    """The payload for a person to read and how it is shown: ``utf-8`` text, else ``hex``."""
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return payload.hex(), "hex"


def _skip_reason(topic: str, stream: str | None, faithful: bool) -> str | None:
    if topic.startswith(HTTP_TOPIC_PREFIX):
        return SKIP_HTTP
    if stream in {s.value for s in PHONE_STREAMS}:
        return SKIP_PHONE
    if not faithful:
        return SKIP_ALTERED
    return None


def _redecoded(
    conn: psycopg.Connection, cache: DeviceCache, prefix: str, row: QuarantinedMessage
) -> list[Message]:
    """The quarantined message decoded again, as ingest would now: a network server's uplink
    through its bridge's decoding (registry, model), anything else by the contract's decoder."""
    at = row.received_at
    network = network_of_topic(row.topic)
    if network is None:
        decoded = decode(prefix, row.topic, row.payload, at)
        return [Message(row.topic, row.payload, at, decoded, replayed=True)]
    return [
        Message(topic, row.payload, at, result, replayed=True)
        for topic, result in decode_uplink(conn, cache, prefix, network, row.topic, row.payload, at)
    ]


def replay(
    conn: psycopg.Connection,
    prefix: str,
    f: QuarantineFilter,
    *,
    dry_run: bool = False,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Re-decode the selected messages and store what now passes (see the module docstring).

    ``conn`` must not be in a transaction; each chunk of messages is committed on its own (or,
    with ``dry_run``, rolled back). ``on_total`` is told how many messages will be tried,
    ``on_progress`` how many more were done.
    """
    result = ReplayResult(dry_run=dry_run)
    where, params = _where(f)
    # The fingerprint is of the topic as received; a kept topic that no longer matches it was
    # altered on the way in (a phone's pseudonym, a NUL byte made visible).
    query = sql.SQL(
        "SELECT id, topic, stream, "
        "fingerprint = sha256(convert_to(topic, 'UTF8') || '\\x00'::bytea || payload) "
        "FROM quarantine WHERE {} ORDER BY id"
    ).format(where)
    if f.limit is not None:
        query = sql.SQL("{} LIMIT %s").format(query)
        params.append(f.limit)
    ids: list[int] = []
    skipped: Counter[str] = Counter()
    for qid, topic, stream, faithful in conn.execute(query, params).fetchall():
        why = _skip_reason(topic, stream, bool(faithful))
        if why is None:
            ids.append(qid)
        else:
            skipped[why] += 1
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
        conn.commit()  # the selection above opened one; each chunk is its own transaction
    result.skipped = dict(skipped)
    if on_total is not None:
        on_total(len(ids))
    cache = DeviceCache(negative_ttl=0)
    failing: Counter[str] = Counter()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        # A writer per chunk: its staging tables are created in the transaction (a dry run
        # rolls them back with everything else).
        writer = StreamWriter(conn, cache)
        with conn.transaction(force_rollback=dry_run):
            with conn.cursor(row_factory=class_row(QuarantinedMessage)) as cur:
                rows = cur.execute(
                    sql.SQL(
                        "SELECT {} FROM quarantine WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
                    ).format(_COLUMNS),
                    (chunk,),
                ).fetchall()
            for row in rows:  # a row deleted meanwhile (another replay) is simply gone
                written = writer.write(_redecoded(conn, cache, prefix, row))
                if written.quarantined:
                    failing.update(written.reasons)
                else:
                    conn.execute("DELETE FROM quarantine WHERE id = %s", (row.id,))
                    result.stored += 1
                    result.duplicates += written.duplicates
        if on_progress is not None:
            on_progress(len(chunk))
    result.failing = dict(failing)
    return result
