"""Ingest against a real broker and a real database: stored once, or quarantined with a reason."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.contract.topics import Stream, build_topic
from ingest.db.pseudonyms import period_of_pseudonym
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.helpers import publish_all, wait_for

TS = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture
def devices(conn: psycopg.Connection, council: str, uid: str) -> dict[str, str]:
    """A registered bin and counter of this test's council."""
    bin_id, counter_id = f"bin-{uid}", f"ctr-{uid}"
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council,
                kind="bin",
                device_id=bin_id,
                lat=52.67,
                lon=-0.72,
                capacity_litres=240,
            ),
            DeviceCreate(
                council=council,
                kind="counter",
                device_id=counter_id,
                lat=52.67,
                lon=-0.72,
                zone="high-street",
            ),
        ],
    )
    return {"bin": bin_id, "counter": counter_id}


@pytest.fixture
def worker(database_url: str, mqtt_url: str, prefix: str, uid: str) -> Iterator[IngestWorker]:
    """An ingest worker of this test's own (own client id, own topic prefix)."""
    settings = IngestSettings(client_id=f"ingest-{uid}", flush_ms=50, log_every_s=3600)
    w = IngestWorker(database_url, mqtt_url, prefix, settings)
    w.start()
    yield w
    w.stop()


def _count(conn: psycopg.Connection, table: str, device_id: str) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM {table} WHERE device_id = %s",  # noqa: S608 (fixed names)
        (device_id,),
    ).fetchone()
    return int(row[0]) if row else 0


def _bin(fill: float, ts: datetime = TS) -> bytes:
    return json.dumps(
        {"ts": ts.isoformat(), "fill_pct": fill, "battery_v": 3.9, "flags": ["lid_open"]}
    ).encode()


def test_each_stream_is_stored(
    worker: IngestWorker,
    conn: psycopg.Connection,
    mqtt_url: str,
    prefix: str,
    council: str,
    devices: dict[str, str],
    uid: str,
) -> None:
    """A valid reading of each stream lands in its table with its council and values."""
    phone = f"trip-{uid}"
    publish_all(
        mqtt_url,
        f"pub-{uid}",
        [
            (build_topic(prefix, council, Stream.BIN_FILL, devices["bin"]), _bin(55.5)),
            (
                build_topic(prefix, council, Stream.BUMP, phone),
                json.dumps(
                    {
                        "ts": TS.isoformat(),
                        "lat": 52.671,
                        "lon": -0.721,
                        "speed_mps": 11.0,
                        "peak_z_g": 1.7,
                        "heading_deg": 90.0,
                        "sample_hz": 50.0,
                        "samples_z_g": [0.0, 1.7, -0.8],
                    }
                ).encode(),
            ),
            (
                build_topic(prefix, council, Stream.FOOTFALL, devices["counter"]),
                json.dumps(
                    {
                        "period_start": TS.isoformat(),
                        "period_end": (TS + timedelta(minutes=15)).isoformat(),
                        "count": 42,
                        "count_in": 20,
                        "count_out": 22,
                    }
                ).encode(),
            ),
        ],
    )
    wait_for(lambda: _count(conn, "footfall_count", devices["counter"]), what="footfall row")
    wait_for(lambda: _count(conn, "bin_fill", devices["bin"]), what="bin row")
    bumps = "SELECT device_id, lat, peak_z_g, samples_z_g FROM bump_report WHERE council = %s"
    wait_for(lambda: conn.execute(bumps, (council,)).fetchone(), what="bump row")
    row = conn.execute(
        "SELECT council, ts, fill_pct, flags FROM bin_fill WHERE device_id = %s", (devices["bin"],)
    ).fetchone()
    assert row == (council, TS, 55.5, ["lid_open"])
    bump = conn.execute(bumps, (council,)).fetchone()
    assert bump is not None and bump[1] == 52.671 and bump[3] == pytest.approx([0.0, 1.7, -0.8])
    # The phone's own id is stored only as this period's pseudonym.
    assert bump[0] != phone and period_of_pseudonym(bump[0]) is not None
    foot = conn.execute(
        "SELECT zone, count, count_in FROM footfall_count WHERE device_id = %s",
        (devices["counter"],),
    ).fetchone()
    assert foot == ("high-street", 42, 20)


def test_duplicates_are_stored_once(
    worker: IngestWorker,
    conn: psycopg.Connection,
    mqtt_url: str,
    prefix: str,
    council: str,
    devices: dict[str, str],
    uid: str,
) -> None:
    """The same reading published three times (and a second distinct one) gives two rows."""
    topic = build_topic(prefix, council, Stream.BIN_FILL, devices["bin"])
    later = TS + timedelta(minutes=1)
    publish_all(mqtt_url, f"pub-{uid}", [(topic, _bin(10))] * 3 + [(topic, _bin(11, later))])
    wait_for(lambda: worker.stats["received"] >= 4, what="four messages received")
    wait_for(
        lambda: not worker.in_flight and worker.stats["written"] + worker.stats["duplicates"] >= 4,
        what="all four processed",
    )
    assert _count(conn, "bin_fill", devices["bin"]) == 2
    assert worker.stats["duplicates"] == 2


BAD = [
    ("invalid JSON", "bin-fill", None, b'{"ts": "2026-11-29T11:00:00Z", "fill_pct": '),
    ("wrong type", "bin-fill", None, b'{"ts": "2026-11-29T11:00:00Z", "fill_pct": "full"}'),
    ("out of range", "bin-fill", None, b'{"ts": "2026-11-29T11:00:00Z", "fill_pct": 250}'),
    ("missing field", "bin-fill", None, b'{"ts": "2026-11-29T11:00:00Z"}'),
    ("unknown device", "bin-fill", "ghost", b'{"ts": "2026-11-29T11:00:00Z", "fill_pct": 5}'),
    (
        "oversized payload",
        "bin-fill",
        None,
        b'{"ts": "2026-11-29T11:00:00Z", "fill_pct": 5, "x": "' + b"y" * 70_000 + b'"}',
    ),
    ("topic does not parse", "bins", None, b'{"ts": "2026-11-29T11:00:00Z", "fill_pct": 5}'),
    (
        "wrong stream for device",
        "footfall",
        None,
        b'{"period_start": "2026-11-29T10:00:00Z", "period_end": "2026-11-29T10:15:00Z", '
        b'"count": 1}',
    ),
]


@pytest.mark.parametrize(("reason", "stream", "device", "body"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_quarantined_with_reason(
    worker: IngestWorker,
    conn: psycopg.Connection,
    mqtt_url: str,
    prefix: str,
    council: str,
    devices: dict[str, str],
    uid: str,
    reason: str,
    stream: str,
    device: str | None,
    body: bytes,
) -> None:
    """A bad message goes to quarantine with raw bytes and reason; ingest carries on."""
    device_id = f"{device}-{uid}" if device else devices["bin"]
    topic = f"{prefix}/v1/{council}/{stream}/{device_id}"
    good = build_topic(prefix, council, Stream.BIN_FILL, devices["bin"])
    publish_all(mqtt_url, f"pub-{uid}", [(topic, body), (good, _bin(33))])
    row = wait_for(
        lambda: conn.execute(
            "SELECT reason, payload, copies FROM quarantine WHERE topic = %s", (topic,)
        ).fetchone(),
        what="quarantine row",
    )
    assert row[0].startswith(reason), row[0]
    assert bytes(row[1]) == body and row[2] == 1
    wait_for(lambda: _count(conn, "bin_fill", devices["bin"]), what="the good message after it")


def test_topic_council_must_match_registry(
    worker: IngestWorker,
    conn: psycopg.Connection,
    mqtt_url: str,
    prefix: str,
    council: str,
    devices: dict[str, str],
    uid: str,
) -> None:
    """A registered device publishing under another council's topic is quarantined."""
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Other')", (f"o-{uid}",))
    topic = build_topic(prefix, f"o-{uid}", Stream.BIN_FILL, devices["bin"])
    publish_all(mqtt_url, f"pub-{uid}", [(topic, _bin(20))])
    row = wait_for(
        lambda: conn.execute("SELECT reason FROM quarantine WHERE topic = %s", (topic,)).fetchone(),
        what="quarantine row",
    )
    assert row[0] == f"council mismatch: device is registered to {council}"
    assert _count(conn, "bin_fill", devices["bin"]) == 0


def test_repeated_bad_message_is_one_quarantine_row(
    worker: IngestWorker,
    conn: psycopg.Connection,
    mqtt_url: str,
    prefix: str,
    council: str,
    devices: dict[str, str],
    uid: str,
) -> None:
    """The same malformed bytes received twice are one quarantine row with two copies."""
    topic = build_topic(prefix, council, Stream.BIN_FILL, devices["bin"])
    publish_all(mqtt_url, f"pub-{uid}", [(topic, b"not json")] * 2)
    wait_for(
        lambda: (
            (
                r := conn.execute(
                    "SELECT copies FROM quarantine WHERE topic = %s", (topic,)
                ).fetchone()
            )
            and r[0] == 2
        ),
        what="two copies",
    )
    n = conn.execute("SELECT count(*) FROM quarantine WHERE topic = %s", (topic,)).fetchone()
    assert n == (1,)


def test_unknown_council_for_phones_is_quarantined(
    worker: IngestWorker,
    conn: psycopg.Connection,
    mqtt_url: str,
    prefix: str,
    uid: str,
) -> None:
    """Phones are not registered, but a bump for a council that does not exist is refused; the
    quarantine keeps the raw payload but only the phone's pseudonym."""
    topic = build_topic(prefix, f"nowhere-{uid}", Stream.BUMP, f"trip-{uid}")
    body = json.dumps(
        {"ts": TS.isoformat(), "lat": 1.0, "lon": 1.0, "speed_mps": 5, "peak_z_g": 1.0}
    ).encode()
    publish_all(mqtt_url, f"pub-{uid}", [(topic, body)])
    row = wait_for(
        lambda: conn.execute(
            "SELECT reason, topic, device_id, payload FROM quarantine WHERE council = %s",
            (f"nowhere-{uid}",),
        ).fetchone(),
        what="quarantine row",
    )
    assert row[0] == f"unknown council: nowhere-{uid}"
    assert f"trip-{uid}" not in row[1] and row[1].endswith("/" + row[2])
    assert period_of_pseudonym(row[2]) is not None and bytes(row[3]) == body


def test_messages_published_while_ingest_is_down_arrive_later(
    database_url: str,
    mqtt_url: str,
    conn: psycopg.Connection,
    prefix: str,
    council: str,
    devices: dict[str, str],
    uid: str,
) -> None:
    """The persistent session keeps QoS 1 messages for a stopped worker until it returns."""
    settings = IngestSettings(client_id=f"ingest-{uid}", flush_ms=50, log_every_s=3600)
    first = IngestWorker(database_url, mqtt_url, prefix, settings)
    first.start()
    first.stop()
    topic = build_topic(prefix, council, Stream.BIN_FILL, devices["bin"])
    publish_all(
        mqtt_url, f"pub-{uid}", [(topic, _bin(70 + i, TS + timedelta(seconds=i))) for i in range(5)]
    )
    second = IngestWorker(database_url, mqtt_url, prefix, settings)
    second.start()
    try:
        wait_for(lambda: _count(conn, "bin_fill", devices["bin"]) == 5, what="5 rows")
    finally:
        second.stop()
