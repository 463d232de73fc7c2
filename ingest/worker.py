"""The ingest worker: MQTT in, rows out, acknowledgements only after commit.

Two processes per worker. This one runs paho: its callback only enqueues the raw message, a
forwarder thread hands chunks to the writer process (``ingest.writer_process``), which decodes,
batches, copies and commits, and an acknowledger thread sends the PUBACKs for what came back
committed. Splitting the work lets paho have an interpreter to itself.

At most ``queue_size`` messages are between receipt and acknowledgement; beyond that the
callback blocks, paho stops reading the socket and the broker holds the rest (backpressure
instead of unbounded memory). A database outage stops acknowledgements and is retried with
backoff; unacknowledged QoS 1 messages are redelivered by the broker, and natural keys make the
redelivery a no-op. A broker outage is handled by paho's reconnect, which resumes the
persistent session.
"""

import contextlib
import logging
import multiprocessing
import threading
import time
from collections import Counter, deque
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import paho.mqtt.client as mqtt

from ingest.contract.lorawan import TOPIC_FILTERS, Network
from ingest.contract.topics import subscription
from ingest.metrics import IngestMetrics
from ingest.mqtt import close_client, open_client
from ingest.settings import IngestSettings
from ingest.writer_process import BatchReport, Raw, WriterConfig, run_writer

log = logging.getLogger(__name__)


class IngestWorker:
    """One ingest worker: the MQTT client, the hand-over to the writer process, the acks."""

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
        self.stats: Counter[str] = Counter()
        self._stop = threading.Event()
        self._client: mqtt.Client | None = None
        self._generation = 0
        self._outbox: deque[Raw] = deque()
        self._outbox_ready = threading.Event()
        self._in_flight = 0  # received, not yet acknowledged (paho thread +, acker -)
        self._in_flight_lock = threading.Lock()
        self._space = threading.Event()
        self._space.set()
        self._process: BaseProcess | None = None
        self._to_writer: Connection | None = None
        self._from_writer: Connection | None = None
        self._forwarder = threading.Thread(target=self._forward_loop, name="ingest-forwarder")
        self._acker = threading.Thread(target=self._ack_loop, name="ingest-acker")
        self._last_log = time.monotonic()

    @property
    def in_flight(self) -> int:
        """Messages received and not yet acknowledged."""
        return self._in_flight

    # -- MQTT side -------------------------------------------------------------------------
    def topic_filter(self) -> str:
        """What this worker subscribes to (a shared subscription when a group is set): native
        device topics, or every uplink of the network server it bridges."""
        bridge = self.settings.bridge
        base = subscription(self.prefix) if bridge is None else TOPIC_FILTERS[Network(bridge)]
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
        # Backpressure: while too much is unacknowledged, paho stops reading. When stopping,
        # the message is dropped unacknowledged, so the broker delivers it again later.
        while self._in_flight >= self.settings.queue_size:
            self._space.clear()
            if self._in_flight < self.settings.queue_size:
                break
            if self._stop.is_set():
                return
            self._space.wait(0.2)
        if self._stop.is_set():
            return
        with self._in_flight_lock:
            self._in_flight += 1
        self._outbox.append(
            (
                msg.mid,
                self._generation,
                bool(msg.dup),
                msg._topic.decode("utf-8", "replace"),
                bytes(msg.payload),
                time.time(),
            )
        )
        if not self._outbox_ready.is_set():
            self._outbox_ready.set()

    def _configure(self, client: mqtt.Client) -> None:
        client.manual_ack_set(True)
        client.on_connect = self._on_connect
        client.on_message = self._on_message

    # -- hand-over to the writer process ---------------------------------------------------
    def _forward_loop(self) -> None:
        assert self._to_writer is not None
        outbox = self._outbox
        while True:
            if not outbox:
                if self._stop.is_set():
                    break
                self._outbox_ready.clear()
                if not outbox:
                    self._outbox_ready.wait(0.2)
                continue
            chunk = [outbox.popleft() for _ in range(min(len(outbox), 2000))]
            try:
                self._to_writer.send(chunk)
            except (BrokenPipeError, OSError):
                log.error("the writer process is gone; %d messages stay unacknowledged", len(chunk))
                break
        self._to_writer.close()

    def _acknowledge(self, acks: list[tuple[int, int]]) -> int:
        client = self._client
        if client is None:
            return 0
        current = self._generation
        acked = 0
        # paho wakes its network thread with a write to a socket pair for every packet queued
        # from another thread; for a batch of PUBACKs one wake-up is enough. (Private attribute
        # of paho-mqtt 2; if it is ever missing this is simply the per-packet wake-up again.)
        wake = getattr(client, "_sockpairW", None)
        if wake is not None:
            client._sockpairW = None
        try:
            for mid, generation in acks:
                # A message from an earlier connection is redelivered by the broker on the new
                # one (persistent session); acking its old packet id could ack another message.
                # Packet id 0 is a QoS 0 delivery (The Things Stack sends only those): no ack.
                if generation == current and mid:
                    client.ack(mid, 1)
                    acked += 1
        finally:
            if wake is not None:
                client._sockpairW = wake
                with contextlib.suppress(BlockingIOError):
                    wake.send(b"0")
        return acked

    def _record(self, report: BatchReport) -> None:
        m = self.metrics
        for stream, n in report.received.items():
            m.received.labels(stream).inc(n)
        for table, n in report.written.items():
            m.written.labels(table).inc(n)
        for reason, n in report.reasons.items():
            m.quarantined.labels(reason).inc(n)
        m.duplicates.inc(report.duplicates)
        m.batch_size.observe(len(report.acks))
        m.batch_seconds.observe(report.seconds)
        for lag in report.lags:
            m.lag_seconds.observe(lag)
        self.stats["received"] += len(report.acks)
        self.stats["written"] += sum(report.written.values())
        self.stats["duplicates"] += report.duplicates
        self.stats["quarantined"] += sum(report.reasons.values())
        self.stats["batches"] += 1

    def _ack_loop(self) -> None:
        assert self._from_writer is not None
        while True:
            try:
                kind, body = self._from_writer.recv()
            except (EOFError, OSError):
                break
            if kind == "error":
                self.metrics.write_errors.inc()
                continue
            report: BatchReport = body
            self.metrics.acknowledged.inc(self._acknowledge(report.acks))
            with self._in_flight_lock:
                self._in_flight -= len(report.acks)
            self._space.set()
            self._record(report)
            self.metrics.queue_depth.set(self._in_flight)
            if time.monotonic() - self._last_log >= self.settings.log_every_s:
                self._last_log = time.monotonic()
                self.log_summary()

    def log_summary(self) -> None:
        """One line of progress for the log."""
        s = self.stats
        log.info(
            "ingest: received=%d written=%d duplicates=%d quarantined=%d batches=%d "
            "unacknowledged=%d",
            s["received"],
            s["written"],
            s["duplicates"],
            s["quarantined"],
            s["batches"],
            self._in_flight,
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer process, then connect and subscribe (persistent session, QoS 1)."""
        if self.settings.metrics_port is not None:
            self.metrics.serve(self.settings.metrics_port)
        ctx = multiprocessing.get_context("spawn")  # threads are running: never fork
        writer_in, self._to_writer = ctx.Pipe(duplex=False)
        self._from_writer, writer_out = ctx.Pipe(duplex=False)
        config = WriterConfig(
            self.database_url,
            self.prefix,
            self.settings.batch_size,
            self.settings.flush_ms,
            logging.getLogger().getEffectiveLevel(),
            self.settings.client_id,
            None if self.settings.bridge is None else Network(self.settings.bridge),
        )
        self._process = ctx.Process(
            target=run_writer,
            args=(config, writer_in, writer_out),
            name="ingest-writer",
            daemon=True,
        )
        self._process.start()
        writer_in.close()
        writer_out.close()
        self._forwarder.start()
        self._acker.start()
        try:
            self._client = open_client(
                self.mqtt_url,
                self.settings.client_id,
                # A network server's broker is not ours: no status topic of ours on it.
                prefix=self.prefix if self.settings.bridge is None else None,
                clean=False,
                receive_maximum=self.settings.receive_maximum,
                configure=self._configure,
            )
        except BaseException:
            self.stop(timeout=5)
            raise

    def request_stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler); :meth:`stop` finishes the job."""
        self._stop.set()

    def stop(self, timeout: float = 30) -> None:
        """Stop taking messages, let the writer commit what it holds, acknowledge, disconnect."""
        self._stop.set()
        self._space.set()
        self._outbox_ready.set()
        deadline = time.monotonic() + timeout
        if self._forwarder.is_alive():
            self._forwarder.join(max(0.1, deadline - time.monotonic()))
        if self._acker.is_alive():
            self._acker.join(max(0.1, deadline - time.monotonic()))
        if self._process is not None:
            self._process.join(max(0.1, deadline - time.monotonic()))
            if self._process.is_alive():
                # Still retrying a dead database: what it holds is unacknowledged, so it is
                # redelivered to the next worker.
                log.warning("writer still busy after %.0fs; stopping it", timeout)
                self._process.terminate()
                self._process.join(5)
        if self._client is not None:
            close_client(self._client, self.prefix if self.settings.bridge is None else None)
        self.log_summary()

    def wait(self, duration: float | None = None) -> None:
        """Block until stopped (or for ``duration`` seconds)."""
        self._stop.wait(duration)
