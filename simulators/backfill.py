"""``smartstreets simulate --days D --out DIR``: days of history, fast, with the ground truth.

History goes straight into the database through the same decoder and writer as ingest, not
through MQTT: a month of a 500-bin town is ~700,000 messages, which the broker round trip
would slow down without testing anything new (ingest has its own tests and benchmark), and
the decoder still refuses anything a real device could not send. The town, the truth and a
registry CSV are written to DIR; the same seed gives the same files, byte for byte.
"""

import csv
import json
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import psycopg

from analytics.geo.roads import RoadNetwork
from ingest.contract.decode import decode
from ingest.contract.payloads import FootfallCount
from ingest.contract.topics import Stream, build_topic
from ingest.db.connect import refresh_rollups
from ingest.db.registry import ensure_council, import_devices, write_registry_csv
from ingest.db.writer import Message, StreamWriter
from simulators.bins import as_reading, simulate_bin
from simulators.calendar import DayFactors, day_factors
from simulators.features import RoadFeature
from simulators.footfall import LOCAL, simulate_counter
from simulators.phones import random_phone, simulate_trip
from simulators.town import Town

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class RowWriter(Protocol):
    """What the truth files are written through (a ``csv.writer``)."""

    def writerow(self, row: Iterable[object], /) -> object: ...


@dataclass
class BackfillResult:
    """What a backfill produced."""

    messages: int = 0
    written: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    files: list[Path] = field(default_factory=list)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Sink:
    """Batches messages through the ingest decoder and writer (or only counts them)."""

    def __init__(self, conn: psycopg.Connection | None, prefix: str, batch: int = 5000) -> None:
        self.writer = StreamWriter(conn) if conn is not None else None
        self.prefix = prefix
        self.batch = batch
        self.pending: list[Message] = []
        self.result = BackfillResult()

    def add(self, topic: str, body: bytes, at: datetime) -> None:
        self.result.messages += 1
        if self.writer is None:
            return
        self.pending.append(Message(topic, body, at, decode(self.prefix, topic, body, at)))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.writer is None or not self.pending:
            return
        outcome = self.writer.write(self.pending)
        for table, n in outcome.written.items():
            self.result.written[table] = self.result.written.get(table, 0) + n
        self.result.quarantined += outcome.quarantined
        self.pending = []


@dataclass(frozen=True)
class _Run:
    """What every stream's generator of one backfill shares."""

    town: Town
    days: list[DayFactors]
    seed: int
    prefix: str
    sink: _Sink
    progress: Progress


def _bins(run: _Run, truth: RowWriter) -> None:
    town, days, seed, prefix, sink = run.town, run.days, run.seed, run.prefix, run.sink
    for sim in town.bins:
        device = sim.device.device_id
        topic = build_topic(prefix, town.council, Stream.BIN_FILL, device)
        rng = random.Random(f"bin-{seed}-{device}")
        for seq, s in enumerate(simulate_bin(sim.location_type, sim.fill_rate_pct_h, days, rng)):
            reading = as_reading(s, seq)
            sink.add(topic, reading.model_dump_json(exclude_none=True).encode(), s.ts)
            truth.writerow((device, _iso(s.ts), s.true_fill, s.reported_fill, int(s.stuck)))
        run.progress(1)


def _counters(run: _Run, truth: RowWriter) -> None:
    town, days, seed, prefix, sink = run.town, run.days, run.seed, run.prefix, run.sink
    for sim in town.counters:
        device = sim.device.device_id
        topic = build_topic(prefix, town.council, Stream.FOOTFALL, device)
        rng = random.Random(f"counter-{seed}-{device}")
        seq = 0
        for p in simulate_counter(sim.peak_per_hour, days, rng):
            truth.writerow(
                (device, sim.device.zone, _iso(p.start), _iso(p.end), p.count, int(p.reported))
            )
            if not p.reported:
                continue
            body = FootfallCount(period_start=p.start, period_end=p.end, count=p.count, seq=seq)
            sink.add(topic, body.model_dump_json(exclude_none=True).encode(), p.end)
            seq += 1
        run.progress(1)


def _phones(
    run: _Run,
    network: RoadNetwork,
    features: Sequence[RoadFeature],
    phones: int,
    trips_per_day: int,
    truth: RowWriter,
) -> None:
    days, seed, prefix, sink = run.days, run.seed, run.prefix, run.sink
    council = run.town.council
    for i in range(phones):
        rng = random.Random(f"phone-{seed}-{i}")
        phone = random_phone(rng)  # a phone keeps its rate and noise across trips
        # The app's install id; ingest stores only its pseudonym of the period.
        bump_topic = build_topic(prefix, council, Stream.BUMP, f"phone-{seed}-{i:04d}")
        coverage_topic = build_topic(prefix, council, Stream.COVERAGE, f"phone-{seed}-{i:04d}")
        for d in days:
            for trip_no in range(trips_per_day):
                token = f"t{seed}-{i:04d}-{d.day:%Y%m%d}-{trip_no}"  # names the trip in the truth
                hour = rng.uniform(7, 19)
                start = datetime(d.day.year, d.day.month, d.day.day, tzinfo=LOCAL).astimezone(
                    UTC
                ) + timedelta(hours=hour)
                path = network.random_trip(rng)
                trip = simulate_trip(
                    network.route_points(path),
                    network.leg_speeds(path),
                    features,
                    start,
                    rng,
                    phone,
                )
                for report in trip.reports:
                    body = report.model_dump_json(exclude_none=True).encode()
                    sink.add(bump_topic, body, report.ts)
                if trip.coverage is not None:
                    body = trip.coverage.model_dump_json(exclude_none=True).encode()
                    sink.add(coverage_topic, body, trip.coverage.ts_end)
                for hit in trip.hits:
                    truth.writerow(
                        (
                            token,
                            hit.feature_id,
                            hit.kind,
                            _iso(hit.ts),
                            round(hit.speed_mps, 2),
                            round(hit.peak_g, 3),
                            int(hit.private),
                        )
                    )
        run.progress(1)


def _csv(stack: ExitStack, path: Path, header: tuple[str, ...]) -> RowWriter:
    writer = csv.writer(
        stack.enter_context(path.open("w", newline="", encoding="utf-8")), lineterminator="\n"
    )
    writer.writerow(header)
    return writer


def backfill(
    town: Town,
    *,
    start: date,
    days: int,
    seed: int,
    out: Path,
    prefix: str,
    conn: psycopg.Connection | None,
    network: RoadNetwork | None = None,
    features: Sequence[RoadFeature] = (),
    phones: int = 0,
    trips_per_day: int = 2,
    progress: Progress = lambda n: None,
) -> BackfillResult:
    """Simulate ``days`` days from ``start`` and write history, town and truth.

    With ``conn`` the devices are registered and every message is decoded and written as
    ingest would; without it only the files are written.
    """
    out.mkdir(parents=True, exist_ok=True)
    factors = day_factors(start, days, seed)
    if conn is not None:
        ensure_council(conn, town.council)
        import_devices(conn, town.devices())
    sink = _Sink(conn, prefix)
    registry = out / "registry.csv"
    registry.write_text(write_registry_csv(town.devices()), encoding="utf-8")
    (out / "days.json").write_text(
        json.dumps(
            [
                {
                    "day": f.day.isoformat(),
                    "weather": round(f.weather, 4),
                    "bank_holiday": f.bank_holiday,
                    "school_holiday": f.school_holiday,
                    "event": f.event,
                    "event_boost": round(f.event_boost, 4),
                }
                for f in factors
            ],
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    bin_path, foot_path = out / "bin_truth.csv", out / "footfall_truth.csv"
    with ExitStack() as stack:
        bin_truth = _csv(stack, bin_path, ("bin", "time", "true_fill", "reported_fill", "stuck"))
        foot_truth = _csv(
            stack, foot_path, ("counter", "zone", "period_start", "period_end", "count", "reported")
        )
        run = _Run(town, factors, seed, prefix, sink, progress)
        _bins(run, bin_truth)
        _counters(run, foot_truth)
        if network is not None and phones:
            hits = _csv(
                stack,
                out / "bump_truth.csv",
                ("trip", "feature_id", "kind", "time", "speed_mps", "peak_g", "private"),
            )
            _phones(run, network, features, phones, trips_per_day, hits)
        sink.flush()
    if conn is not None and days:
        first = datetime(start.year, start.month, start.day, tzinfo=UTC)
        refresh_rollups(conn, first, datetime.now(UTC))
    sink.result.files = [registry, out / "days.json", bin_path, foot_path]
    if network is not None and phones:
        sink.result.files.append(out / "bump_truth.csv")
    if network is not None:
        roads = out / "roads.geojson"
        roads.write_text(json.dumps(network.to_geojson(), indent=1) + "\n", encoding="utf-8")
        sink.result.files.append(roads)
    sink.result.files += _write_features(out, features)
    return sink.result


def _write_features(out: Path, features: Sequence[RoadFeature]) -> list[Path]:
    """potholes.csv and speed_humps.csv as the issue names them, and every feature in one file."""
    written = []
    for name, kinds, columns in (
        ("potholes.csv", {"pothole"}, ("id", "lat", "lon", "severity")),
        ("speed_humps.csv", {"speed_hump"}, ("id", "lat", "lon", "severity")),
        (
            "road_features.csv",
            {"pothole", "speed_hump", "manhole", "rough"},
            ("id", "kind", "lat", "lon", "severity", "length_m"),
        ),
    ):
        path = out / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for f in features:
                if f.kind in kinds:
                    row = {
                        "id": f.feature_id,
                        "kind": f.kind,
                        "lat": f"{f.lat:.7f}",
                        "lon": f"{f.lon:.7f}",
                        "severity": f"{f.severity:.3f}",
                        "length_m": f"{f.length_m:.1f}",
                    }
                    writer.writerow([row[c] for c in columns])
        written.append(path)
    return written


def backfill_phones(
    conn: psycopg.Connection,
    town: Town,
    network: RoadNetwork,
    features: Sequence[RoadFeature],
    *,
    start: date,
    days: int,
    seed: int,
    prefix: str,
    phones: int,
    trips_per_day: int = 1,
) -> BackfillResult:
    """Write ``days`` days of phones' bump reports and coverage tracks only, as ingest would
    (the demo uses it so the highways map has something to show from the start)."""
    sink = _Sink(conn, prefix)
    run = _Run(town, day_factors(start, days, seed), seed, prefix, sink, lambda n: None)

    class _NoTruth:
        def writerow(self, row: Iterable[object]) -> None:
            pass

    _phones(run, network, features, phones, trips_per_day, _NoTruth())
    sink.flush()
    return sink.result
