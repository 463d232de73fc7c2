"""The quarantine to act on: listing, showing and replaying it from the command line and the
admin API, and counting each distinct delivery of a quarantined message exactly once."""

import json
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.auth import Scope, create_token
from api.settings import ApiSettings
from deploy.cli import app as cli_app
from ingest.contract.decode import Rejection, decode
from ingest.contract.topics import Stream, build_topic
from ingest.db.registry import DeviceCreate, import_devices
from ingest.db.writer import Message, StreamWriter
from ingest.mqtt import wait_online
from ingest.settings import ServiceSettings
from tests.helpers import wait_for
from tests.ingest.test_faults import Stream_, _ingest_process, publish
from tests.services import OwnMosquitto

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)


def _reading(i: int = 0) -> bytes:
    ts = NOW - timedelta(hours=1, seconds=i)
    return json.dumps({"ts": ts.isoformat(), "fill_pct": 40 + i}).encode()


def _register(conn: psycopg.Connection, council: str, device_id: str, kind: str = "bin") -> None:
    extra: dict[str, Any] = {"capacity_litres": 240} if kind == "bin" else {"zone": "Market"}
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind=kind, device_id=device_id, lat=52.6, lon=-0.7, **extra
            )
        ],
    )


def _deliver(
    conn: psycopg.Connection,
    prefix: str,
    messages: list[tuple[str, bytes, bool, int | None]],
    *,
    client: str | None = "ingest-test",
    commit: bool = True,
) -> None:
    """Write (topic, payload, DUP, packet id) deliveries as the ingest writer does; without
    ``commit`` the transaction is rolled back, as when ingest dies before committing."""
    batch = []
    for topic, payload, dup, packet in messages:
        at = datetime.now(UTC)
        decoded = decode(prefix, topic, payload, at)
        batch.append(Message(topic, payload, at, decoded, dup, client, packet))
    with conn.transaction(force_rollback=not commit):
        StreamWriter(conn).write(batch)


def _copies(conn: psycopg.Connection, topic: str) -> list[int]:
    rows = conn.execute("SELECT copies FROM quarantine WHERE topic = %s", (topic,)).fetchall()
    return [r[0] for r in rows]


def _cli(database_url: str, prefix: str, *args: str) -> Any:
    env = {"SMARTSTREETS_DATABASE_URL": database_url, "SMARTSTREETS_MQTT_PREFIX": prefix}
    return runner.invoke(cli_app, ["quarantine", *args], env=env)


# -- counting ------------------------------------------------------------------------------


def test_distinct_deliveries_of_the_same_bytes_each_count(
    conn: psycopg.Connection, prefix: str, council: str, uid: str
) -> None:
    """The same bad bytes delivered again (new packet id, or the same id reused after its
    acknowledgement, without DUP) is a new copy each time, in one batch or in several."""
    topic = build_topic(prefix, council, Stream.BIN_FILL, f"b-{uid}")
    bad = b"{broken"
    _deliver(conn, prefix, [(topic, bad, False, 1), (topic, bad, False, 2)])
    _deliver(conn, prefix, [(topic, bad, False, 1)])
    _deliver(conn, prefix, [(topic, bad, False, None)], client=None)
    assert _copies(conn, topic) == [4]


def test_redelivery_of_an_uncommitted_delivery_counts(
    conn: psycopg.Connection, prefix: str, council: str, uid: str
) -> None:
    """A delivery lost before its commit comes back with DUP set; though an earlier, distinct
    delivery of the same bytes is already in quarantine, it is a new copy."""
    topic = build_topic(prefix, council, Stream.BIN_FILL, f"b-{uid}")
    bad = b"{broken"
    _deliver(conn, prefix, [(topic, bad, False, 7)])
    _deliver(conn, prefix, [(topic, bad, False, 8)], commit=False)  # ingest dies here
    assert _copies(conn, topic) == [1]
    _deliver(conn, prefix, [(topic, bad, True, 8)])
    assert _copies(conn, topic) == [2]


def test_redelivery_of_a_committed_delivery_does_not_count(
    conn: psycopg.Connection, prefix: str, council: str, uid: str
) -> None:
    """A delivery committed but never acknowledged comes back with DUP set, as often as the
    acknowledgement is lost: it stays one copy; so does a resend in the same batch."""
    topic = build_topic(prefix, council, Stream.BIN_FILL, f"b-{uid}")
    bad = b"{broken"
    _deliver(conn, prefix, [(topic, bad, False, 9)])
    _deliver(conn, prefix, [(topic, bad, True, 9)])
    _deliver(conn, prefix, [(topic, bad, True, 9)])
    assert _copies(conn, topic) == [1]
    # Reconnected while the original was still being written: both in one batch.
    _deliver(conn, prefix, [(topic, bad, False, 10), (topic, bad, True, 10)])
    assert _copies(conn, topic) == [2]


def test_redelivery_on_a_packet_id_of_other_bytes_counts(
    conn: psycopg.Connection, prefix: str, council: str, uid: str
) -> None:
    """A DUP delivery whose packet id was last counted for another message is not a repeat."""
    topic = build_topic(prefix, council, Stream.BIN_FILL, f"b-{uid}")
    _deliver(conn, prefix, [(topic, b"{other", False, 11)])
    _deliver(conn, prefix, [(topic, b"{broken", False, 12)])
    _deliver(conn, prefix, [(topic, b"{broken", True, 11)])
    rows = conn.execute(
        "SELECT payload, copies FROM quarantine WHERE topic = %s ORDER BY payload", (topic,)
    ).fetchall()
    assert [(bytes(p), c) for p, c in rows] == [(b"{broken", 2), (b"{other", 1)]


# -- command line --------------------------------------------------------------------------


def _snapshot(conn: psycopg.Connection, council: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT id, reason, copies, received_at, last_received_at FROM quarantine "
        "WHERE council = %s ORDER BY id",
        (council,),
    ).fetchall()


def _fills(conn: psycopg.Connection, device_id: str) -> int:
    row = conn.execute("SELECT count(*) FROM bin_fill WHERE device_id = %s", (device_id,))
    return int(row.fetchone()[0])  # type: ignore[index]


def test_cli_list_show_and_replay(
    database_url: str, conn: psycopg.Connection, prefix: str, council: str, uid: str
) -> None:
    """A reading of an unknown device is quarantined; once the device is registered, replay
    stores it once and deletes its row; a replay again changes nothing; what is still bad
    stays with its reason renewed; phones' messages are skipped."""
    device, counter = f"b-{uid}", f"k-{uid}"
    bin_topic = build_topic(prefix, council, Stream.BIN_FILL, device)
    ctr_topic = build_topic(prefix, council, Stream.BIN_FILL, counter)
    bump_topic = build_topic(prefix, council, Stream.BUMP, f"phone-{uid}")
    _deliver(
        conn,
        prefix,
        [
            (bin_topic, _reading(0), False, 1),
            (bin_topic, _reading(0), False, 2),
            (bin_topic, b"\xff\xfe not utf-8", False, 3),
            (ctr_topic, _reading(1), False, 4),
            (bump_topic, b"{broken", False, 5),
        ],
    )
    listed = _cli(database_url, prefix, "list", "--council", council, "--json")
    assert listed.exit_code == 0, listed.output
    reasons = sorted(r["reason"] for r in json.loads(listed.output))
    assert [r.split(":")[0] for r in reasons] == [
        "invalid JSON",
        "invalid UTF-8 at byte 0",
        "unknown device",
        "unknown device",
    ]
    by_payload = {}
    for r in json.loads(listed.output):
        shown = _cli(database_url, prefix, "show", str(r["id"]), "--json")
        assert shown.exit_code == 0, shown.output
        by_payload[json.loads(shown.output)["payload"]] = json.loads(shown.output)
    assert by_payload[b"\xff\xfe not utf-8".hex()]["payload_encoding"] == "hex"
    assert by_payload[_reading(0).decode()]["copies"] == 2
    assert by_payload[_reading(0).decode()]["device_id"] == device
    text = _cli(database_url, prefix, "list", "--council", council, "--reason", "UNKNOWN dev")
    assert text.exit_code == 0 and device in text.output and "invalid UTF-8" not in text.output

    _register(conn, council, device)
    _register(conn, council, counter, kind="counter")
    before = _snapshot(conn, council)
    dry = _cli(database_url, prefix, "replay", "--council", council, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would be stored: 1" in dry.output and "dry run" in dry.output
    assert _snapshot(conn, council) == before and _fills(conn, device) == 0

    done = _cli(database_url, prefix, "replay", "--council", council)
    assert done.exit_code == 0, done.output
    assert "stored: 1 (already present: 0)" in done.output
    assert "still failing: 2" in done.output and "wrong stream for device" in done.output
    assert "skipped: 1 (phone message" in done.output
    assert _fills(conn, device) == 1
    after = conn.execute(
        "SELECT device_id, reason, copies FROM quarantine WHERE council = %s ORDER BY id",
        (council,),
    ).fetchall()
    assert after[0][:2] == (device, "invalid UTF-8 at byte 0")
    assert after[1][0] == counter and after[1][1].startswith("wrong stream for device")
    assert after[1][2] == 1  # a replay is not a new copy
    assert after[2][0] != f"phone-{uid}"  # the phone's pseudonym

    settled = _snapshot(conn, council)
    again = _cli(database_url, prefix, "replay", "--council", council)
    assert again.exit_code == 0 and "stored: 0" in again.output
    assert _snapshot(conn, council) == settled and _fills(conn, device) == 1


def test_replay_skips_drives_refused_over_http(
    database_url: str, conn: psycopg.Connection, prefix: str, council: str
) -> None:
    """A drive refused over HTTP sits in quarantine under an ``http/`` topic: not replayed."""
    topic = f"http/v1/{council}/drives"
    at = datetime.now(UTC)
    with conn.transaction():
        StreamWriter(conn).write([Message(topic, b"{}", at, Rejection("drive: bad"))])
    (qid,) = conn.execute("SELECT id FROM quarantine WHERE topic = %s", (topic,)).fetchone()  # type: ignore[misc]
    done = _cli(database_url, prefix, "replay", "--id", str(qid))
    assert done.exit_code == 0, done.output
    assert "skipped: 1 (HTTP upload" in done.output
    assert _copies(conn, topic) == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--limit", "0"], "limit"),
        (["show", "999999999999"], "no quarantined message"),
        (["show", "nine"], "Invalid value"),
    ],
)
def test_cli_refuses_bad_arguments(
    database_url: str, prefix: str, args: list[str], message: str
) -> None:
    """Bad arguments end with a short error and a non-zero exit, never a traceback."""
    result = _cli(database_url, prefix, *args)
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert "Traceback" not in result.output


# -- admin API -----------------------------------------------------------------------------


@pytest.fixture
def client(database_url: str, mqtt_url: str, prefix: str) -> Iterator[TestClient]:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url, mqtt_prefix=prefix)
    with TestClient(create_app(ApiSettings(health_cache_s=0), services)) as c:
        yield c


def test_admin_api_lists_and_replays(
    client: TestClient, conn: psycopg.Connection, prefix: str, council: str, uid: str
) -> None:
    """A council's admin token lists and replays its quarantine; another council's admin
    token or a crew token is refused (403), no token is unauthorised (401)."""
    device = f"b-{uid}"
    topic = build_topic(prefix, council, Stream.BIN_FILL, device)
    _deliver(conn, prefix, [(topic, _reading(0), False, 1), (topic, b"{broken", False, 2)])
    other = f"o-{uid}"
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (other,))
    admin = {"Authorization": f"Bearer {create_token(conn, council, Scope.ADMIN)}"}
    crew = {"Authorization": f"Bearer {create_token(conn, council, Scope.CREW)}"}
    foreign = {"Authorization": f"Bearer {create_token(conn, other, Scope.ADMIN)}"}
    url = f"/v1/councils/{council}/quarantine"

    listed = client.get(url, headers=admin)
    assert listed.status_code == 200, listed.text
    assert sorted(r["reason"] for r in listed.json())[1] == "unknown device"
    assert len(client.get(url, params={"reason": "json"}, headers=admin).json()) == 1
    assert client.get(url).status_code == 401
    assert client.get(url, headers=crew).status_code == 403
    assert client.get(url, headers=foreign).status_code == 403
    assert client.post(f"{url}/replay", json={}, headers=foreign).status_code == 403
    assert client.post(f"{url}/replay").status_code == 401
    # The other council's admin sees nothing of this council on its own path.
    assert client.get(f"/v1/councils/{other}/quarantine", headers=foreign).json() == []

    _register(conn, council, device)
    dry = client.post(f"{url}/replay", json={"dry_run": True}, headers=admin)
    assert dry.status_code == 200, dry.text
    assert dry.json()["stored"] == 1 and _fills(conn, device) == 0
    done = client.post(f"{url}/replay", headers=admin)  # no body: everything of the council
    assert done.status_code == 200, done.text
    assert done.json()["stored"] == 1 and sum(done.json()["failing"].values()) == 1
    assert _fills(conn, device) == 1
    assert client.post(f"{url}/replay", json={"ids": [0]}, headers=admin).status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/councils/{council}/quarantine/replay" in paths


# -- end to end ----------------------------------------------------------------------------


class _SameBadBytes(Stream_):
    """Valid readings, and every ``bad_every``-th message the very same bad bytes on one topic:
    distinct deliveries that only exact counting tells apart."""

    def messages(self, n: int, bad_every: int = 50) -> list[tuple[str, bytes]]:
        topic = build_topic(self.prefix, self.council, Stream.BIN_FILL, self.bins[0])
        bad = f"{{broken {self.uid}".encode()
        return [
            (topic, bad) if body.startswith(b"{broken") else (t, body)
            for t, body in super().messages(n, bad_every)
        ]

    def complete(self, conn: psycopg.Connection) -> bool:
        rows, _, copies = self.stored(conn)
        return rows == self.sent_valid and copies >= self.sent_bad


def test_sigkill_mid_batch_counts_each_delivery_once(
    database_url: str, conn: psycopg.Connection, mosquitto: OwnMosquitto, prefix: str, uid: str
) -> None:
    """Ingest killed with SIGKILL while writing a stream in which the same bad bytes recur,
    then restarted: one quarantine row whose copies are exactly the deliveries published (the
    redelivered ones counted if their batch died uncommitted, not if it had committed)."""
    stream = _SameBadBytes(prefix, f"qk-{uid}", uid)
    stream.register(conn)
    first = _ingest_process(database_url, mosquitto.url, prefix, uid)
    try:
        wait_online(mosquitto.url, prefix, f"ingest-{uid}")
        messages = stream.messages(40_000, bad_every=20)
        publisher = threading.Thread(target=publish, args=(mosquitto.url, f"pub-{uid}", messages))
        publisher.start()
        wait_for(lambda: stream.stored(conn)[0] > 2000, what="ingest writing")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        publisher.join(timeout=120)
        assert stream.stored(conn)[0] < stream.sent_valid, "killed too late to test anything"
    finally:
        if first.poll() is None:
            first.kill()
    second = _ingest_process(database_url, mosquitto.url, prefix, uid)
    try:
        wait_for(lambda: stream.complete(conn), timeout=90, what="every message stored")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert stream.stored(conn) == (stream.sent_valid, 1, stream.sent_bad)
