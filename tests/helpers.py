"""Small helpers shared by tests: waiting on a condition and publishing messages."""

import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import paho.mqtt.client as mqtt

from ingest.contract.topics import status_topic
from ingest.mqtt import open_client

T = TypeVar("T")


def wait_for(probe: Callable[[], T], *, timeout: float = 20, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy, and return that; fail on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def wait_online(mqtt_url: str, prefix: str, client_id: str, timeout: float = 30) -> None:
    """Wait until a long-lived client has announced ``online`` on its retained status topic
    (it subscribes before it announces, so its session is ready for messages)."""
    seen = threading.Event()
    topic = status_topic(prefix, client_id)

    def configure(client: mqtt.Client) -> None:
        client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        client.on_message = lambda c, u, m: seen.set() if m.payload == b"online" else None

    watcher = open_client(mqtt_url, f"watch-{client_id}", configure=configure)
    try:
        if not seen.wait(timeout):
            raise AssertionError(f"{client_id} did not come online within {timeout}s")
    finally:
        watcher.disconnect()
        watcher.loop_stop()


def publish_all(mqtt_url: str, client_id: str, messages: Iterable[tuple[str, bytes]]) -> int:
    """Publish ``(topic, payload)`` pairs with QoS 1 and wait until the broker has them all."""
    client = open_client(mqtt_url, client_id)
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=20)
        assert info.is_published()
    client.disconnect()
    client.loop_stop()
    return len(infos)
