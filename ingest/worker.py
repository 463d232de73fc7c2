"""The ingest worker: MQTT in, rows out, acknowledgements only after commit.

The paho callback decodes and enqueues; one writer thread batches, writes and then acknowledges.
A full queue blocks the callback, which stops paho reading the socket: the broker holds the
rest (backpressure instead of unbounded memory). A database outage stops acknowledgements and is
retried with backoff; unacknowledged QoS 1 messages are redelivered by the broker.
"""

import logging
import queue
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg

from ingest.contract.decode import decode
from ingest.contract.topics import subscription
from ingest.db.connect import connect
from ingest.db.writer import Message, StreamWriter
from ingest.mqtt import close_client, open_client
from ingest.settings import IngestSettings

log = logging.getLogger(__name__)

_Item = tuple[int, int, Message]  # (mid, qos, message)


class IngestWorker:
    """One ingest process's state: the MQTT client, the queue and the writer thread."""

    def __init__(
        self, database_url: str, mqtt_url: str, prefix: str, settings: IngestSettings
    ) -> None:
        self.database_url = database_url
        self.mqtt_url = mqtt_url
        self.prefix = prefix
        self.settings = settings
        self.queue: queue.Queue[_Item] = queue.Queue(maxsize=settings.queue_size)
        self.stats: Counter[str] = Counter()
        self._stop = threading.Event()
        self._client: mqtt.Client | None = None
        self._writer_thread = threading.Thread(target=self._write_loop, name="ingest-writer")

    # -- MQTT side -------------------------------------------------------------------------
    def _topic_filter(self) -> str:
        base = subscription(self.prefix)
        group = self.settings.share_group
        return f"$share/{group}/{base}" if group else base

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object
    ) -> None:
        if not getattr(rc, "is_failure", False):
            client.subscribe(self._topic_filter(), qos=1)
            log.info("subscribed to %s", self._topic_filter())

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        received_at = datetime.now(UTC)
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")
        payload = bytes(msg.payload)
        decoded = decode(self.prefix, topic, payload, received_at)
        self.stats["received"] += 1
        item = (msg.mid, msg.qos, Message(topic, payload, received_at, decoded))
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

    def _write_loop(self) -> None:
        conn: psycopg.Connection | None = None
        writer: StreamWriter | None = None
        pending: list[_Item] = []
        last_log = time.monotonic()
        while not (self._stop.is_set() and not pending and self.queue.empty()):
            if not pending:
                pending = self._take_batch()
                if not pending:
                    continue
            try:
                if conn is None or conn.closed:
                    conn = self._connect_db()
                    writer = StreamWriter(conn, writer.cache if writer else None)
                assert writer is not None
                result = writer.write([item[2] for item in pending])
            except psycopg.OperationalError as exc:
                log.warning(
                    "write of %d messages failed (%s); will retry",
                    len(pending),
                    str(exc).strip().splitlines()[0],
                )
                if conn is not None:
                    conn.close()
                conn = None
                if self._stop.wait(1.0):
                    break
                continue
            client = self._client
            for mid, qos, _ in pending:
                if client is not None and qos > 0:
                    client.ack(mid, qos)
            self.stats["written"] += sum(result.written.values())
            self.stats["duplicates"] += result.duplicates
            self.stats["quarantined"] += result.quarantined
            self.stats["batches"] += 1
            pending = []
            if time.monotonic() - last_log >= self.settings.log_every_s:
                last_log = time.monotonic()
                self.log_summary()
        if conn is not None:
            conn.close()

    def log_summary(self) -> None:
        """One line of progress for the log."""
        s = self.stats
        log.info(
            "ingest: received=%d written=%d duplicates=%d quarantined=%d queue=%d",
            s["received"],
            s["written"],
            s["duplicates"],
            s["quarantined"],
            self.queue.qsize(),
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer, then connect and subscribe (a persistent session, QoS 1)."""
        self._writer_thread.start()
        self._client = open_client(
            self.mqtt_url,
            self.settings.client_id,
            prefix=self.prefix,
            clean=False,
            configure=self._configure,
        )

    def stop(self, timeout: float = 30) -> None:
        """Stop taking messages, write and acknowledge what is queued, disconnect."""
        client = self._client
        self._stop.set()
        self._writer_thread.join(timeout)
        if client is not None:
            close_client(client, self.prefix)
        self.log_summary()

    def request_stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler); :meth:`stop` finishes the job."""
        self._stop.set()

    def wait(self, duration: float | None = None) -> None:
        """Block until stopped (or for ``duration`` seconds)."""
        self._stop.wait(duration)
