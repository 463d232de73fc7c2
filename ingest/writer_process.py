"""The database half of an ingest worker, in a process of its own.

One Python process cannot both keep up with paho and decode, copy and commit at the same rate:
they would share one interpreter lock. So the MQTT process only receives, forwards raw messages
here through a pipe and acknowledges what comes back; this process decodes, batches, writes and
commits, then returns the packet ids of the committed messages with a summary for the metrics.

It keeps retrying a batch while the database is unavailable and exits when the pipe closes,
after writing what it still holds.
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection

import psycopg

from ingest.contract.decode import Reading, decode
from ingest.contract.lorawan import Network
from ingest.db.connect import connect
from ingest.db.uplinks import decode_uplink
from ingest.db.writer import Message, StreamWriter, WriteResult
from ingest.errors import first_line

log = logging.getLogger(__name__)

Raw = tuple[int, int, bool, str, bytes, float]
"""A message as forwarded: packet id, connection generation, DUP flag, topic, payload,
receive time (Unix seconds)."""


@dataclass
class BatchReport:
    """What the MQTT process needs back: which messages to acknowledge, and figures."""

    acks: list[tuple[int, int]]  # (packet id, connection generation)
    written: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    lags: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class WriterConfig:
    """What the writer process needs to know."""

    database_url: str
    prefix: str
    batch_size: int
    flush_ms: int
    log_level: int = logging.INFO
    client_id: str | None = None
    """The worker's MQTT client id: with a packet id, it names a delivery (exact counting)."""
    bridge: Network | None = None
    """The network server whose uplinks this worker takes (``None``: native device topics)."""


def _gather(conn: Connection, batch: list[Raw], most: int, linger: float) -> bool:
    """Add forwarded messages to ``batch``; ``False`` once the pipe is closed.

    Waits for the first chunk, then lets the batch grow for at most ``linger`` seconds but only
    while chunks keep coming: with acknowledgements after commit the broker sends nothing more
    once its in-flight window is used up, so waiting for a full batch would stall.
    """
    try:
        if not batch and not conn.poll(0.2):
            return True
        deadline = time.monotonic() + linger
        while len(batch) < most:
            if not conn.poll(0.002 if batch else 0):
                if batch or time.monotonic() >= deadline:
                    break
                continue
            batch.extend(conn.recv())
            if time.monotonic() >= deadline:
                break
    except EOFError:
        return False
    return True


def _decode_all(prefix: str, raws: list[Raw], client_id: str | None = None) -> list[Message]:
    messages = []
    for mid, _gen, dup, topic, payload, received in raws:
        at = datetime.fromtimestamp(received, UTC)
        decoded = decode(prefix, topic, payload, at)
        messages.append(Message(topic, payload, at, decoded, dup, client_id, mid))
    return messages


def _decode_uplinks(writer: StreamWriter, config: WriterConfig, raws: list[Raw]) -> list[Message]:
    """Network-server uplinks as messages: one per reading (or reason), with the raw envelope.

    Needs the database (devices are found by their network identity), so it runs once the
    writer is connected. A QoS 0 delivery (packet id 0) names no delivery for exact counting.
    """
    assert config.bridge is not None
    messages = []
    for mid, _gen, dup, topic, payload, received in raws:
        at = datetime.fromtimestamp(received, UTC)
        for stored_topic, decoded in decode_uplink(
            writer.conn, writer.cache, config.prefix, config.bridge, topic, payload, at
        ):
            messages.append(
                Message(
                    stored_topic,
                    payload,
                    at,
                    decoded,
                    dup,
                    client_id=config.client_id,
                    packet_id=mid or None,
                )
            )
    return messages


def _report(
    raws: list[Raw], messages: list[Message], seconds: float, result: WriteResult
) -> BatchReport:
    now = datetime.now(UTC)
    streams = Counter(
        m.decoded.topic.stream.value if m.decoded.topic else "unparsed" for m in messages
    )
    lags = [
        max(0.0, (now - m.decoded.payload.ts).total_seconds())
        for m in messages
        if isinstance(m.decoded, Reading)
    ]
    return BatchReport(
        acks=[(r[0], r[1]) for r in raws],
        written=result.written,
        duplicates=result.duplicates,
        reasons=result.reasons,
        received=dict(streams),
        seconds=seconds,
        lags=lags,
    )


def run_writer(config: WriterConfig, inbound: Connection, outbound: Connection) -> None:
    """Entry point of the writer process."""
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    db: psycopg.Connection | None = None
    writer: StreamWriter | None = None
    batch: list[Raw] = []
    open_pipe = True
    delay = 0.5
    linger = config.flush_ms / 1000
    while open_pipe or batch:
        if open_pipe and len(batch) < config.batch_size:
            open_pipe = _gather(inbound, batch, config.batch_size, linger)
        if not batch:
            continue
        raws = batch[: config.batch_size]
        bridged = config.bridge is not None
        messages = [] if bridged else _decode_all(config.prefix, raws, config.client_id)
        started = time.perf_counter()
        try:
            if db is None or db.closed:
                db = connect(config.database_url)
                writer = StreamWriter(db, writer.cache if writer else None)
            assert writer is not None
            if bridged:
                messages = _decode_uplinks(writer, config, raws)
            result = writer.write(messages)
        except psycopg.OperationalError as exc:
            outbound.send(("error", first_line(exc)))
            log.warning(
                "write of %d messages failed (%s); retrying in %.1fs",
                len(raws),
                first_line(exc),
                delay,
            )
            if db is not None:
                db.close()
            db = None
            time.sleep(delay)
            delay = min(delay * 2, 15)
            continue
        delay = 0.5
        outbound.send(("done", _report(raws, messages, time.perf_counter() - started, result)))
        del batch[: len(raws)]
    if db is not None:
        db.close()
    outbound.close()
