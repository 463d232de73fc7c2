"""Network-server bridges against a real broker and database: TTN v3 and ChirpStack v4 uplinks
of each model stored as readings, everything else quarantined with the raw envelope.

The network servers' MQTT integrations are stood in for by publishing their envelopes (the
fixtures of ``test_lorawan``) to the test broker, which is what the servers themselves do.
"""

import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ingest.db.quarantine import QuarantineFilter, replay
from ingest.db.registry import DeviceCreate, import_devices, parse_registry, write_registry_csv
from ingest.errors import RegistryError
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.helpers import publish_all, wait_for
from tests.ingest.test_faults import _ingest_process, publish
from tests.ingest.test_lorawan import chirpstack_uplink, ttn_uplink
from tests.services import OwnMosquitto

EM310_PAYLOAD = bytes.fromhex("01755C03824401040001")
"""An EM310-UDL uplink from Milesight's documentation: battery, 324 mm, tilted."""
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _eui(uid: str, n: int) -> str:
    """A DevEUI of this test's own: the uid's 10 hex digits, then a serial number."""
    return f"{uid}{n:06x}".upper()


@pytest.fixture
def lorawan_devices(conn: psycopg.Connection, council: str, uid: str) -> dict[str, str]:
    """One registered device per model and network: TTN EM310-UDL (known by DevEUI), TTN json
    (known by its TTN device id), ChirpStack VS350 and ChirpStack EM500-UDL."""
    base = {"council": council, "lat": 52.67, "lon": -0.72}
    rows = [
        dict(base, kind="bin", device_id=f"em310-{uid}", capacity_litres=240, network="ttn",
             network_id=_eui(uid, 1), model="em310-udl", depth_mm=1000),
        dict(base, kind="bin", device_id=f"json-{uid}", capacity_litres=240, network="ttn",
             network_id=f"ttn-json-{uid}", model="json", depth_mm=1200,
             model_config={"distance_mm": "distance"}),
        dict(base, kind="counter", device_id=f"vs350-{uid}", zone="market", network="chirpstack",
             network_id=_eui(uid, 2), model="vs350", model_config={"period_s": 900}),
        dict(base, kind="bin", device_id=f"em500-{uid}", capacity_litres=1100,
             network="chirpstack", network_id=_eui(uid, 3), model="em500-udl", depth_mm=1500,
             model_config={"blind_mm": 250}),
    ]  # fmt: skip
    import_devices(conn, [DeviceCreate.model_validate(r) for r in rows])
    return {r["model"]: r["device_id"] for r in rows}  # type: ignore[misc]


def test_registry_file_carries_network_columns(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """A registry file with the network columns imports (DevEUI case ignored) and round-trips;
    two rows claiming one network identity are refused, naming both lines."""
    header = "council,kind,device_id,lat,lon,zone,capacity_litres,network,network_id,model,"
    header += "depth_mm,model_config\n"
    line = f"{council},bin,b-{uid},52.67,-0.72,,1100,ttn,{_eui(uid, 5)},em310-udl,1300,"
    line += '"{""blind_mm"": 250}"\n'
    devices = parse_registry(header + line)
    assert parse_registry(write_registry_csv(devices)) == devices
    import_devices(conn, devices)
    row = conn.execute(
        "SELECT network, network_id, model, depth_mm, model_config FROM device "
        "WHERE device_id = %s",
        (f"b-{uid}",),
    ).fetchone()
    assert row == ("ttn", _eui(uid, 5).lower(), "em310-udl", 1300, {"blind_mm": 250})
    twice = line.replace(f"b-{uid}", f"b2-{uid}")
    with pytest.raises(RegistryError, match=f"ttn device {_eui(uid, 5).lower()} already listed"):
        parse_registry(header + line + twice)
    with pytest.raises(RegistryError, match=f"registered as b-{uid}"):
        import_devices(conn, parse_registry(header + twice))


def _worker(
    database_url: str, mqtt_url: str, prefix: str, client: str, bridge: str
) -> IngestWorker:
    settings = IngestSettings(
        client_id=client,
        flush_ms=50,
        log_every_s=3600,
        bridge=bridge,  # type: ignore[arg-type]
    )
    return IngestWorker(database_url, mqtt_url, prefix, settings)


@pytest.fixture
def bridges(database_url: str, mqtt_url: str, prefix: str, uid: str) -> Iterator[None]:
    """A TTN and a ChirpStack bridge worker of this test's own."""
    workers = [
        _worker(database_url, mqtt_url, prefix, f"ttn-{uid}", "ttn"),
        _worker(database_url, mqtt_url, prefix, f"cs-{uid}", "chirpstack"),
    ]
    for w in workers:
        w.start()
    yield
    for w in workers:
        w.stop()


def _fill(conn: psycopg.Connection, device_id: str) -> list[tuple[datetime, float, list[str]]]:
    return conn.execute(
        "SELECT ts, fill_pct, flags FROM bin_fill WHERE device_id = %s ORDER BY ts", (device_id,)
    ).fetchall()


def test_uplinks_of_each_model_are_stored(
    bridges: None,
    conn: psycopg.Connection,
    mqtt_url: str,
    council: str,
    uid: str,
    lorawan_devices: dict[str, str],
) -> None:
    """TTN and ChirpStack uplinks of every model become rows on their registered devices."""
    when = _stamp(NOW)
    messages = [
        ttn_uplink(f"eui-{uid}", EM310_PAYLOAD, dev_eui=_eui(uid, 1),
                   when=when),
        ttn_uplink(f"ttn-json-{uid}", b"\x00", dev_eui=_eui(uid, 9), when=when,
                   decoded={"distance": 300}),
        chirpstack_uplink(_eui(uid, 2), bytes.fromhex("04CC1200160005CC13001400"), when=when),
        chirpstack_uplink(_eui(uid, 3), bytes.fromhex("01756403821E00"), when=when),
    ]  # fmt: skip
    publish_all(mqtt_url, f"pub-{uid}", messages)
    em310 = wait_for(lambda: _fill(conn, lorawan_devices["em310-udl"]), what="EM310-UDL row")
    assert em310 == [(NOW, pytest.approx(67.6), ["tilted"])]  # 0x0144 = 324 mm of 1000 mm
    json_bin = wait_for(lambda: _fill(conn, lorawan_devices["json"]), what="json row")
    assert json_bin == [(NOW, 75.0, [])]  # 300 mm of 1200 mm
    em500 = wait_for(lambda: _fill(conn, lorawan_devices["em500-udl"]), what="EM500-UDL row")
    assert em500 == [(NOW, 100.0, [])]  # 30 mm: inside the 250 mm blind zone
    count = wait_for(
        lambda: conn.execute(
            "SELECT council, zone, period_start, period_end, count, count_in, count_out "
            "FROM footfall_count WHERE device_id = %s",
            (lorawan_devices["vs350"],),
        ).fetchone(),
        what="VS350 row",
    )
    assert count == (council, "market", NOW - timedelta(seconds=900), NOW, 39, 19, 20)


def test_same_uplink_twice_is_stored_once(
    bridges: None, conn: psycopg.Connection, mqtt_url: str, uid: str,
    lorawan_devices: dict[str, str],
) -> None:  # fmt: skip
    """A network server resending an uplink does not make a second reading."""
    message = chirpstack_uplink(_eui(uid, 3), bytes.fromhex("0382DC05"), when=_stamp(NOW))
    publish_all(mqtt_url, f"pub-{uid}", [message, message])
    wait_for(lambda: _fill(conn, lorawan_devices["em500-udl"]), what="EM500-UDL row")
    marker = chirpstack_uplink(
        _eui(uid, 3), bytes.fromhex("0382DC05"), when=_stamp(NOW + timedelta(seconds=1))
    )
    publish_all(mqtt_url, f"pub2-{uid}", [marker])
    wait_for(lambda: len(_fill(conn, lorawan_devices["em500-udl"])) == 2, what="marker row")
    assert [r[1] for r in _fill(conn, lorawan_devices["em500-udl"])] == [0.0, 0.0]


def _quarantined(conn: psycopg.Connection, payload: bytes) -> tuple[Any, ...] | None:
    return conn.execute(
        "SELECT reason, topic, payload, device_id FROM quarantine WHERE payload = %s", (payload,)
    ).fetchone()


def test_bad_uplinks_are_quarantined_with_the_envelope(
    bridges: None,
    conn: psycopg.Connection,
    mqtt_url: str,
    prefix: str,
    council: str,
    uid: str,
    lorawan_devices: dict[str, str],
) -> None:
    """Unknown devices, undecodable bytes, failed mappings and malformed envelopes are
    quarantined with their reason and the raw envelope, under the uplink's own topic (so that a
    replay decodes it the same way), attributed to the device when it is known."""
    when = _stamp(NOW)
    unknown = ttn_uplink(f"ghost-{uid}", b"\x01", dev_eui=_eui(uid, 7), when=when)
    undecodable = chirpstack_uplink(_eui(uid, 2), bytes.fromhex("0999"), when=when)
    unmapped = ttn_uplink(f"ttn-json-{uid}", b"", dev_eui=_eui(uid, 9), when=when,
                          decoded={"level": 3})  # fmt: skip
    malformed = (f"v3/app-{uid}@ttn/devices/d-{uid}/up", f'{{"broken": "{uid}'.encode())
    publish_all(mqtt_url, f"pub-{uid}", [unknown, undecodable, unmapped, malformed])
    cases = [
        (unknown, f"unknown device: ttn device ghost-{uid} (DevEUI {_eui(uid, 7).lower()})",
         unknown[0], None),
        (undecodable, "undecodable payload: unknown channel 0x09 0x99 at byte 0",
         undecodable[0], lorawan_devices["vs350"]),
        (unmapped, "mapping failed: decoded object has no 'distance'",
         unmapped[0], lorawan_devices["json"]),
        (malformed, "invalid JSON", malformed[0], None),
    ]  # fmt: skip
    for (topic, envelope), reason, stored_topic, device_id in cases:
        row = wait_for(lambda e=envelope: _quarantined(conn, e), what=f"quarantine of {topic}")
        assert row[0].startswith(reason), row[0]
        assert (row[1], bytes(row[2]), row[3]) == (stored_topic, envelope, device_id)


def test_an_uplink_of_a_device_registered_late_is_replayed_once(
    bridges: None,
    conn: psycopg.Connection,
    prefix: str,
    mqtt_url: str,
    council: str,
    uid: str,
) -> None:
    """An EM310-UDL uplink from a DevEUI nobody registered is quarantined on its TTN topic; once
    the device is registered, ``quarantine replay`` decodes it through the bridge (registry,
    model) and stores the fill once; a second replay changes nothing."""
    eui = _eui(uid, 11)
    uplink = ttn_uplink(f"late-{uid}", EM310_PAYLOAD, dev_eui=eui, when=_stamp(NOW))
    publish_all(mqtt_url, f"pub-{uid}", [uplink])
    wait_for(lambda: _quarantined(conn, uplink[1]), what="quarantine of the unknown uplink")
    device = f"late-bin-{uid}"
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council,
                kind="bin",
                device_id=device,
                lat=52.67,
                lon=-0.72,
                capacity_litres=240,
                network="ttn",
                network_id=eui,
                model="em310-udl",
                depth_mm=1000,
            )
        ],
    )
    only_this = QuarantineFilter(reason=f"unknown device: ttn device late-{uid}")
    first = replay(conn, prefix, only_this)
    assert (first.stored, first.failing) == (1, {})
    assert len(_fill(conn, device)) == 1 and _quarantined(conn, uplink[1]) is None
    second = replay(conn, prefix, only_this)
    assert (second.stored, len(_fill(conn, device))) == (0, 1)


def test_sigkill_mid_stream_loses_nothing(
    database_url: str,
    conn: psycopg.Connection,
    mosquitto: OwnMosquitto,
    prefix: str,
    uid: str,
    lorawan_devices: dict[str, str],
) -> None:
    """A bridge killed with SIGKILL while writing, then restarted, stores every uplink once."""
    broker = mosquitto
    device = lorawan_devices["em500-udl"]
    first = _ingest_process(database_url, broker.url, prefix, uid, "--bridge", "chirpstack")
    try:
        # The session must exist before the stream, or the broker has nowhere to queue it:
        # probe with uplinks a day back (before the stream's times) until one is stored.
        probes = 0

        def probed() -> bool:
            nonlocal probes
            at = NOW - timedelta(days=1, seconds=probes)
            probes += 1
            probe = chirpstack_uplink(_eui(uid, 3), bytes.fromhex("0382DC05"), when=_stamp(at))
            publish_all(broker.url, f"probe-{uid}", [probe])
            return bool(_fill(conn, device))

        wait_for(probed, timeout=30, what="the bridge subscribed")
        stored_probes = len(_fill(conn, device))
        n = 6000
        stream = [
            chirpstack_uplink(_eui(uid, 3), bytes.fromhex("0382DC05"),
                              when=_stamp(NOW - timedelta(seconds=i)))
            for i in range(n)
        ]  # fmt: skip
        publisher = threading.Thread(target=publish, args=(broker.url, f"pub-{uid}", stream))
        publisher.start()
        wait_for(lambda: len(_fill(conn, device)) > stored_probes + 500, what="bridge writing")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        publisher.join(timeout=120)
        assert len(_fill(conn, device)) < stored_probes + n, "killed too late to test anything"
        second = _ingest_process(database_url, broker.url, prefix, uid, "--bridge", "chirpstack")
        try:
            wait_for(lambda: len(_fill(conn, device)) >= stored_probes + n, timeout=90,
                     what="every uplink stored")  # fmt: skip
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT ts) FROM bin_fill WHERE device_id = %s "
            "AND ts > %s - interval '1 hour'",
            (device, NOW - timedelta(seconds=n)),
        ).fetchone()
        assert stored == (n, n)
    finally:
        if first.poll() is None:
            first.kill()
