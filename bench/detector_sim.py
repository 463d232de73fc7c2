"""Benchmark: the reference pothole detector's precision and recall on simulated trips.

Drives the same random trips through three generated towns at 5, 20 and 50 Hz (route, speeds and
phone the same at every rate, only the accelerometer rate differs), runs ``detect`` on each trace
and matches its events to the ground truth of what the wheels really hit. An event matches a hit
when it is within ``--tolerance-s`` seconds (default 1.5) of the hit or within ``--tolerance-m``
metres (default 15) of the feature; for a rough stretch, anywhere along it. An event matching a
pothole hit is a true positive; any other is a false positive, counted by what it matched
(speed hump, manhole, rough road, nothing). Run from the repository root::

    .venv/bin/python bench/detector_sim.py [--towns 3] [--trips 100] [--seed 1]

The same detector on real labelled recordings, cross-validated against a plain threshold and
the learned detector, is ``bench/detector.py``.
"""

import argparse
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Ahead of bench/ itself, whose ingest.py would otherwise shadow the ingest package.
sys.path.insert(0, str(REPO))

from analytics.geo.geometry import offset_m  # noqa: E402
from analytics.potholes.detector import JoltEvent, detect  # noqa: E402
from simulators.features import RoadFeature  # noqa: E402
from simulators.phones import FeatureHit, random_phone, simulate_trip  # noqa: E402
from simulators.world import World, build_world  # noqa: E402

RATES_HZ = (5.0, 20.0, 50.0)
START = datetime(2026, 3, 2, 8, tzinfo=UTC)
BASELINE = "published smartphone detector (the issue's reference): precision 0.78, recall 0.42"


@dataclass
class Tally:
    """Counts over all trips at one rate."""

    trips: int = 0
    events: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    hits_detected: Counter[str] = field(default_factory=Counter)
    """Hits matched by at least one event, by kind."""
    events_by_match: Counter[str] = field(default_factory=Counter)
    """Events by the kind they matched, a pothole first: a pothole, else a false positive."""
    detect_s: float = 0.0
    total_s: float = 0.0


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    east, north = offset_m(lat1, lon1, lat2, lon2)
    return math.hypot(north, east)


def _matches(
    e: JoltEvent, h: FeatureHit, f: RoadFeature, tolerance_s: float, tolerance_m: float
) -> bool:
    if h.kind == "rough":  # the hit is where the stretch begins; the event may be anywhere on it
        return (
            h.t_s - tolerance_s <= e.t <= h.t_s + f.length_m / max(h.speed_mps, 1.0) + tolerance_s
        )
    near = _metres(e.lat, e.lon, f.lat, f.lon) <= tolerance_m
    return abs(e.t - h.t_s) <= tolerance_s or near


def _score(
    events: list[JoltEvent],
    hits: tuple[FeatureHit, ...],
    features: dict[str, RoadFeature],
    tally: Tally,
    tolerance_s: float,
    tolerance_m: float,
) -> None:
    detected: set[int] = set()
    for e in events:
        matched = [
            i
            for i, h in enumerate(hits)
            if _matches(e, h, features[h.feature_id], tolerance_s, tolerance_m)
        ]
        detected.update(matched)
        # A pothole among the matches makes the event right, whatever else was near it.
        kinds = {hits[i].kind for i in matched}
        order = ("pothole", "speed_hump", "manhole", "rough")
        tally.events_by_match[next((k for k in order if k in kinds), "nothing")] += 1
    tally.events += len(events)
    tally.hits.update(h.kind for h in hits)
    tally.hits_detected.update(hits[i].kind for i in detected)


def run(
    worlds: list[World], trips: int, seed: int, hz: float, tolerance_s: float, tolerance_m: float
) -> Tally:
    """Simulate and score ``trips`` trips in each world at ``hz``."""
    tally = Tally()
    started = time.perf_counter()
    for w, world in enumerate(worlds):
        features = {f.feature_id: f for f in world.features}
        for n in range(trips):
            # Seeded per trip, not per rate: every rate drives the same route with the same phone.
            rng = random.Random(f"bench-detector-{seed}-{w}-{n}")
            path = world.network.random_trip(rng)
            phone = replace(random_phone(rng), sample_hz=hz)
            trip = simulate_trip(
                world.network.route_points(path),
                world.network.leg_speeds(path),
                world.features,
                START,
                rng,
                phone,
                keep_samples=True,
            )
            assert trip.samples is not None
            t0 = time.perf_counter()
            events = detect(trip.samples)
            tally.detect_s += time.perf_counter() - t0
            _score(events, trip.hits, features, tally, tolerance_s, tolerance_m)
            tally.trips += 1
    tally.total_s = time.perf_counter() - started
    return tally


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def _print_table(tallies: dict[float, Tally]) -> None:
    head = (
        f"{'rate':>6} {'trips':>5} {'pothole':>7} {'events':>6} {'found':>5} {'precis.':>7} "
        f"{'recall':>6} {'hump FA':>13} {'FP hump':>7} {'FP manh.':>8} {'FP rough':>8} "
        f"{'FP none':>7} {'detect s':>8} {'wall s':>6}"
    )
    print(head)
    print("-" * len(head))
    for hz, t in tallies.items():
        potholes, found = t.hits["pothole"], t.hits_detected["pothole"]
        true = t.events_by_match["pothole"]
        by, humps = t.events_by_match, t.hits["speed_hump"]
        hump = f"{_ratio(by['speed_hump'], humps)} ({by['speed_hump']}/{humps})"
        print(
            f"{hz:>4.0f}Hz {t.trips:>5} {potholes:>7} {t.events:>6} {found:>5} "
            f"{_ratio(true, t.events):>7} {_ratio(found, potholes):>6} {hump:>13} "
            f"{by['speed_hump']:>7} {by['manhole']:>8} {by['rough']:>8} {by['nothing']:>7} "
            f"{t.detect_s:>8.2f} {t.total_s:>6.1f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=3, help="Generated towns (seeds 1..N).")
    parser.add_argument("--trips", type=int, default=100, help="Trips per town and rate.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the trips.")
    parser.add_argument("--tolerance-s", type=float, default=1.5)
    parser.add_argument("--tolerance-m", type=float, default=15.0)
    args = parser.parse_args()
    if args.towns < 1 or args.trips < 1:
        parser.error("--towns and --trips must be at least 1")
    worlds = [build_world("bench", seed=s, bins=1, counters=1) for s in range(1, args.towns + 1)]
    tallies = {
        hz: run(worlds, args.trips, args.seed, hz, args.tolerance_s, args.tolerance_m)
        for hz in RATES_HZ
    }
    print(
        f"Reference detector on {args.towns} towns x {args.trips} trips (seed {args.seed}); "
        f"match within {args.tolerance_s:g} s or {args.tolerance_m:g} m of a hit"
    )
    _print_table(tallies)
    print(
        "pothole = true pothole hits; found = hits with an event; precision = events on a "
        "pothole / events;\nhump FA = hump false positives per speed hump crossed; FP = events "
        "matching only a hump, manhole, rough stretch or nothing; wall s includes simulation."
    )
    print(f"Baseline: {BASELINE}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
