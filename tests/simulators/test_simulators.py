"""The synthetic town: reproducible, and every message it publishes follows the contract."""

import threading
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import psycopg
import pytest

from ingest.contract.decode import Reading, decode
from ingest.contract.topics import Stream, subscription
from ingest.db.registry import import_devices
from ingest.mqtt import close_client, open_client
from simulators.footfall import expected_rate
from simulators.history import backfill_footfall
from simulators.load import run_load
from simulators.realtime import RealtimeOptions, RealtimeSimulator
from simulators.world import build_world
from tests.helpers import wait_for


def test_same_seed_same_town() -> None:
    """The town is reproducible from its seed, and another seed gives another town."""
    assert build_world("t", seed=7).town == build_world("t", seed=7).town
    assert build_world("t", seed=7).town.devices() != build_world("t", seed=8).town.devices()


def test_footfall_has_a_daily_rhythm() -> None:
    """Lunchtime on a Saturday is busier than 3 a.m. and than a Tuesday lunchtime."""
    saturday_noon = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert expected_rate(1000, saturday_noon) > 10 * expected_rate(
        1000, saturday_noon.replace(hour=3)
    )
    assert expected_rate(1000, saturday_noon) > expected_rate(
        1000, saturday_noon - timedelta(days=4)
    )


@pytest.mark.parametrize("roads", [False, True])
def test_published_messages_follow_the_contract(
    mqtt_url: str, prefix: str, uid: str, roads: bool
) -> None:
    """Everything the real-time simulator publishes decodes as a valid reading, all streams;
    phones send coverage tracks only when they drive a road network."""
    world = build_world(f"t-{uid}", seed=3, bins=4, counters=2)
    town = world.town
    received: list[tuple[str, bytes]] = []
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with lock:
            received.append((msg.topic, bytes(msg.payload)))

    def configure(client: mqtt.Client) -> None:
        client.on_message = on_message
        client.on_connect = lambda c, *a: c.subscribe(subscription(prefix), qos=1)
        client.on_subscribe = lambda *a: subscribed.set()

    listener = open_client(mqtt_url, f"listen-{uid}", configure=configure)
    publisher = open_client(mqtt_url, f"sim-{uid}", prefix=prefix)
    options = RealtimeOptions(
        bin_every_s=0.2, counter_every_s=0.3, bump_every_s=0.1, phones=2, seed=3
    )
    network = world.network if roads else None
    sim = RealtimeSimulator(town, publisher, prefix, options, network, world.features)
    try:
        wait_for(subscribed.is_set, what="listener subscribed")
        sim.run(duration=1.5)
        wait_for(lambda: len(received) >= sim.published, what="every message received")
    finally:
        close_client(publisher, prefix)
        close_client(listener)
    now = datetime.now(UTC)
    decoded = [decode(prefix, topic, body, now) for topic, body in received]
    assert all(isinstance(d, Reading) for d in decoded), [
        d for d in decoded if not isinstance(d, Reading)
    ][:3]
    streams = {d.topic.stream for d in decoded if isinstance(d, Reading)}
    if roads:  # whether a trip's phone felt a jolt is up to the trip
        assert streams >= {Stream.BIN_FILL, Stream.FOOTFALL, Stream.COVERAGE}
    else:
        assert streams == set(Stream) - {Stream.COVERAGE}


def test_history_backfill_is_validated_and_idempotent(conn: psycopg.Connection, uid: str) -> None:
    """Backfilled footfall goes through the ingest writer, and a second run adds nothing."""
    town = build_world(f"h-{uid}", seed=5, bins=0, counters=2).town
    import_devices(conn, town.devices())
    until = datetime(2026, 11, 20, 12, tzinfo=UTC)
    first = backfill_footfall(conn, town, "smartstreets", days=2, until=until, seed=5)
    assert first == 2 * 2 * 24 * 4
    assert backfill_footfall(conn, town, "smartstreets", days=2, until=until, seed=5) == 0
    zones = conn.execute(
        "SELECT DISTINCT zone FROM footfall_count WHERE council = %s", (town.council,)
    ).fetchall()
    assert {z for (z,) in zones} == {c.device.zone for c in town.counters}


def test_load_mode_reports_what_the_broker_took(mqtt_url: str, prefix: str, uid: str) -> None:
    """Load mode paces itself to the target and reports only acknowledged messages."""
    client = open_client(mqtt_url, f"load-{uid}")
    try:
        report = run_load(client, prefix, f"l-{uid}", [f"b{i}" for i in range(50)], 400, 1.0)
    finally:
        close_client(client)
    assert report.acknowledged and report.published > 0
    assert report.published <= 400 * report.seconds + 4  # never ahead of the target pace
    with pytest.raises(ValueError, match="Expected rate > 0"):
        run_load(client, prefix, "x", ["b"], 0, 1)
