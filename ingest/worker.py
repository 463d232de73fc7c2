"""The ingest worker: MQTT in, rows out, acknowledgements only after commit.

The paho callback decodes and enqueues; one writer thread batches, writes and then acknowledges.
A full queue blocks the callback, which stops paho reading the socket: the broker holds the
rest (backpressure instead of unbounded memory). A database outage stops acknowledgements and is
retried with backoff; unacknowledged QoS 1 messages are redelivered by the broker, and natural
keys make the redelivery a no-op. A broker outage is handled by paho's reconnect, which resumes
the persistent session.
"""

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg

from ingest.contract.decode import Reading, decode
from ingest.contract.topics import subscription
from ingest.db.connect import connect
from ingest.db.writer import Message, StreamWriter, WriteResult
from ingest.metrics import IngestMetrics
from ingest.mqtt import close_client, open_client
from ingest.settings import IngestSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Item:
    mid: int
    qos: int
    generation: int  # which connection delivered it: a packet id means nothing on another
    message: Message


class IngestWorker:
    """One ingest process's state: the MQTT client, the queue and the writer thread."""

    def __init__(
        self,
        database_url: str,
        mqtt_url: str,
        prefix: str,
        settings: IngestSettings,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.database_url = database_url
        self.mqtt_url = mqtt_url
        self.prefix = prefix
        self.settings = settings
        self.metrics = metrics or IngestMetrics.create()
        self.queue: queue.Queue[_Item] = queue.Queue(maxsize=settings.queue_size)
        self.stats: Counter[str] = Counter()
        self._stop = threading.Event()
        self._client: mqtt.Client | None = None
        self._generation = 0
        self._writer_thread = threading.Thread(target=self._write_loop, name="ingest-writer")

    # -- MQTT side -------------------------------------------------------------------------
    def topic_filter(self) -> str:
        """What this worker subscribes to (a shared subscription when a group is set)."""
        base = subscription(self.prefix)
        group = self.settings.share_group
        return f"$share/{group}/{base}" if group else base

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.warning("broker refused the connection: %s", rc)
            return
        self._generation += 1
        # Re-subscribing is harmless when the session was resumed, and needed when it was not.
        client.subscribe(self.topic_filter(), qos=1)
        log.info("subscribed to %s", self.topic_filter())

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        received_at = datetime.now(UTC)
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")
        payload = bytes(msg.payload)
        decoded = decode(self.prefix, topic, payload, received_at)
        stream = decoded.topic.stream.value if decoded.topic else "unparsed"
        self.metrics.received.labels(stream).inc()
        self.stats["received"] += 1
        message = Message(topic, payload, received_at, decoded, redelivered=bool(msg.dup))
        item = _Item(msg.mid, msg.qos, self._generation, message)
        # Blocking here is the backpressure: paho stops reading until the writer catches up.
        while True:
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                if self._stop.is_set():
                    return  # never acknowledged, so the broker delivers it again later

    def _configure(self, client: mqtt.Client) -> None:
        client.manual_ack_set(True)
        client.on_connect = self._on_connect
        client.on_message = self._on_message

    # -- database side ---------------------------------------------------------------------
    def _take_batch(self) -> list[_Item]:
        batch: list[_Item] = []
        deadline = time.monotonic() + self.settings.flush_ms / 1000
        while len(batch) < self.settings.batch_size and not self._stop.is_set():
            timeout = deadline - time.monotonic() if batch else 0.5
            if timeout <= 0:
                break
            try:
                batch.append(self.queue.get(timeout=timeout))
            except queue.Empty:
                if batch:
                    break
            # Drain what is already queued without waking up per message.
            while len(batch) < self.settings.batch_size:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
        return batch

    def _connect_db(self) -> psycopg.Connection:
        delay = 0.5
        while True:
            try:
                return connect(self.database_url)
            except psycopg.OperationalError as exc:
                log.warning(
                    "database unavailable (%s); retrying in %.1fs",
                    str(exc).strip().splitlines()[0],
                    delay,
                )
                if self._stop.wait(delay):
                    raise
                delay = min(delay * 2, 15)

    def _acknowledge(self, items: list[_Item]) -> None:
        client = self._client
        if client is None:
            return
        current = self._generation
        acked = 0
        for item in items:
            # A message from an earlier connection is redelivered by the broker on the new one
            # (persistent session); acknowledging its old packet id could ack another message.
            if item.qos > 0 and item.generation == current:
                client.ack(item.mid, item.qos)
                acked += 1
        self.metrics.acknowledged.inc(acked)

    def _record(self, result: WriteResult, items: list[_Item], seconds: float) -> None:
        m = self.metrics
        for table, n in result.written.items():
            m.written.labels(table).inc(n)
        for reason, n in result.reasons.items():
            m.quarantined.labels(reason).inc(n)
        m.duplicates.inc(result.duplicates)
        m.batch_size.observe(len(items))
        m.batch_seconds.observe(seconds)
        now = datetime.now(UTC)
        for item in items:
            decoded = item.message.decoded
            if isinstance(decoded, Reading):
                m.lag_seconds.observe(max(0.0, (now - decoded.payload.ts).total_seconds()))
        self.stats["written"] += sum(result.written.values())
        self.stats["duplicates"] += result.duplicates
        self.stats["quarantined"] += result.quarantined
        self.stats["batches"] += 1

    def _write_loop(self) -> None:
        conn: psycopg.Connection | None = None
        writer: StreamWriter | None = None
        pending: list[_Item] = []
        last_log = time.monotonic()
        delay = 0.5
        while not (self._stop.is_set() and not pending and self.queue.empty()):
            self.metrics.queue_depth.set(self.queue.qsize() + len(pending))
            if time.monotonic() - last_log >= self.settings.log_every_s:
                last_log = time.monotonic()
                self.log_summary()
            if not pending:
                pending = self._take_batch()
                if not pending:
                    continue
            started = time.perf_counter()
            try:
                if conn is None or conn.closed:
                    conn = self._connect_db()
                    writer = StreamWriter(conn, writer.cache if writer else None)
                assert writer is not None
                result = writer.write([item.message for item in pending])
            except psycopg.OperationalError as exc:
                self.metrics.write_errors.inc()
                log.warning(
                    "write of %d messages failed (%s); retrying in %.1fs",
                    len(pending),
                    str(exc).strip().splitlines()[0],
                    delay,
                )
                if conn is not None:
                    conn.close()
                conn = None
                if self._stop.wait(delay):
                    break  # unacknowledged: the broker redelivers them to the next worker
                delay = min(delay * 2, 15)
                continue
            delay = 0.5
            self._acknowledge(pending)
            self._record(result, pending, time.perf_counter() - started)
            pending = []
        if conn is not None:
            conn.close()

    def log_summary(self) -> None:
        """One line of progress for the log."""
        s = self.stats
        log.info(
            "ingest: received=%d written=%d duplicates=%d quarantined=%d batches=%d queue=%d",
            s["received"],
            s["written"],
            s["duplicates"],
            s["quarantined"],
            s["batches"],
            self.queue.qsize(),
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer, then connect and subscribe (a persistent session, QoS 1)."""
        if self.settings.metrics_port is not None:
            self.metrics.serve(self.settings.metrics_port)
        self._writer_thread.start()
        try:
            self._client = open_client(
                self.mqtt_url,
                self.settings.client_id,
                prefix=self.prefix,
                clean=False,
                receive_maximum=self.settings.receive_maximum,
                configure=self._configure,
            )
        except BaseException:
            self._stop.set()
            self._writer_thread.join()
            raise

    def request_stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler); :meth:`stop` finishes the job."""
        self._stop.set()

    def stop(self, timeout: float = 30) -> None:
        """Stop taking messages, write and acknowledge what is queued, disconnect."""
        self._stop.set()
        self._writer_thread.join(timeout)
        if self._client is not None:
            close_client(self._client, self.prefix)
        self.log_summary()

    def wait(self, duration: float | None = None) -> None:
        """Block until stopped (or for ``duration`` seconds)."""
        self._stop.wait(duration)
