"""Publish the town's readings over MQTT as they happen.

Timestamps are always the real clock, so "now" on the API means now. ``speedup`` makes bins
fill faster than life so that a few minutes of demo show bins filling and being emptied.
"""

import logging
import math
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from analytics.geo.geometry import haversine_m, moved
from analytics.geo.roads import RoadNetwork
from ingest.contract.payloads import BinFillReading, BinFlag, BumpReport, FootfallCount
from ingest.contract.topics import Stream, build_topic
from ingest.kernel.params import require
from ingest.mqtt import Publisher
from simulators.features import RoadFeature
from simulators.footfall import sample_count
from simulators.misbehave import MisbehavingPublisher, Misbehaviour
from simulators.phones import simulate_trip
from simulators.sink import encode
from simulators.town import Town

log = logging.getLogger(__name__)


@dataclass
class _BinState:
    fill: float
    battery: float
    seq: int = 0


@dataclass
class RealtimeOptions:
    """How often simulated devices report, in wall-clock seconds."""

    bin_every_s: float = 10
    counter_every_s: float = 60
    bump_every_s: float = 5
    phones: int = 3
    speedup: float = 60
    seed: int = 1
    misbehaviour: Misbehaviour = field(default_factory=Misbehaviour)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        for name in ("bin_every_s", "counter_every_s", "bump_every_s", "speedup"):
            require(getattr(self, name) > 0, f"Expected {name} > 0.")
        require(self.phones >= 0, "Expected phones >= 0.")


def bump_samples(rng: random.Random, peak: float, hz: float = 50, n: int = 32) -> list[float]:
    """A vertical acceleration window (gravity removed) with a jolt in the middle."""
    out = []
    for i in range(n):
        t = (i - n / 2) / hz
        jolt = peak * math.exp(-((t / 0.03) ** 2)) * math.cos(2 * math.pi * 12 * t)
        out.append(round(jolt + rng.gauss(0, 0.05), 3))
    return out


class RealtimeSimulator:
    """Publishes bins, counters and phones of one town until stopped."""

    def __init__(
        self,
        town: Town,
        client: mqtt.Client,
        prefix: str,
        options: RealtimeOptions,
        network: RoadNetwork | None = None,
        features: Sequence[RoadFeature] = (),
    ) -> None:
        self.town = town
        self.client = client
        self.prefix = prefix
        self.options = options
        self.network = network
        self.features = features
        self.trips = 0
        self.rng = random.Random(options.seed)
        self.bins = {
            b.device.device_id: _BinState(self.rng.uniform(0, 60), self.rng.uniform(3.6, 4.1))
            for b in town.bins
        }
        self.counter_last: dict[str, datetime] = {}
        self.publisher = Publisher(client)
        self.faults = (
            MisbehavingPublisher(
                self.publisher.publish,
                options.misbehaviour,
                random.Random(f"faults-{options.seed}"),
            )
            if options.misbehaviour.any
            else None
        )

    def _publish(self, stream: Stream, device_id: str, body: bytes) -> None:
        topic = build_topic(self.prefix, self.town.council, stream, device_id)
        if self.faults is not None:
            self.faults.send(topic, body, datetime.now(UTC))
        else:
            self.publisher.publish(topic, body)

    @property
    def published(self) -> int:
        """Messages handed to the broker so far."""
        return self.publisher.published

    def publish_bins(self, now: datetime, elapsed_s: float) -> None:
        """One reading per bin; fill grows with time and drops when a crew empties it."""
        for sim in self.town.bins:
            state = self.bins[sim.device.device_id]
            state.fill += sim.fill_rate_pct_h * elapsed_s / 3600 * self.options.speedup
            if state.fill >= 95 or (state.fill > 75 and self.rng.random() < 0.05):
                state.fill = self.rng.uniform(0, 5)  # emptied
            state.battery = max(3.0, state.battery - 0.0001)
            state.seq += 1
            flags = [BinFlag.LID_OPEN] if self.rng.random() < 0.02 else []
            reading = BinFillReading(
                ts=now,
                fill_pct=round(min(100, max(0, state.fill + self.rng.gauss(0, 1.5))), 1),
                seq=state.seq,
                battery_v=round(state.battery, 3),
                temperature_c=round(self.rng.gauss(11, 2), 1),
                flags=flags,
            )
            self._publish(Stream.BIN_FILL, sim.device.device_id, encode(reading))

    def publish_counts(self, now: datetime) -> None:
        """One count per counter for the period since its last report."""
        for sim in self.town.counters:
            device_id = sim.device.device_id
            start = self.counter_last.get(
                device_id, now - timedelta(seconds=self.options.counter_every_s)
            )
            count = sample_count(self.rng, sim.peak_per_hour, start, now)
            split = self.rng.randint(0, count)
            reading = FootfallCount(
                period_start=start,
                period_end=now,
                count=count,
                count_in=split,
                count_out=count - split,
            )
            self._publish(Stream.FOOTFALL, device_id, encode(reading))
            self.counter_last[device_id] = now

    def publish_trip(self, now: datetime) -> None:
        """One phone finishes a trip on the road network and uploads the jolts its detector
        found on the way (as Street Bump does at the end of a trip), then where it drove."""
        assert self.network is not None
        path = self.network.random_trip(self.rng)
        points, speeds = self.network.route_points(path), self.network.leg_speeds(path)
        # Simulated as a trip that started long enough ago to end about now.
        duration = sum(
            haversine_m(*a, *b) / v for a, b, v in zip(points, points[1:], speeds, strict=False)
        )
        trip = simulate_trip(
            points, speeds, self.features, now - timedelta(seconds=duration), self.rng
        )
        self.trips += 1
        phone = f"phone-{self.options.seed}-{self.rng.randrange(self.options.phones):03d}"
        for report in trip.reports:
            self._publish(Stream.BUMP, phone, encode(report))
        if trip.coverage is not None:
            self._publish(Stream.COVERAGE, phone, encode(trip.coverage))

    def publish_bump(self, now: datetime) -> None:
        """A jolt from one of the phones: from a whole trip when the town has roads, else a
        random jolt somewhere in the town."""
        if self.network is not None:
            self.publish_trip(now)
            return
        phone = self.rng.randrange(self.options.phones)
        north, east = self.rng.uniform(-1200, 1200), self.rng.uniform(-1200, 1200)
        lat, lon = moved(*self.town.centre, east, north)
        peak = round(self.rng.uniform(0.3, 2.5), 3)
        report = BumpReport(
            ts=now,
            lat=round(lat, 6),
            lon=round(lon, 6),
            speed_mps=round(self.rng.uniform(4, 15), 2),
            peak_z_g=peak,
            accuracy_m=round(self.rng.uniform(2, 8), 1),
            heading_deg=round(self.rng.uniform(0, 359.9), 1),
            sample_hz=50.0,
            samples_z_g=bump_samples(self.rng, peak),
        )
        self._publish(Stream.BUMP, f"phone-{self.options.seed}-{phone:03d}", encode(report))

    def run(self, duration: float | None = None) -> None:
        """Publish until ``options.stop`` is set or ``duration`` seconds have passed."""
        opts = self.options
        started = datetime.now(UTC)
        due = {"bins": started, "counts": started, "bump": started}
        last_bins = started
        while not opts.stop.is_set():
            now = datetime.now(UTC)
            if self.faults is not None:
                self.faults.flush_late(now)
            if duration is not None and (now - started).total_seconds() >= duration:
                break
            if now >= due["bins"]:
                self.publish_bins(now, (now - last_bins).total_seconds())
                last_bins = now
                due["bins"] = now + timedelta(seconds=opts.bin_every_s)
            if now >= due["counts"]:
                self.publish_counts(now)
                due["counts"] = now + timedelta(seconds=opts.counter_every_s)
            if opts.phones and now >= due["bump"]:
                self.publish_bump(now)
                due["bump"] = now + timedelta(seconds=self.rng.expovariate(1 / opts.bump_every_s))
            wait = min(d for d in due.values()) - datetime.now(UTC)
            opts.stop.wait(max(0.05, min(1.0, wait.total_seconds())))
        if self.faults is not None:
            self.faults.flush_late()
        if not self.publisher.flush():
            log.warning("the broker did not acknowledge every message before the simulator stopped")
