"""Benchmark: how fast ingest drains a broker backlog into committed rows.

A backlog of valid QoS 1 messages of mixed streams is queued in the broker for a persistent
session while its consumer is offline; then the consumer starts and the bench times how long the
backlog takes to drain. The same backlog is drained by:

* ``bare``: a paho-mqtt subscriber that only receives and acknowledges (the client's ceiling);
* ``naive``: an ingestor that INSERTs and commits one message at a time (first N messages only);
* ``ingest`` (the real ``smartstreets ingest`` CLI) with MQTT 5 Receive Maximum left small (20,
  what Mosquitto's default ``max_inflight_messages`` gives) and raised (10000), and with
  ``--workers 2`` on a shared subscription.

The bench owns its broker (a Mosquitto on a free port) and its database (created on the given
server, dropped at the end). It reports; it does not assert. Run it from the repository root::

    .venv/bin/python bench/ingest.py --messages 200000
"""

import sys
from pathlib import Path

if not __package__:
    # Run as ``python bench/ingest.py``: Python puts bench/ first on sys.path, where this file
    # would shadow the ``ingest`` package. Look up packages from the repository root instead.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

import argparse
import contextlib
import json
import logging
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import IO, Any, Literal, NoReturn
from urllib.parse import urlsplit

import paho.mqtt
import paho.mqtt.client as mqtt
import psutil  # type: ignore[import-untyped]
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from psycopg import sql
from psycopg.conninfo import make_conninfo
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deploy.embedded import free_port
from ingest.contract.payloads import BinFillReading, BinFlag, BumpReport, FootfallCount
from ingest.contract.topics import Stream, build_topic, parse_topic, status_topic, subscription
from ingest.db.connect import connect, server_version
from ingest.db.migrate import migrate, storage_of
from ingest.db.registry import DeviceCreate, import_devices, load_devices
from ingest.db.writer import table_of
from ingest.errors import IngestError
from ingest.mqtt import SESSION_EXPIRY_S, Publisher, close_client, open_client
from ingest.settings import mask_url
from simulators.realtime import bump_samples

log = logging.getLogger("bench.ingest")

PREFIX = "bench"
COUNCIL = "bench"
TOPIC_FILTER = subscription(PREFIX)  # bench/v1/+/+/+
SHARE_GROUP = "smartstreets"  # the group `smartstreets ingest --workers N` subscribes with
READING_TABLES = ("bin_fill", "bump_report", "footfall_count")
BINS, COUNTERS, PHONES, ZONES = 1000, 200, 500, 10
MIX = ((Stream.BIN_FILL, 0.60), (Stream.FOOTFALL, 0.25), (Stream.BUMP, 0.15))
RAISED_RECEIVE_MAXIMUM = 10_000
SMALL_RECEIVE_MAXIMUM = 20  # Mosquitto's default max_inflight_messages
PUBLISH_INFLIGHT = 1_000  # paho's default of 20 unacknowledged publishes makes loading slow
POLL_S = 0.2
STOP_GRACE_S = 20.0
RSS_TARGET_MB = 250
RATIO_TARGET = 0.80
CONTENDER_KEYS = ("bare", "naive", "ingest-rm20", "ingest", "ingest-workers2")

# Wide enough for the results table when the output goes to a file or a pipe.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)


class BenchError(RuntimeError):
    """Something the bench needs is missing or broke; reported as one line."""


# -- the backlog --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    """Every message to publish, built once and reused for every contender."""

    messages: list[tuple[str, bytes]]
    per_table: dict[str, int]

    @property
    def nbytes(self) -> int:
        return sum(len(payload) for _, payload in self.messages)


def bench_devices() -> list[DeviceCreate]:
    """Bins and counters registered for the bench council (phones are never registered)."""
    devices = [
        DeviceCreate(
            council=COUNCIL,
            kind="bin",
            device_id=f"bench-bin-{i:04d}",
            lat=52.6 + i / 100_000,
            lon=-0.7 - i / 100_000,
            capacity_litres=240,
        )
        for i in range(BINS)
    ]
    devices += [
        DeviceCreate(
            council=COUNCIL,
            kind="counter",
            device_id=f"bench-ctr-{i:03d}",
            lat=52.67 + i / 100_000,
            lon=-0.72,
            zone=f"zone-{i % ZONES}",
        )
        for i in range(COUNTERS)
    ]
    return devices


def build_backlog(count: int, seed: int) -> Backlog:
    """``count`` valid messages, each with its own natural key, deterministic from ``seed``.

    Timestamps start 14 days before today (UTC midnight), not at a fixed date: ingest refuses
    readings more than a day ahead of its clock, and TimescaleDB's retention jobs would drop
    bump reports older than 90 days in the middle of a run.
    """
    rng = random.Random(seed)
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    base -= timedelta(days=14)
    topics: dict[tuple[Stream, str], str] = {}
    sequence: Counter[str] = Counter()  # per device, so every (device, time) key is distinct
    per_table: Counter[str] = Counter()
    messages: list[tuple[str, bytes]] = []
    cut_footfall = MIX[0][1] + MIX[1][1]
    for _ in range(count):
        draw = rng.random()
        model: BinFillReading | BumpReport | FootfallCount
        if draw < MIX[0][1]:
            stream, device_id = Stream.BIN_FILL, f"bench-bin-{rng.randrange(BINS):04d}"
            k = sequence[device_id]
            model = BinFillReading(
                ts=base + timedelta(seconds=10 * k),
                fill_pct=round(rng.uniform(0, 100), 1),
                seq=k,
                battery_v=round(rng.uniform(3.4, 4.2), 3),
                temperature_c=round(rng.gauss(11, 3), 1),
                flags=[BinFlag.LID_OPEN] if rng.random() < 0.02 else [],
            )
        elif draw < cut_footfall:
            stream, device_id = Stream.FOOTFALL, f"bench-ctr-{rng.randrange(COUNTERS):03d}"
            k = sequence[device_id]
            start = base + timedelta(minutes=k)
            people = rng.randint(0, 120)
            inward = rng.randint(0, people)
            model = FootfallCount(
                period_start=start,
                period_end=start + timedelta(minutes=1),
                count=people,
                count_in=inward,
                count_out=people - inward,
                seq=k,
            )
        else:
            stream, device_id = Stream.BUMP, f"bench-phone-{rng.randrange(PHONES):03d}"
            k = sequence[device_id]
            peak = round(rng.uniform(0.3, 2.5), 3)
            model = BumpReport(
                ts=base + timedelta(seconds=k),
                lat=round(52.66 + rng.uniform(-0.01, 0.01), 6),
                lon=round(-0.73 + rng.uniform(-0.01, 0.01), 6),
                speed_mps=round(rng.uniform(4, 15), 2),
                peak_z_g=peak,
                seq=k,
                accuracy_m=round(rng.uniform(2, 8), 1),
                heading_deg=round(rng.uniform(0, 359.9), 1),
                sample_hz=50.0,
                samples_z_g=bump_samples(rng, peak, hz=50, n=32),
            )
        sequence[device_id] += 1
        topic = topics.get((stream, device_id))
        if topic is None:
            topic = topics[(stream, device_id)] = build_topic(PREFIX, COUNCIL, stream, device_id)
        messages.append((topic, model.model_dump_json(exclude_none=True).encode()))
        per_table[table_of(stream)] += 1
    return Backlog(messages, dict(per_table))


# -- the broker ---------------------------------------------------------------------------------


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"mosquitto exited at start-up with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise BenchError(f"mosquitto is not listening on port {port} after {timeout}s")


class Mosquitto:
    """A Mosquitto the bench owns, with unlimited queues for offline persistent sessions."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if binary is None:
            raise BenchError("no mosquitto binary (looked on PATH and at /usr/sbin/mosquitto)")
        self.binary = binary
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"
        # max_inflight_messages is left at its default (20) on purpose: the bench shows what a
        # stock broker gives a client that does not raise Receive Maximum.
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_queued_messages 0",  # offline persistent sessions queue the whole backlog
            "max_queued_bytes 0",
            "memory_limit 0",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # else it would switch to user "mosquitto"
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def version(self) -> str:
        # `mosquitto -h` prints its version first and exits non-zero; only the text matters.
        out = subprocess.run(
            [self.binary, "-h"], capture_output=True, text=True, timeout=10, check=False
        )
        lines = (out.stdout or out.stderr).strip().splitlines()
        return lines[0] if lines else "unknown"

    def start(self) -> None:
        with self.log_path.open("wb") as sink:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C is for the bench; it stops the broker itself
            )
        try:
            _wait_port(self.port, self.proc)
        except BenchError:
            raise BenchError(f"{self.binary} did not start: {tail(self.log_path, 1)}") from None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log file, for one-line error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def _wait_suback(client: mqtt.Client, topic_filter: str, timeout: float = 10) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_args: done.set()
    client.subscribe(topic_filter, qos=1)
    if not done.wait(timeout):
        raise BenchError(f"no SUBACK for {topic_filter} within {timeout}s")


def create_sessions(url: str, client_ids: Sequence[str], topic_filter: str) -> None:
    """Persistent sessions subscribed to the device topics, so the broker queues the backlog."""
    for client_id in client_ids:
        client = open_client(url, client_id, clean=False)  # MQTT 5, long session expiry
        try:
            _wait_suback(client, topic_filter)
        finally:
            client.disconnect()
            client.loop_stop()


def delete_sessions(url: str, client_ids: Sequence[str]) -> None:
    """Discard sessions (and anything left queued in them) so the next contender starts clean."""
    for client_id in client_ids:
        with contextlib.suppress(Exception):
            client = open_client(url, client_id, clean=True)  # expiry 0: gone at disconnect
            client.disconnect()
            client.loop_stop()


def publish_backlog(url: str, backlog: Backlog, progress: Progress) -> float:
    """Publish every message at QoS 1 and wait for the broker's acknowledgements; seconds."""

    def configure(client: mqtt.Client) -> None:
        client.max_inflight_messages_set(PUBLISH_INFLIGHT)

    client = open_client(url, f"bench-publisher-{uuid.uuid4().hex[:8]}", configure=configure)
    task = progress.add_task("publishing", total=len(backlog.messages))
    try:
        publisher = Publisher(client)
        started = time.monotonic()
        for i, (topic, payload) in enumerate(backlog.messages, 1):
            publisher.publish(topic, payload)
            if i % 5000 == 0:
                progress.update(task, completed=i)
        if not publisher.flush(timeout=120):
            raise BenchError("the broker did not acknowledge the whole backlog within 120s")
        return time.monotonic() - started
    finally:
        progress.remove_task(task)
        close_client(client)


def probe_window(url: str, receive_maximum: int = SMALL_RECEIVE_MAXIMUM) -> tuple[int, int]:
    """Whether the broker holds a client to its Receive Maximum, as acknowledging after commit
    relies on: how many unacknowledged messages it sends at first, and how many more after that
    first window is acknowledged in one go (a batch commit). A broker that holds the window
    answers (M, M) for Receive Maximum M."""
    client_id = f"bench-window-{uuid.uuid4().hex[:8]}"
    create_sessions(url, [client_id], f"{PREFIX}/probe/+")  # matches no device topic
    try:
        publisher_client = open_client(url, f"{client_id}-pub")
        try:
            publisher = Publisher(publisher_client)
            for _ in range(20 * receive_maximum):
                publisher.publish(f"{PREFIX}/probe/x", b"x")
            publisher.flush()
        finally:
            close_client(publisher_client)
        mids: list[int] = []
        lock = threading.Lock()

        def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
            with lock:
                mids.append(msg.mid)

        client = manual_ack_client(url, client_id, receive_maximum, on_message)
        client.loop_start()
        try:
            time.sleep(1.0)
            with lock:
                first = list(mids)
                mids.clear()
            for mid in first:
                client.ack(mid, 1)
            time.sleep(1.0)
            with lock:
                then = len(mids)
        finally:
            client.disconnect()
            client.loop_stop()
    finally:
        delete_sessions(url, [client_id])
    return len(first), then


class StatusWatch:
    """Notes when each client announces ``online`` on its status topic (its MQTT connect)."""

    def __init__(self, url: str) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self.client = open_client(url, f"bench-monitor-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        _wait_suback(self.client, status_topic(PREFIX, "+"))

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.payload == b"online" and not msg.retain:
            with self._lock:
                self._seen.setdefault(msg.topic.rsplit("/", 1)[-1], time.monotonic())

    def first_online(self, client_ids: Sequence[str]) -> float | None:
        with self._lock:
            times = [self._seen[c] for c in client_ids if c in self._seen]
        return min(times) if times else None

    def close(self) -> None:
        close_client(self.client)


# -- the database -------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` (URL or key=value connection string)."""
    if "://" in url:
        return urlsplit(url)._replace(path=f"/{name}").geturl()
    return make_conninfo(url, dbname=name)


class BenchDatabase:
    """A database of its own on the given server, migrated, with the bench devices registered."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"bench_ingest_{uuid.uuid4().hex[:12]}"
        self.url = with_database(admin_url, self.name)
        self.created = False

    def create(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.created = True
        migrate(self.url)
        with connect(self.url) as conn:
            import_devices(conn, bench_devices())

    def drop(self) -> None:
        if not self.created:
            return
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
        self.created = False


_COUNT_READINGS = sql.SQL("SELECT {}").format(
    sql.SQL(" + ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(t)) for t in READING_TABLES
    )
)


def count_rows(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def count_readings(conn: psycopg.Connection) -> int:
    row = conn.execute(_COUNT_READINGS).fetchone()
    return int(row[0]) if row else 0


def truncate_readings(conn: psycopg.Connection) -> None:
    tables = (*READING_TABLES, "quarantine")
    conn.execute(
        sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables))
    )


# -- contender processes ------------------------------------------------------------------------


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


class ProcessTree:
    """A contender's process and its children: peak RSS (VmHWM) and a clean stop."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.root = psutil.Process(proc.pid)
        self.peak_kb: dict[int, int] = {}
        self.known: dict[int, psutil.Process] = {proc.pid: self.root}

    def sample(self) -> None:
        """Read every live process's high-water mark; called while it runs and before stopping,
        because VmHWM disappears with the process."""
        with contextlib.suppress(psutil.Error):
            for child in self.root.children(recursive=True):
                self.known.setdefault(child.pid, child)
        for pid in self.known:
            kb = _vm_hwm_kb(pid)
            if kb is not None:
                self.peak_kb[pid] = max(kb, self.peak_kb.get(pid, 0))

    @property
    def peak_mb(self) -> float:
        return sum(self.peak_kb.values()) / 1024

    @property
    def max_process_mb(self) -> float:
        return max(self.peak_kb.values(), default=0) / 1024

    def stop(self) -> str | None:
        """SIGTERM, wait, then kill what is left; a note when it did not stop by itself."""
        try:
            return self._stop_gently()
        finally:
            self._kill_all()  # also when a second Ctrl-C cuts the wait short

    def _stop_gently(self) -> str | None:
        notes = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                notes.append(f"did not exit within {STOP_GRACE_S:.0f}s of SIGTERM; killed")
        # Worker processes outliving their parent are ours to end too.
        leftovers = [p for pid, p in self.known.items() if pid != self.proc.pid]
        for p in leftovers:
            with contextlib.suppress(psutil.Error):
                p.terminate()
        _, alive = psutil.wait_procs(leftovers, timeout=STOP_GRACE_S)
        notes += [f"worker {p.pid} did not exit on SIGTERM; killed" for p in alive]
        return "; ".join(notes) or None

    def _kill_all(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid, p in self.known.items():
            # psutil checks the start time too, so a reused pid is never signalled.
            if pid != self.proc.pid:
                with contextlib.suppress(psutil.Error):
                    p.kill()


@dataclass
class Contender:
    """One way of draining the backlog."""

    key: str
    label: str
    kind: Literal["bare", "naive", "ingest"]
    client_ids: list[str]
    topic_filter: str
    target: int
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1


@dataclass
class Outcome:
    """What one contender did."""

    contender: Contender
    done: int = 0
    seconds: float = 0.0
    connect_s: float | None = None
    publish_s: float = 0.0
    peak_mb: float = 0.0
    max_process_mb: float = 0.0
    processes: int = 0
    drained: bool = False
    rows: int | None = None
    quarantined: int | None = None
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


class LineReader:
    """Reads ``done``/``progress`` lines a bare subscriber prints, timestamped on arrival."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.count = 0
        self.done_at: float | None = None
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream: IO[bytes]) -> None:
        for raw in stream:
            word, _, value = raw.decode(errors="replace").strip().partition(" ")
            if word in ("progress", "done") and value.isdigit():
                self.count = int(value)
            if word == "done" and self.done_at is None:
                self.done_at = time.monotonic()


@dataclass
class Bench:
    """Everything shared by the contenders of one run."""

    broker: Mosquitto
    db: BenchDatabase
    backlog: Backlog
    watch: StatusWatch
    poll: psycopg.Connection
    workdir: Path
    timeout: float


def run_contender(bench: Bench, contender: Contender, progress: Progress) -> Outcome:
    """Queue the backlog for the contender's sessions, start it, time the drain, stop it."""
    outcome = Outcome(contender)
    url = bench.broker.url
    create_sessions(url, contender.client_ids, contender.topic_filter)
    try:
        outcome.publish_s = publish_backlog(url, bench.backlog, progress)
        log_path = bench.workdir / f"{contender.key}.log"
        with log_path.open("wb") as sink:
            outcome = _drain(bench, contender, outcome, sink, log_path, progress)
    finally:
        delete_sessions(url, contender.client_ids)
    if contender.kind == "ingest":
        outcome.rows = count_readings(bench.poll)
        outcome.quarantined = count_rows(bench.poll, "quarantine")
    truncate_readings(bench.poll)
    return outcome


def _drain(
    bench: Bench,
    contender: Contender,
    outcome: Outcome,
    sink: IO[bytes],
    log_path: Path,
    progress: Progress,
) -> Outcome:
    env = {**os.environ, **contender.env}
    bare = contender.kind == "bare"
    task = progress.add_task(contender.label, total=contender.target)
    started = time.monotonic()
    proc = subprocess.Popen(
        contender.command,
        stdout=subprocess.PIPE if bare else sink,
        stderr=sink,
        env=env,
        start_new_session=True,  # the bench stops it (Ctrl-C included), not the terminal
    )
    tree = ProcessTree(proc)
    reader = LineReader(proc.stdout) if bare and proc.stdout is not None else None
    try:
        while True:
            time.sleep(POLL_S)
            now = time.monotonic()
            tree.sample()
            done = reader.count if reader is not None else count_readings(bench.poll)
            progress.update(task, completed=min(done, contender.target))
            if reader is not None and reader.done_at is not None:
                outcome.done, outcome.seconds = done, reader.done_at - started
                outcome.drained = True
                break
            if reader is None and done >= contender.target:
                outcome.done, outcome.seconds = done, now - started
                outcome.drained = True
                break
            if proc.poll() is not None:
                raise BenchError(
                    f"{contender.label} exited with code {proc.returncode}: {tail(log_path, 3)}"
                )
            if now - started > bench.timeout:
                outcome.done, outcome.seconds = done, now - started
                outcome.notes.append(f"timed out after {bench.timeout:.0f}s: rate over {done:,}")
                break
        connected = bench.watch.first_online(contender.client_ids)
        outcome.connect_s = None if connected is None else connected - started
        tree.sample()
    finally:
        progress.remove_task(task)
        note = tree.stop()
        if note:
            outcome.notes.append(note)
    outcome.peak_mb = tree.peak_mb
    outcome.max_process_mb = tree.max_process_mb
    outcome.processes = len(tree.peak_kb)
    return outcome


# -- the contenders' own code (run in child processes) ------------------------------------------


def manual_ack_client(
    mqtt_url: str, client_id: str, receive_maximum: int, on_message: mqtt.CallbackOnMessage
) -> mqtt.Client:
    """A paho MQTT 5 client resuming a persistent session, acknowledging by hand, connected
    (its network loop is the caller's to run).

    Plain paho rather than ``open_client``: the bench sets Receive Maximum itself, the same way
    for every contender and whatever ``open_client`` offers.
    """
    parts = urlsplit(mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    client.manual_ack_set(True)

    def on_connect(c: mqtt.Client, *_: object) -> None:
        # Announced like ingest does, so the bench sees every contender's connect the same way.
        c.publish(status_topic(PREFIX, client_id), b"online", qos=0)

    client.on_connect = on_connect
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    props.ReceiveMaximum = receive_maximum
    client.connect(
        parts.hostname or "127.0.0.1",
        parts.port or 1883,
        keepalive=30,
        clean_start=False,
        properties=props,
    )
    return client


def role_bare(args: argparse.Namespace) -> None:
    """Receive and acknowledge; print progress, and ``done`` once ``--expect`` messages came."""
    count = 0

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal count
        c.ack(msg.mid, msg.qos)
        count += 1
        if count == args.expect:
            print(f"done {count}", flush=True)
        elif count % 2000 == 0:
            print(f"progress {count}", flush=True)

    client = manual_ack_client(args.mqtt_url, args.client_id, args.receive_maximum, on_message)
    signal.signal(signal.SIGTERM, lambda *_: client.disconnect())
    client.loop_forever()


_NAIVE_COLUMNS = {
    Stream.BIN_FILL: (
        "council", "device_id", "ts", "fill_pct", "seq", "battery_v", "temperature_c", "flags",
    ),
    Stream.BUMP: (
        "council", "device_id", "ts", "lat", "lon", "speed_mps", "peak_z_g", "seq",
        "accuracy_m", "heading_deg", "sample_hz", "samples_z_g",
    ),
    Stream.FOOTFALL: (
        "council", "device_id", "zone", "period_start", "period_end", "count", "count_in",
        "count_out", "seq",
    ),
}  # fmt: skip


def _naive_insert(stream: Stream) -> sql.Composed:
    columns = _NAIVE_COLUMNS[stream]
    return sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
        sql.Identifier(table_of(stream)),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )


def role_naive(args: argparse.Namespace) -> None:
    """One INSERT and one commit per message, then the acknowledgement."""
    conn = connect(args.database_url, autocommit=True)
    zones = {d.device_id: d.zone for d in load_devices(conn).values()}
    statements = {stream: _naive_insert(stream) for stream in Stream}

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        parts = parse_topic(PREFIX, msg.topic)
        body: dict[str, Any] = json.loads(msg.payload)
        body.update(council=parts.council, device_id=parts.device_id)
        body["zone"] = zones.get(parts.device_id)
        body.setdefault("flags", [])
        values = [body.get(column) for column in _NAIVE_COLUMNS[parts.stream]]
        conn.execute(statements[parts.stream], values)
        c.ack(msg.mid, msg.qos)

    client = manual_ack_client(args.mqtt_url, args.client_id, args.receive_maximum, on_message)
    signal.signal(signal.SIGTERM, lambda *_: client.disconnect())
    try:
        client.loop_forever()
    finally:
        conn.close()


# -- the run ------------------------------------------------------------------------------------


def cli_flags(executable: str) -> str:
    """The help text of ``smartstreets ingest``, to see which options this checkout has."""
    out = subprocess.run(
        [executable, "ingest", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        check=False,
    )
    return out.stdout + out.stderr


def plan(args: argparse.Namespace, bench_db_url: str, mqtt_url: str) -> list[Contender | Outcome]:
    """The contenders to run, and placeholders for those skipped."""
    me = [sys.executable, str(Path(__file__).resolve())]
    role = [
        "--mqtt-url", mqtt_url, "--receive-maximum", str(RAISED_RECEIVE_MAXIMUM),
        "--database-url", bench_db_url,
    ]  # fmt: skip
    cli = str(Path(sys.executable).with_name("smartstreets"))
    if not Path(cli).exists():
        cli = shutil.which("smartstreets") or cli
    help_text = cli_flags(cli)
    ingest_env = {
        "SMARTSTREETS_DATABASE_URL": bench_db_url,
        "SMARTSTREETS_MQTT_URL": mqtt_url,
        "SMARTSTREETS_MQTT_PREFIX": PREFIX,
    }
    n = args.messages

    def ingest(key: str, label: str, rm: int | None, workers: int) -> Contender | Outcome:
        client_id = f"bench-{key}"
        command = [cli, "ingest", "--no-migrate", "--client-id", client_id]
        if workers > 1:
            command += ["--workers", str(workers)]
        if rm is not None:
            command += ["--receive-maximum", str(rm)]
        ids = [f"{client_id}-{i}" for i in range(1, workers + 1)] if workers > 1 else [client_id]
        topic = f"$share/{SHARE_GROUP}/{TOPIC_FILTER}" if workers > 1 else TOPIC_FILTER
        contender = Contender(key, label, "ingest", ids, topic, n, command, ingest_env, workers)
        missing = [f for f in command if f.startswith("--") and f not in help_text]
        if missing:
            return Outcome(contender, skipped=f"this CLI has no {', '.join(missing)}")
        return contender

    wanted: list[Contender | Outcome] = [
        Contender(
            "bare", "bare paho subscriber", "bare", ["bench-bare"], TOPIC_FILTER, n,
            [*me, "--role", "bare", "--client-id", "bench-bare", "--expect", str(n), *role],
        ),
        Contender(
            "naive", f"naive, first {args.naive_limit:,}", "naive", ["bench-naive"], TOPIC_FILTER,
            args.naive_limit, [*me, "--role", "naive", "--client-id", "bench-naive", *role],
        ),
        ingest("ingest-rm20", f"ingest rm {SMALL_RECEIVE_MAXIMUM}", SMALL_RECEIVE_MAXIMUM, 1),
        ingest("ingest", f"ingest rm {RAISED_RECEIVE_MAXIMUM}", RAISED_RECEIVE_MAXIMUM, 1),
        ingest("ingest-workers2", f"ingest --workers 2, rm {RAISED_RECEIVE_MAXIMUM}",
               RAISED_RECEIVE_MAXIMUM, 2),
    ]  # fmt: skip
    if "--receive-maximum" not in help_text:
        # Until the CLI grows --receive-maximum, still measure what it does out of the box.
        wanted.insert(2, ingest("ingest-default", "ingest (CLI defaults)", None, 1))
    out: list[Contender | Outcome] = []
    for item in wanted:
        key = item.key if isinstance(item, Contender) else item.contender.key
        if key in args.skip:
            continue
        out.append(item)
    return out


def _mb(value: float) -> str:
    return f"{value:,.0f}"


def report(outcomes: list[Outcome], backlog: Backlog) -> None:
    """The results table and the checks against the issue's targets."""
    by_key = {o.contender.key: o for o in outcomes if o.skipped is None}
    bare = by_key.get("bare")
    table = Table(title="Draining the backlog (rm = MQTT 5 Receive Maximum)", title_justify="left")
    for name in ("contender", "messages", "seconds", "msg/s", "vs bare", "connect s", "RSS MB"):
        table.add_column(name, justify="left" if name == "contender" else "right")
    notes: list[str] = []
    for o in outcomes:
        label = o.contender.label
        if o.skipped is not None:
            table.add_row(label, "-", "-", "-", "-", "-", "-")
            notes.append(f"{label}: skipped, {o.skipped}")
            continue
        ratio = f"{o.rate / bare.rate:.2f}" if bare and bare.rate else "-"
        rss = _mb(o.peak_mb) + (f" ({o.processes} proc)" if o.processes > 1 else "")
        if o.contender.kind == "naive":
            notes.append(f"{label}: rate over the first {o.contender.target:,} messages only")
        notes += [f"{label}: {note}" for note in o.notes]
        table.add_row(
            label,
            f"{o.done:,}",
            f"{o.seconds:.2f}",
            f"{o.rate:,.0f}",
            ratio,
            "-" if o.connect_s is None else f"{o.connect_s:.2f}",
            rss,
        )
    console.print(table)
    console.print(
        "seconds: from starting the process until the backlog was drained (rows committed for "
        "ingest and naive, messages acknowledged for bare); connect s: the part of it until the "
        "MQTT session was up; RSS MB: peak (VmHWM), summed over the processes of a run."
    )
    for note in notes:
        console.print(f"note: {note}")

    checks: list[tuple[str, bool | None, str]] = []
    expected = len(backlog.messages)
    for o in outcomes:
        if o.skipped is None and o.contender.kind == "ingest" and o.rows is not None:
            rows_ok = o.rows == expected and o.quarantined == 0
            checks.append(
                (
                    f"{o.contender.label}: rows == messages, quarantine empty",
                    rows_ok if o.drained else None,
                    f"{o.rows:,} rows of {expected:,}, {o.quarantined} quarantined"
                    + ("" if o.drained else " (did not drain in time)"),
                )
            )
    one, two = by_key.get("ingest"), by_key.get("ingest-workers2")
    if one and bare and bare.rate:
        share = one.rate / bare.rate
        checks.append(
            (
                f"single worker >= {RATIO_TARGET:.0%} of bare",
                share >= RATIO_TARGET,
                f"{one.rate:,.0f} / {bare.rate:,.0f} msg/s = {share:.2f}",
            )
        )
    else:
        checks.append((f"single worker >= {RATIO_TARGET:.0%} of bare", None, "not measured"))
    # A single-worker ingest is several processes (MQTT, writer, multiprocessing's resource
    # tracker): the target applies to their sum.
    singles = [
        o
        for o in outcomes
        if o.skipped is None and o.contender.kind == "ingest" and "workers" not in o.contender.key
    ]
    label = f"peak RSS of one ingest worker (all its processes) < {RSS_TARGET_MB} MB"
    if singles:
        worst = max(singles, key=lambda o: o.peak_mb)
        checks.append(
            (
                label,
                worst.peak_mb < RSS_TARGET_MB,
                f"largest {worst.peak_mb:,.0f} MB over {worst.processes} processes "
                f"({worst.contender.label})",
            )
        )
    else:
        checks.append((label, None, "no run"))
    if one and two:
        checks.append(
            (
                "--workers 2 faster than one worker",
                two.rate > one.rate,
                f"{two.rate:,.0f} vs {one.rate:,.0f} msg/s = {two.rate / one.rate:.2f}x",
            )
        )
    else:
        checks.append(("--workers 2 faster than one worker", None, "not measured"))
    small = by_key.get("ingest-rm20")
    if small and one and one.rate:
        console.print(
            f"receive maximum {SMALL_RECEIVE_MAXIMUM} drains at {small.rate:,.0f} msg/s, "
            f"{small.rate / one.rate:.2f}x the rate with {RAISED_RECEIVE_MAXIMUM}."
        )
    for name, ok, detail in checks:
        verdict = "[yellow]n/a [/]" if ok is None else "[green]PASS[/]" if ok else "[red]FAIL[/]"
        console.print(f"{verdict}  {name}: {detail}")


def run(args: argparse.Namespace) -> int:
    """The whole bench; returns the exit code."""
    console.print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}; Python {platform.python_version()}"
        f"; paho-mqtt {paho.mqtt.__version__}; load average {os.getloadavg()[0]:.2f}"
    )
    with contextlib.ExitStack() as stack:
        if args.log_dir is not None:
            workdir = args.log_dir
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        broker = Mosquitto(workdir)
        console.print(f"broker: {broker.version()} on 127.0.0.1:{broker.port} (max_inflight 20)")
        stack.callback(broker.stop)
        broker.start()
        first, then = probe_window(broker.url)
        held = first <= SMALL_RECEIVE_MAXIMUM and then <= SMALL_RECEIVE_MAXIMUM
        console.print(
            f"broker flow control: with Receive Maximum {SMALL_RECEIVE_MAXIMUM} it sent {first} "
            f"unacknowledged messages, then {then} more once those were acknowledged together "
            f"({'window held' if held else '[red]window NOT held[/]'})"
        )

        db = BenchDatabase(args.database_url)
        stack.callback(db.drop)
        try:
            db.create()
        except psycopg.OperationalError as exc:
            raise BenchError(
                f"database {mask_url(args.database_url)}: {str(exc).strip().splitlines()[0]}"
            ) from exc
        poll = stack.enter_context(connect(db.url, autocommit=True))
        console.print(
            f"database: PostgreSQL {server_version(poll)} ({storage_of(poll)} storage), "
            f"{mask_url(db.url)}"
        )

        with console.status("building the backlog"):
            started = time.monotonic()
            backlog = build_backlog(args.messages, args.seed)
        mix = ", ".join(f"{t} {c:,}" for t, c in sorted(backlog.per_table.items()))
        console.print(
            f"backlog: {len(backlog.messages):,} QoS 1 messages, {backlog.nbytes / 1e6:.1f} MB "
            f"({mix}), seed {args.seed}, built in {time.monotonic() - started:.1f}s"
        )

        watch = StatusWatch(broker.url)
        stack.callback(watch.close)
        bench = Bench(broker, db, backlog, watch, poll, workdir, args.timeout)
        outcomes: list[Outcome] = []
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with progress:
            for item in plan(args, db.url, broker.url):
                if isinstance(item, Outcome):
                    outcomes.append(item)
                    continue
                outcome = run_contender(bench, item, progress)
                outcomes.append(outcome)
                progress.console.print(
                    f"{item.label}: {outcome.done:,} in {outcome.seconds:.2f}s = "
                    f"{outcome.rate:,.0f} msg/s (backlog published in {outcome.publish_s:.1f}s)"
                )
        report(outcomes, backlog)
        # Other work on the machine skews every rate; the load average shows whether there was.
        console.print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


# -- command line -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the bench is usually run from scripts.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _skip_list(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in (*CONTENDER_KEYS, "ingest-default")]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown contender {', '.join(unknown)} (expected {', '.join(CONTENDER_KEYS)})"
        )
    return keys


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    default_db = (
        os.environ.get("SMARTSTREETS_BENCH_DATABASE_URL")
        or os.environ.get("SMARTSTREETS_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    parser = _Parser(
        prog="bench/ingest.py",
        description="Measure how fast ingest drains a broker backlog into committed rows.",
    )
    parser.add_argument("--messages", type=_positive, default=200_000, help="backlog size")
    parser.add_argument(
        "--database-url",
        default=default_db,
        help="server to create the bench database on (default: $SMARTSTREETS_BENCH_DATABASE_URL,"
        " $SMARTSTREETS_TEST_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument(
        "--naive-limit",
        type=_positive,
        default=20_000,
        help="the naive ingestor drains only this many messages (its rate is over those)",
    )
    parser.add_argument(
        "--skip",
        type=_skip_list,
        action="extend",
        default=[],
        help=f"contenders to leave out, comma-separated: {', '.join(CONTENDER_KEYS)}",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the backlog")
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=120,
        help="seconds a contender may take; a slower one is stopped and rated on what it did",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="keep the broker's and each contender's log here (default: a temporary directory)",
    )
    # The contenders' child processes re-enter this file with a role.
    parser.add_argument("--role", choices=("bench", "bare", "naive"), default="bench",
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--mqtt-url", help=argparse.SUPPRESS)
    parser.add_argument("--client-id", help=argparse.SUPPRESS)
    parser.add_argument("--receive-maximum", type=_positive, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=_positive, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.naive_limit = min(args.naive_limit, args.messages)
    if args.role != "bench" and not (args.mqtt_url and args.client_id and args.receive_maximum):
        parser.error("--role needs --mqtt-url, --client-id and --receive-maximum")
    if args.role == "bare" and not args.expect:
        parser.error("--role bare needs --expect")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same way out as Ctrl-C, so every process and the database are cleaned up.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "bare":
        role_bare(args)
        return 0
    if args.role == "naive":
        role_naive(args)
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Which storage the migrations chose is printed with the database line; its warning about
    # TimescaleDB not being preloaded would only repeat that.
    logging.getLogger("ingest.db.migrate").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, _interrupt)
    # Started in the background by a script, SIGINT comes ignored; the bench wants Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run(args)
    except KeyboardInterrupt:
        console.print("interrupted; cleaned up")
        return 130
    except (BenchError, IngestError, psycopg.Error, OSError) as exc:
        console.print(f"[red]error:[/] {str(exc).strip().splitlines()[0]}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
