"""``smartstreets simulate backfill --days D --out DIR``: days of history, fast, with the truth.

History goes straight into the database through the same decoder and writer as ingest, not
through MQTT (see :mod:`simulators.sink`). The town, the truth and a registry CSV are written to
DIR (see :mod:`simulators.truth`); the same seed gives the same files, byte for byte.
"""

import logging
import random
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from analytics.geo.roads import RoadNetwork
from ingest.contract.payloads import FootfallCount
from ingest.contract.topics import Stream, build_topic
from ingest.db.connect import refresh_rollups
from ingest.db.registry import ensure_council, import_devices
from simulators.bins import as_reading, simulate_bin
from simulators.calendar import DayFactors, day_factors
from simulators.features import RoadFeature
from simulators.footfall import LOCAL, simulate_counter
from simulators.phones import random_phone, simulate_trip
from simulators.sink import BackfillResult, Sink, encode
from simulators.town import Town
from simulators.truth import (
    BIN_TRUTH,
    BUMP_TRUTH,
    FOOTFALL_TRUTH,
    NoTruth,
    RowWriter,
    truth_csv,
    write_days,
    write_features,
    write_registry,
    write_roads,
)

__all__ = ["BackfillResult", "Progress", "backfill", "backfill_phones"]

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class _Run:
    """What every stream's generator of one backfill shares."""

    town: Town
    days: list[DayFactors]
    seed: int
    prefix: str
    sink: Sink
    progress: Progress

    def device(self, stream: Stream, kind: str, device: str) -> tuple[str, random.Random]:
        """The topic of ``device``, and its own random generator."""
        topic = build_topic(self.prefix, self.town.council, stream, device)
        return topic, random.Random(f"{kind}-{self.seed}-{device}")


def _bins(run: _Run, truth: RowWriter) -> None:
    for sim in run.town.bins:
        device = sim.device.device_id
        topic, rng = run.device(Stream.BIN_FILL, "bin", device)
        for seq, s in enumerate(
            simulate_bin(sim.location_type, sim.fill_rate_pct_h, run.days, rng)
        ):
            run.sink.add(topic, encode(as_reading(s, seq)), s.ts)
            truth.writerow((device, _iso(s.ts), s.true_fill, s.reported_fill, int(s.stuck)))
        run.progress(1)


def _counters(run: _Run, truth: RowWriter) -> None:
    for sim in run.town.counters:
        device = sim.device.device_id
        topic, rng = run.device(Stream.FOOTFALL, "counter", device)
        seq = 0
        for p in simulate_counter(sim.peak_per_hour, run.days, rng):
            truth.writerow(
                (device, sim.device.zone, _iso(p.start), _iso(p.end), p.count, int(p.reported))
            )
            if not p.reported:
                continue
            body = FootfallCount(period_start=p.start, period_end=p.end, count=p.count, seq=seq)
            run.sink.add(topic, encode(body), p.end)
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
    for i in range(phones):
        rng = random.Random(f"phone-{run.seed}-{i}")
        phone = random_phone(rng)  # a phone keeps its rate and noise across trips
        # The app's install id; ingest stores only its pseudonym of the period.
        install = f"phone-{run.seed}-{i:04d}"
        bump_topic = build_topic(run.prefix, run.town.council, Stream.BUMP, install)
        coverage_topic = build_topic(run.prefix, run.town.council, Stream.COVERAGE, install)
        for d in run.days:
            for trip_no in range(trips_per_day):
                # The token names the trip in the truth.
                token = f"t{run.seed}-{i:04d}-{d.day:%Y%m%d}-{trip_no}"
                hour = rng.uniform(7, 19)
                midnight = datetime(d.day.year, d.day.month, d.day.day, tzinfo=LOCAL)
                start = midnight.astimezone(UTC) + timedelta(hours=hour)
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
                    run.sink.add(bump_topic, encode(report), report.ts)
                if trip.coverage is not None:
                    run.sink.add(coverage_topic, encode(trip.coverage), trip.coverage.ts_end)
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
    sink = Sink(conn, prefix)
    files = [write_registry(out, town), write_days(out, factors)]
    drive = network is not None and bool(phones)
    with ExitStack() as stack:
        bin_truth = truth_csv(stack, out, BIN_TRUTH)
        foot_truth = truth_csv(stack, out, FOOTFALL_TRUTH)
        run = _Run(town, factors, seed, prefix, sink, progress)
        _bins(run, bin_truth)
        _counters(run, foot_truth)
        if network is not None and drive:
            hits = truth_csv(stack, out, BUMP_TRUTH)
            _phones(run, network, features, phones, trips_per_day, hits)
        sink.flush()
    if conn is not None and days:
        first = datetime(start.year, start.month, start.day, tzinfo=UTC)
        refresh_rollups(conn, first, datetime.now(UTC))
    files += [out / BIN_TRUTH[0], out / FOOTFALL_TRUTH[0]]
    if drive:
        files.append(out / BUMP_TRUTH[0])
    if network is not None:
        files.append(write_roads(out, network))
    sink.result.files = files + write_features(out, features)
    return sink.result


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
    sink = Sink(conn, prefix)
    run = _Run(town, day_factors(start, days, seed), seed, prefix, sink, lambda n: None)
    _phones(run, network, features, phones, trips_per_day, NoTruth())
    sink.flush()
    return sink.result
