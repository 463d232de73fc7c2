"""The database half of an ingest worker, in a process of its own.

One Python process cannot both keep up with paho and decode, copy and commit at the same rate:
they would share one interpreter lock. So the MQTT process only receives, forwards raw messages
here through a pipe and acknowledges what comes back; this process decodes, batches, writes and
commits, then returns the packet ids of the committed messages with a summary for the metrics.

It keeps retrying a batch while the database is unavailable and exits when the pipe closes,
after writing what it still holds.
"""

import logging
import queue
import threading
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
    """Entry point of the writer process.

    Two stages, so decoding the next batch overlaps the database's work on this one: the main
    thread gathers and decodes, a database thread writes, commits and reports. At most
    ``_AHEAD`` decoded batches wait between them; while the database is down the database
    thread keeps retrying, the main thread stops reading the pipe, and the backpressure reaches
    the broker as before.
    """
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    stage = _DatabaseStage(config, outbound)
    batch: list[Raw] = []
    open_pipe = True
    linger = config.flush_ms / 1000
    bridged = config.bridge is not None
    try:
        while (open_pipe or batch) and stage.alive:
            if open_pipe and len(batch) < config.batch_size:
                open_pipe = _gather(inbound, batch, config.batch_size, linger)
            if not batch:
                continue
            raws = batch[: config.batch_size]
            del batch[: len(raws)]
            # Uplinks need the database to find their devices: the database thread decodes them.
            messages = [] if bridged else _decode_all(config.prefix, raws, config.client_id)
            stage.put((raws, messages))
    finally:
        stage.finish()
        outbound.close()


_AHEAD = 2
"""Decoded batches that may wait for the database thread."""


Batch = tuple[list[Raw], list[Message]]


class _DatabaseStage:
    """The database thread and the hand-over to it."""

    def __init__(self, config: WriterConfig, outbound: Connection) -> None:
        self._queue: queue.Queue[Batch | None] = queue.Queue(_AHEAD)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(config, outbound), name="ingest-db", daemon=True
        )
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def put(self, item: Batch | None) -> None:
        """Hand a batch over; waits while the database thread is busy, never once it died."""
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Let the thread write what it holds and stop; raise what ended it early, if anything."""
        self.put(None)
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def _run(self, config: WriterConfig, outbound: Connection) -> None:
        try:
            _write_loop(config, self._queue, outbound)
        except BaseException as exc:  # re-raised by finish(), in the main thread
            self._failure = exc


def _write_loop(
    config: WriterConfig, decoded: "queue.Queue[Batch | None]", outbound: Connection
) -> None:
    """The database thread: write each decoded batch until it commits, then report it."""
    db: psycopg.Connection | None = None
    writer: StreamWriter | None = None
    delay = 0.5
    while (item := decoded.get()) is not None:
        raws, messages = item
        while True:
            started = time.perf_counter()
            try:
                if db is None or db.closed:
                    db = connect(config.database_url)
                    writer = StreamWriter(db, writer.cache if writer else None)
                assert writer is not None
                if config.bridge is not None:
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
            break
        delay = 0.5
        outbound.send(("done", _report(raws, messages, time.perf_counter() - started, result)))
    if db is not None:
        db.close()
