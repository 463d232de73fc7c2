"""The soak's devices: a seeded stream of mixed messages, each with a number of its own, and
publishers that survive broker outages.

Every message carries its soak number: valid readings as ``seq`` (so a stored row names the
message it came from, whatever key ingest stored it under), malformed ones inside the bytes.
Each device's readings are a fixed interval apart, so every valid message has its own natural
key and a re-sent copy is the same key, which ingest stores once.
"""

import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from bench.ingest_backlog import stream_for
from ingest.contract.payloads import BinFillReading, BumpReport, FootfallCount
from ingest.contract.topics import Stream, build_topic
from ingest.db.registry import DeviceCreate
from ingest.db.writer import table_of
from ingest.mqtt import BrokerAddress
from simulators.realtime import bump_samples

BINS, COUNTERS, PHONES = 200, 40, 100
QUARANTINE = "quarantine"
TABLES = (*(table_of(s) for s in (Stream.BIN_FILL, Stream.FOOTFALL, Stream.BUMP)), QUARANTINE)
TICK_S = 0.05


def soak_devices(council: str) -> list[DeviceCreate]:
    """The bins and counters the soak registers (phones are never registered)."""
    bins = [
        DeviceCreate(
            council=council,
            kind="bin",
            device_id=f"soak-bin-{i:03d}",
            lat=52.6 + i / 10_000,
            lon=-0.7,
            capacity_litres=240,
        )
        for i in range(BINS)
    ]
    counters = [
        DeviceCreate(
            council=council,
            kind="counter",
            device_id=f"soak-ctr-{i:02d}",
            lat=52.67,
            lon=-0.72 + i / 10_000,
            zone=f"zone-{i % 4}",
        )
        for i in range(COUNTERS)
    ]
    return bins + counters


@dataclass
class Traffic:
    """Builds the soak's messages from ``seed``; ``bad_share`` of them are malformed."""

    prefix: str
    council: str
    seed: int
    bad_share: float
    rng: random.Random = field(init=False)
    base: datetime = field(init=False)
    number: int = 0
    per_device: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)  # per table, quarantine included
    where: bytearray = field(default_factory=bytearray)  # message number -> index in TABLES

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        # Two weeks back: ingest refuses readings a day ahead and retention drops old bumps.
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.base = midnight - timedelta(days=14)

    def next(self) -> tuple[str, bytes]:
        """The next message: its topic and payload."""
        n = self.number
        self.number += 1
        draw = self.rng.random()
        if draw < self.bad_share:
            self._note(QUARANTINE)
            return self._malformed(n)
        stream = stream_for(self.rng.random())  # the ingest bench's mix
        self._note(table_of(stream))
        if stream is Stream.BIN_FILL:
            device = f"soak-bin-{self.rng.randrange(BINS):03d}"
            k = self._count(device)
            body: BinFillReading | FootfallCount | BumpReport = BinFillReading(
                ts=self.base + timedelta(seconds=10 * k),
                fill_pct=round(self.rng.uniform(0, 100), 1),
                seq=n,
                battery_v=round(self.rng.uniform(3.4, 4.2), 3),
            )
        elif stream is Stream.FOOTFALL:
            device = f"soak-ctr-{self.rng.randrange(COUNTERS):02d}"
            start = self.base + timedelta(minutes=self._count(device))
            people = self.rng.randint(0, 120)
            body = FootfallCount(
                period_start=start, period_end=start + timedelta(minutes=1), count=people, seq=n
            )
        else:
            device = f"soak-phone-{self.rng.randrange(PHONES):03d}"
            peak = round(self.rng.uniform(0.3, 2.5), 3)
            body = BumpReport(
                ts=self.base + timedelta(seconds=self._count(device)),
                lat=round(52.66 + self.rng.uniform(-0.01, 0.01), 6),
                lon=round(-0.73 + self.rng.uniform(-0.01, 0.01), 6),
                speed_mps=round(self.rng.uniform(4, 15), 2),
                peak_z_g=peak,
                seq=n,
                sample_hz=50.0,
                samples_z_g=bump_samples(self.rng, peak, hz=50, n=16),
            )
        topic = build_topic(self.prefix, self.council, stream, device)
        return topic, body.model_dump_json(exclude_none=True).encode()

    def _note(self, table: str) -> None:
        self.sent[table] += 1
        self.where.append(TABLES.index(table))

    def _count(self, device: str) -> int:
        k = self.per_device[device]
        self.per_device[device] += 1
        return k

    def _malformed(self, n: int) -> tuple[str, bytes]:
        """Three ways to break the contract, each naming its soak number in the bytes."""
        kind = n % 3
        if kind == 0:  # not JSON
            device = f"soak-bin-{n % BINS:03d}"
            body = f'{{"soak": {n}, broken'.encode()
        elif kind == 1:  # out of range
            device = f"soak-bin-{n % BINS:03d}"
            ts = (self.base - timedelta(days=1, seconds=n)).isoformat()
            body = f'{{"ts": "{ts}", "fill_pct": 150.0, "seq": {n}}}'.encode()
        else:  # a bin nobody registered
            device = f"soak-ghost-{n}"
            ts = (self.base + timedelta(seconds=n)).isoformat()
            body = f'{{"ts": "{ts}", "fill_pct": 50.0, "seq": {n}}}'.encode()
        return build_topic(self.prefix, self.council, Stream.BIN_FILL, device), body


class Publisher:
    """A device gateway: QoS 1 on a persistent session, reconnecting by itself.

    paho keeps what the broker has not acknowledged and re-sends it after reconnecting. On
    top of that, after every reconnect it re-sends what the broker acknowledged in the last
    ``resend_window_s`` before the connection dropped: a broker killed before its next
    autosave forgets those, and ingest stores a second copy of a reading once.
    """

    def __init__(self, url: str, client_id: str, resend_window_s: float) -> None:
        address = BrokerAddress.parse(url)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=False,
        )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.window = resend_window_s
        self.unacked: deque[tuple[mqtt.MQTTMessageInfo, str, bytes]] = deque()
        self.recent: deque[tuple[float, str, bytes]] = deque()  # (acked at, topic, payload)
        self.dropped_at: float | None = None
        self.reconnected = threading.Event()
        self.connected = threading.Event()
        self.resent = 0
        self.disconnects = 0
        self.client.connect_async(address.host, address.port, keepalive=5)
        self.client.loop_start()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        rc: object,
        properties: object = None,
    ) -> None:
        if not getattr(rc, "is_failure", False):
            self.connected.set()
            if self.dropped_at is not None:
                self.reconnected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        rc: object,
        properties: object = None,
    ) -> None:
        if self.connected.is_set():
            self.connected.clear()
            self.disconnects += 1
            self.dropped_at = time.monotonic()

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one message at QoS 1 (sent now, or after the reconnect)."""
        while True:
            info = self.client.publish(topic, payload, qos=1)
            if info.rc != MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:  # only on a message id clash
                break
            time.sleep(0.01)
        self.unacked.append((info, topic, payload))

    def tend(self) -> None:
        """Note acknowledgements; after a reconnect, re-send the broker's last window."""
        now = time.monotonic()
        # Not is_published(): it raises for a message queued while disconnected, whose rc stays
        # "not connected" even after paho has sent it and the broker acknowledged it.
        while self.unacked and self.unacked[0][0]._published:
            _, topic, payload = self.unacked.popleft()
            self.recent.append((now, topic, payload))
        while self.recent and self.recent[0][0] < now - self.window - 5:
            self.recent.popleft()
        if self.reconnected.is_set() and self.dropped_at is not None:
            self.reconnected.clear()
            since = self.dropped_at - self.window
            again = [(t, p) for at, t, p in self.recent if at >= since] if self.window else []
            self.recent.clear()
            for topic, payload in again:
                self.publish(topic, payload)
            self.resent += len(again)

    @property
    def pending(self) -> int:
        return len(self.unacked)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
