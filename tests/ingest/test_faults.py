"""Nothing lost, nothing twice: ingest through broker restarts, database restarts, SIGKILL and
scale-out, against real services.

The broker-side tests run their own Mosquitto (skipped where no mosquitto binary exists): the
embedded amqtt broker speaks only MQTT 3.1.1 (no shared subscriptions) and did not redeliver a
killed client's unacknowledged messages when tried, so it cannot show these guarantees.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from paho.mqtt.enums import MQTTProtocolVersion

from deploy.embedded import EmbeddedPostgres, free_port
from ingest.contract.topics import Stream, build_topic
from ingest.db.connect import connect
from ingest.db.migrate import migrate
from ingest.db.registry import DeviceCreate, import_devices
from ingest.mqtt import (
    BrokerAddress,
    Publisher,
    close_client,
    negotiate_protocol,
    open_client,
    wait_online,
)
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.conftest import REPO
from tests.helpers import wait_for
from tests.services import OwnMosquitto

BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
BINS = 20


class Stream_:
    """A stream of messages with known outcomes: valid bin readings and malformed ones."""

    def __init__(self, prefix: str, council: str, uid: str) -> None:
        self.prefix, self.council, self.uid = prefix, council, uid
        self.bins = [f"fb-{uid}-{i}" for i in range(BINS)]
        self.sent_valid = 0
        self.sent_bad = 0

    def register(self, conn: psycopg.Connection) -> None:
        conn.execute(
            "INSERT INTO council (slug, name) VALUES (%s, 'x') ON CONFLICT DO NOTHING",
            (self.council,),
        )
        import_devices(
            conn,
            [
                DeviceCreate(
                    council=self.council,
                    kind="bin",
                    device_id=b,
                    lat=52.6,
                    lon=-0.7,
                    capacity_litres=240,
                )
                for b in self.bins
            ],
        )

    def messages(self, n: int, bad_every: int = 50) -> list[tuple[str, bytes]]:
        """The next ``n`` messages; every ``bad_every``-th is malformed (and unique)."""
        out = []
        for _ in range(n):
            i = self.sent_valid + self.sent_bad
            device = self.bins[i % BINS]
            topic = build_topic(self.prefix, self.council, Stream.BIN_FILL, device)
            if i % bad_every == bad_every - 1:
                out.append((topic, f"{{broken {self.uid} {i}".encode()))
                self.sent_bad += 1
            else:
                ts = BASE + timedelta(seconds=i)
                body = json.dumps({"ts": ts.isoformat(), "fill_pct": i % 100, "seq": i})
                out.append((topic, body.encode()))
                self.sent_valid += 1
        return out

    def stored(self, conn: psycopg.Connection) -> tuple[int, int, int]:
        """(rows, quarantine rows, quarantine copies) stored for this stream so far."""
        rows = conn.execute(
            "SELECT count(*) FROM bin_fill WHERE council = %s", (self.council,)
        ).fetchone()
        q = conn.execute(
            "SELECT count(*), coalesce(sum(copies), 0) FROM quarantine WHERE council = %s",
            (self.council,),
        ).fetchone()
        assert rows is not None and q is not None
        return int(rows[0]), int(q[0]), int(q[1])

    def complete(self, conn: psycopg.Connection) -> bool:
        return self.stored(conn)[:2] == (self.sent_valid, self.sent_bad)

    def assert_exactly_once(self, conn: psycopg.Connection) -> None:
        """Every valid message is one row, every malformed one is one quarantine row, once."""
        assert self.stored(conn) == (self.sent_valid, self.sent_bad, self.sent_bad)
        dupes = conn.execute(
            "SELECT count(*) FROM (SELECT device_id, ts FROM bin_fill "
            "WHERE council = %s GROUP BY 1, 2 HAVING count(*) > 1) d",
            (self.council,),
        ).fetchone()
        assert dupes == (0,)


def publish(url: str, client_id: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 and return once the broker has acknowledged every message."""
    client = open_client(url, client_id)
    pub = Publisher(client)
    for topic, body in messages:
        pub.publish(topic, body)
    assert pub.flush(timeout=60)
    close_client(client)


def _settings(uid: str, **kw: object) -> IngestSettings:
    return IngestSettings.model_validate(
        {"client_id": f"ingest-{uid}", "flush_ms": 50, "batch_size": 500, "log_every_s": 3600, **kw}
    )


def test_broker_restart_mid_stream(
    database_url: str, conn: psycopg.Connection, mosquitto: OwnMosquitto, prefix: str, uid: str
) -> None:
    """Messages before, during and after a broker restart are each stored exactly once."""
    stream = Stream_(prefix, f"br-{uid}", uid)
    stream.register(conn)
    worker = IngestWorker(database_url, mosquitto.url, prefix, _settings(uid))
    worker.start()
    try:
        publish(mosquitto.url, f"pub1-{uid}", stream.messages(3000))
        wait_for(lambda: stream.stored(conn)[0] > 0, what="first rows")
        mosquitto.stop()
        mosquitto.start()
        publish(mosquitto.url, f"pub2-{uid}", stream.messages(3000))
        wait_for(lambda: stream.complete(conn), timeout=60, what="every message stored")
    finally:
        worker.stop()
    stream.assert_exactly_once(conn)


def test_database_restart_mid_stream(tmp_path: Path, mqtt_url: str, prefix: str, uid: str) -> None:
    """Ingest stops acknowledging while the database is down and loses nothing."""
    pg = EmbeddedPostgres(tmp_path / "pg")
    url = pg.start()
    migrate(url)
    stream = Stream_(prefix, f"dr-{uid}", uid)
    with connect(url, autocommit=True) as c:
        stream.register(c)
    worker = IngestWorker(url, mqtt_url, prefix, _settings(uid))
    worker.start()
    try:
        publish(mqtt_url, f"pub1-{uid}", stream.messages(2000))
        with connect(url, autocommit=True) as c:
            wait_for(lambda: stream.stored(c)[0] > 0, what="first rows")
        pg.stop()
        publish(mqtt_url, f"pub2-{uid}", stream.messages(2000))
        wait_for(lambda: worker.metrics.write_errors._value.get() > 0, what="a failed write")
        assert pg.start() == url
        with connect(url, autocommit=True) as c:
            wait_for(lambda: stream.complete(c), timeout=60, what="every message stored")
            stream.assert_exactly_once(c)
    finally:
        worker.stop()
        pg.stop()


def _ingest_process(
    database_url: str, mqtt_url: str, prefix: str, uid: str, *options: str
) -> subprocess.Popen[bytes]:
    """``smartstreets ingest`` as a process of its own (small batches), with ``options``."""
    env = dict(
        os.environ,
        SMARTSTREETS_DATABASE_URL=database_url,
        SMARTSTREETS_MQTT_URL=mqtt_url,
        SMARTSTREETS_MQTT_PREFIX=prefix,
        SMARTSTREETS_INGEST_BATCH_SIZE="200",
        SMARTSTREETS_INGEST_FLUSH_MS="20",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy",
            "--log-level",
            "WARNING",
            "ingest",
            "--no-migrate",
            "--client-id",
            f"ingest-{uid}",
            *options,
        ],
        cwd=REPO,
        env=env,
    )


def test_sigkill_mid_batch_loses_nothing(
    database_url: str, conn: psycopg.Connection, mosquitto: OwnMosquitto, prefix: str, uid: str
) -> None:
    """An ingest process killed with SIGKILL while writing, then restarted, stores every
    message once, and a malformed message redelivered after the kill is not counted twice."""
    mqtt_url = mosquitto.url
    stream = Stream_(prefix, f"kill-{uid}", uid)
    stream.register(conn)
    first = _ingest_process(database_url, mqtt_url, prefix, uid)
    try:
        # The session must exist before publishing, or the broker has nowhere to queue.
        wait_online(mqtt_url, prefix, f"ingest-{uid}")
        messages = stream.messages(40_000, bad_every=40)
        # Publish while ingest is writing, and kill it in the middle of the stream.
        publisher = threading.Thread(target=publish, args=(mqtt_url, f"pub-{uid}", messages))
        publisher.start()
        wait_for(lambda: stream.stored(conn)[0] > 2000, what="ingest writing")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        publisher.join(timeout=120)
        partial = stream.stored(conn)[0]
        assert partial < stream.sent_valid, "killed too late to test anything"
    finally:
        if first.poll() is None:
            first.kill()
    second = _ingest_process(database_url, mqtt_url, prefix, uid)
    try:
        wait_for(lambda: stream.complete(conn), timeout=90, what="every message stored")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    stream.assert_exactly_once(conn)


def test_two_workers_share_a_stream(
    database_url: str, conn: psycopg.Connection, mosquitto: OwnMosquitto, prefix: str, uid: str
) -> None:
    """Two workers on one shared subscription split the stream: all stored, none twice."""
    mqtt_url = mosquitto.url
    assert negotiate_protocol(BrokerAddress.parse(mqtt_url)) == MQTTProtocolVersion.MQTTv5
    stream = Stream_(prefix, f"sh-{uid}", uid)
    stream.register(conn)
    workers = [
        IngestWorker(
            database_url, mqtt_url, prefix, _settings(f"{uid}-{i}", share_group=f"g-{uid}")
        )
        for i in (1, 2)
    ]
    for w in workers:
        w.start()
    try:
        publish(mqtt_url, f"pub-{uid}", stream.messages(4000))
        wait_for(lambda: stream.complete(conn), timeout=60, what="every message stored")
    finally:
        for w in workers:
            w.stop()
    stream.assert_exactly_once(conn)
    received = [w.stats["received"] for w in workers]
    assert all(r > 0 for r in received), received
    assert sum(received) == stream.sent_valid + stream.sent_bad


def test_workers_command_runs_a_shared_group(
    database_url: str, conn: psycopg.Connection, mosquitto: OwnMosquitto, prefix: str, uid: str
) -> None:
    """`smartstreets ingest --workers 2` runs two processes that together store a stream once,
    each serving its own /metrics, and stops cleanly on SIGTERM."""
    stream = Stream_(prefix, f"wk-{uid}", uid)
    stream.register(conn)
    port = free_port()
    env = dict(
        os.environ,
        SMARTSTREETS_DATABASE_URL=database_url,
        SMARTSTREETS_MQTT_URL=mosquitto.url,
        SMARTSTREETS_MQTT_PREFIX=prefix,
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy",
            "--log-level",
            "WARNING",
            "ingest",
            "--no-migrate",
            "--workers",
            "2",
            "--client-id",
            f"ingest-{uid}",
            "--metrics-port",
            str(port),
        ],
        cwd=REPO,
        env=env,
    )
    try:
        for i in (1, 2):
            wait_online(mosquitto.url, prefix, f"ingest-{uid}-{i}")
        publish(mosquitto.url, f"pub-{uid}", stream.messages(3000))
        wait_for(lambda: stream.complete(conn), timeout=60, what="every message stored")

        def received() -> list[float]:
            counts = []
            for p in (port, port + 1):
                with urllib.request.urlopen(f"http://127.0.0.1:{p}/metrics", timeout=5) as r:
                    text = r.read().decode()
                counts.append(
                    sum(
                        float(line.rsplit(" ", 1)[1])
                        for line in text.splitlines()
                        if line.startswith("smartstreets_ingest_received_total")
                    )
                )
            return counts

        # A worker counts a batch once its writer reports the commit, a moment after the rows
        # become visible, so the counters may trail the table briefly.
        wait_for(lambda: sum(received()) >= 3000, timeout=30, what="every message counted")
        counts = received()
        assert all(r > 0 for r in counts) and sum(counts) == 3000, counts
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    stream.assert_exactly_once(conn)
