"""The ingest benchmark's scenario: the bench council's devices and the backlog of valid
messages every contender drains."""

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingest.contract.payloads import BinFillReading, BinFlag, BumpReport, FootfallCount
from ingest.contract.topics import Stream, build_topic, subscription
from ingest.db.registry import DeviceCreate
from ingest.db.writer import table_of
from simulators.realtime import bump_samples

PREFIX = "bench"
COUNCIL = "bench"
TOPIC_FILTER = subscription(PREFIX)  # bench/v1/+/+/+
READING_TABLES = ("bin_fill", "bump_report", "footfall_count")
BINS, COUNTERS, PHONES, ZONES = 1000, 200, 500, 10
MIX = ((Stream.BIN_FILL, 0.60), (Stream.FOOTFALL, 0.25), (Stream.BUMP, 0.15))


class BenchError(RuntimeError):
    """Something the bench needs is missing or broke; reported as one line."""


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
    for _ in range(count):
        stream = stream_for(rng.random())
        name, devices, reading = _DEVICES[stream]
        device_id = name.format(rng.randrange(devices))
        model = reading(rng, base, sequence[device_id])
        sequence[device_id] += 1
        topic = topics.get((stream, device_id))
        if topic is None:
            topic = topics[(stream, device_id)] = build_topic(PREFIX, COUNCIL, stream, device_id)
        messages.append((topic, model.model_dump_json(exclude_none=True).encode()))
        per_table[table_of(stream)] += 1
    return Backlog(messages, dict(per_table))


def stream_for(draw: float) -> Stream:
    """The stream a draw in [0, 1) falls to, by the shares in ``MIX``."""
    total = 0.0
    for stream, share in MIX[:-1]:
        total += share
        if draw < total:
            return stream
    return MIX[-1][0]


def _bin_fill(rng: random.Random, base: datetime, k: int) -> BinFillReading:
    """The ``k``-th reading of a bin: every 10 s from ``base``."""
    return BinFillReading(
        ts=base + timedelta(seconds=10 * k),
        fill_pct=round(rng.uniform(0, 100), 1),
        seq=k,
        battery_v=round(rng.uniform(3.4, 4.2), 3),
        temperature_c=round(rng.gauss(11, 3), 1),
        flags=[BinFlag.LID_OPEN] if rng.random() < 0.02 else [],
    )


def _footfall(rng: random.Random, base: datetime, k: int) -> FootfallCount:
    """The ``k``-th count of a counter: minute ``k`` from ``base``."""
    start = base + timedelta(minutes=k)
    people = rng.randint(0, 120)
    inward = rng.randint(0, people)
    return FootfallCount(
        period_start=start,
        period_end=start + timedelta(minutes=1),
        count=people,
        count_in=inward,
        count_out=people - inward,
        seq=k,
    )


def _bump(rng: random.Random, base: datetime, k: int) -> BumpReport:
    """The ``k``-th jolt of a phone: one a second from ``base``."""
    peak = round(rng.uniform(0.3, 2.5), 3)
    return BumpReport(
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


_Reading = Callable[[random.Random, datetime, int], BinFillReading | FootfallCount | BumpReport]
# Per stream: device ids, how many devices, and the n-th reading of one.
_DEVICES: dict[Stream, tuple[str, int, _Reading]] = {
    Stream.BIN_FILL: ("bench-bin-{:04d}", BINS, _bin_fill),
    Stream.FOOTFALL: ("bench-ctr-{:03d}", COUNTERS, _footfall),
    Stream.BUMP: ("bench-phone-{:03d}", PHONES, _bump),
}
