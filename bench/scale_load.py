"""The load of ``bench/scale.py``: councils and their devices, a year of their streams from the
simulator's generators, decoded once and written through ``StreamWriter`` into every database
of the run at the same time (one writer thread per database, so one server's work overlaps the
next batch's simulation)."""

import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg

from analytics.routing.io import set_depot
from ingest.contract.decode import decode
from ingest.contract.payloads import FootfallCount
from ingest.contract.topics import Stream, build_topic
from ingest.db.registry import ensure_council, import_devices
from ingest.db.writer import Message, StreamWriter
from simulators.bins import BinSensorParams, as_reading, simulate_bin
from simulators.calendar import DayFactors, day_factors
from simulators.footfall import LOCAL, simulate_counter
from simulators.phones import random_phone, simulate_trip
from simulators.sink import encode
from simulators.world import World, build_world

PREFIX = "smartstreets"
BIN_SENSOR = BinSensorParams(report_every_min=15)
"""Bins report every 15 minutes here (the simulator's default is 30)."""
BATCH = 5000
"""Messages per write, as the simulator's sink writes them."""


@dataclass(frozen=True)
class Fleet:
    """The shared service's councils: the first is the biggest."""

    worlds: tuple[World, ...]
    phones: tuple[int, ...]
    """Phones of each council."""
    phone_every_days: tuple[int, ...]
    """Each council's phones drive once every this many days."""

    @property
    def biggest(self) -> str:
        return self.worlds[0].town.council

    @property
    def small(self) -> str:
        return self.worlds[-1].town.council

    def devices(self, kind: str) -> int:
        """Bins, counters or phones over every council."""
        if kind == "phone":
            return sum(self.phones)
        return sum(len(w.town.bins if kind == "bin" else w.town.counters) for w in self.worlds)

    def trips(self, days: int) -> int:
        """Phone trips over ``days``."""
        return sum(
            p * -(-days // e) for p, e in zip(self.phones, self.phone_every_days, strict=True)
        )


def make_fleet(
    councils: int,
    bins: int,
    counters: int,
    big: int,
    phones: tuple[int, int],
    phone_every: int,
    seed: int,
) -> Fleet:
    """``councils`` councils of ``bins`` bins, ``counters`` counters and ``phones[1]`` phones
    (each driving every ``phone_every`` days); the first has ``big`` times as many bins and
    counters and ``phones[0]`` phones, driving daily (phones' trips cost the most to
    simulate)."""
    worlds, fleet_phones, every = [], [], []
    for i in range(councils):
        factor = big if i == 0 else 1
        slug = "big-shire" if i == 0 else f"small-{i:02d}"
        worlds.append(
            build_world(slug, seed=seed + i, bins=bins * factor, counters=counters * factor)
        )
        fleet_phones.append(phones[0] if i == 0 else phones[1])
        every.append(1 if i == 0 else phone_every)
    return Fleet(tuple(worlds), tuple(fleet_phones), tuple(every))


def register(conn: psycopg.Connection, fleet: Fleet) -> None:
    """Every council, its devices and its depot at the town's centre, as ``smartstreets
    councils``, ``devices import`` and ``routes depot`` do."""
    for world in fleet.worlds:
        ensure_council(conn, world.town.council, world.town.council.replace("-", " ").title())
        import_devices(conn, world.town.devices())
        set_depot(conn, world.town.council, *world.town.centre)


# -- generation ---------------------------------------------------------------------------------


def _message(topic: str, body: bytes, at: datetime) -> Message:
    return Message(topic, body, at, decode(PREFIX, topic, body, at))


def _bins(world: World, days: list[DayFactors], seed: int) -> Iterator[Message | None]:
    """Every bin's readings, then ``None`` when a bin is done (for the progress bar)."""
    for sim in world.town.bins:
        device = sim.device.device_id
        topic = build_topic(PREFIX, world.town.council, Stream.BIN_FILL, device)
        rng = random.Random(f"bin-{seed}-{device}")
        samples = simulate_bin(sim.location_type, sim.fill_rate_pct_h, days, rng, BIN_SENSOR)
        for seq, s in enumerate(samples):
            yield _message(topic, encode(as_reading(s, seq)), s.ts)
        yield None


def _counters(world: World, days: list[DayFactors], seed: int) -> Iterator[Message | None]:
    for sim in world.town.counters:
        device = sim.device.device_id
        topic = build_topic(PREFIX, world.town.council, Stream.FOOTFALL, device)
        rng = random.Random(f"counter-{seed}-{device}")
        seq = 0
        for p in simulate_counter(sim.peak_per_hour, days, rng):
            if p.reported:
                body = FootfallCount(period_start=p.start, period_end=p.end, count=p.count, seq=seq)
                yield _message(topic, encode(body), p.end)
                seq += 1
        yield None


def _phones(
    world: World, days: list[DayFactors], seed: int, phones: int, every: int
) -> Iterator[Message | None]:
    """Each phone's trips (one on every ``every``-th day), as ``simulators.backfill`` drives
    them: its bump reports and its coverage track."""
    council = world.town.council
    for i in range(phones):
        rng = random.Random(f"phone-{seed}-{council}-{i}")
        phone = random_phone(rng)
        install = f"phone-{seed}-{council}-{i:04d}"
        bump_topic = build_topic(PREFIX, council, Stream.BUMP, install)
        coverage_topic = build_topic(PREFIX, council, Stream.COVERAGE, install)
        for d in days[::every]:
            midnight = datetime(d.day.year, d.day.month, d.day.day, tzinfo=LOCAL)
            start = midnight.astimezone(UTC) + timedelta(hours=rng.uniform(7, 19))
            path = world.network.random_trip(rng)
            route, speeds = world.network.route_points(path), world.network.leg_speeds(path)
            trip = simulate_trip(route, speeds, world.features, start, rng, phone)
            for report in trip.reports:
                yield _message(bump_topic, encode(report), report.ts)
            if trip.coverage is not None:
                yield _message(coverage_topic, encode(trip.coverage), trip.coverage.ts_end)
        yield None


def messages(fleet: Fleet, start: date, days: int, seed: int) -> Iterator[Message | None]:
    """The whole service's history, council by council; ``None`` after each device."""
    for world, phones, every in zip(
        fleet.worlds, fleet.phones, fleet.phone_every_days, strict=True
    ):
        factors = day_factors(start, days, seed)
        yield from _bins(world, factors, seed)
        yield from _counters(world, factors, seed)
        yield from _phones(world, factors, seed, phones, every)


# -- writing ------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one database took: rows per table, refusals and the seconds its writes took."""

    written: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    write_s: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.written.values())


class FanOut:
    """Writes each batch to every database, one thread per database; a batch is handed over
    only when every writer has finished the previous one (memory stays one batch deep)."""

    def __init__(self, conns: Sequence[psycopg.Connection]) -> None:
        self.writers = [StreamWriter(c) for c in conns]
        self.tallies = [Tally() for _ in conns]
        self.pool = ThreadPoolExecutor(max_workers=len(conns), thread_name_prefix="scale-writer")
        self.pending: list[Future[None]] = []

    def _write(self, i: int, batch: list[Message]) -> None:
        started = time.perf_counter()
        outcome = self.writers[i].write(batch)
        tally = self.tallies[i]
        tally.write_s += time.perf_counter() - started
        tally.quarantined += outcome.quarantined
        for table, n in outcome.written.items():
            tally.written[table] = tally.written.get(table, 0) + n

    def wait(self) -> None:
        """Wait for the batch in flight; re-raises a writer's error."""
        for f in self.pending:
            f.result()
        self.pending = []

    def submit(self, batch: list[Message]) -> None:
        self.wait()
        self.pending = [self.pool.submit(self._write, i, batch) for i in range(len(self.writers))]

    def close(self) -> None:
        self.wait()
        self.pool.shutdown()


def load(
    fleet: Fleet,
    conns: Sequence[psycopg.Connection],
    start: date,
    days: int,
    seed: int,
    advance: Callable[[int, int], None],
) -> list[Tally]:
    """Write the fleet's history to every connection; ``advance(devices, messages)`` reports
    progress. Returns each database's tally."""
    fan = FanOut(conns)
    try:
        batch: list[Message] = []
        for msg in messages(fleet, start, days, seed):
            if msg is None:
                advance(1, 0)
                continue
            batch.append(msg)
            if len(batch) >= BATCH:
                fan.submit(batch)
                advance(0, len(batch))
                batch = []
        if batch:
            fan.submit(batch)
            advance(0, len(batch))
    finally:
        fan.close()
    return fan.tallies
