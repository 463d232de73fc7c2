"""The ingest benchmark's broker: a Mosquitto of its own, persistent sessions that queue the
backlog while their consumer is offline, publishing it, and watching consumers connect."""

import contextlib
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from rich.progress import Progress

from bench.ingest_backlog import PREFIX, Backlog, BenchError
from ingest.contract.topics import status_topic
from ingest.mqtt import SESSION_EXPIRY_S, Publisher, close_client, open_client
from tests.services import Mosquitto

SMALL_RECEIVE_MAXIMUM = 20  # Mosquitto's default max_inflight_messages
PUBLISH_INFLIGHT = 1_000  # paho's default of 20 unacknowledged publishes makes loading slow
# max_inflight_messages is left at its default (20) on purpose: the bench shows what a stock
# broker gives a client that does not raise Receive Maximum.
BROKER_SETTINGS = (
    "persistence false",
    "max_queued_messages 0",  # offline persistent sessions queue the whole backlog
    "max_queued_bytes 0",
    "memory_limit 0",
)


def bench_broker(workdir: Path) -> Mosquitto:
    """The bench's Mosquitto (not started): unlimited queues for offline persistent sessions."""
    return Mosquitto(workdir, BROKER_SETTINGS)


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
