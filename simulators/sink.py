"""Simulated history straight into the database, through ingest's decoder and writer.

Not through MQTT: a month of a 500-bin town is ~700,000 messages, which the broker round trip
would slow down without testing anything new (ingest has its own tests and benchmark), and the
decoder still refuses anything a real device could not send.
"""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from ingest.contract.decode import decode
from ingest.contract.payloads import Payload
from ingest.db.writer import Message, StreamWriter


def encode(model: Payload) -> bytes:
    """The message body a device sends for ``model``."""
    return model.model_dump_json(exclude_none=True).encode()


@dataclass
class BackfillResult:
    """What a backfill produced."""

    messages: int = 0
    written: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    files: list[Path] = field(default_factory=list)


class Sink:
    """Batches messages through the ingest decoder and writer (or only counts them, without a
    connection)."""

    def __init__(self, conn: psycopg.Connection | None, prefix: str, batch: int = 5000) -> None:
        self.writer = StreamWriter(conn) if conn is not None else None
        self.prefix = prefix
        self.batch = batch
        self.pending: list[Message] = []
        self.result = BackfillResult()

    def add(self, topic: str, body: bytes, at: datetime) -> None:
        """One message, as received at ``at``."""
        self.result.messages += 1
        if self.writer is None:
            return
        self.pending.append(Message(topic, body, at, decode(self.prefix, topic, body, at)))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Write what is pending."""
        if self.writer is None or not self.pending:
            return
        outcome = self.writer.write(self.pending)
        for table, n in outcome.written.items():
            self.result.written[table] = self.result.written.get(table, 0) + n
        self.result.quarantined += outcome.quarantined
        self.pending = []
