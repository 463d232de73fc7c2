"""Benchmark: road coverage, how well trip tracks are matched to the road segments driven.

Drives ``--trips`` random trips through each generated town (seeds ``1..--towns``); each trip's
coverage track (what a phone sends: a point every 25 m, its first and last 200 m left off) is
matched to the town's segments on its own. A segment counts as truly passed when the trip drove
at least half of it outside the trip's private ends. Prints segment-level precision and recall,
and the time to match one track (the baseline, matching by the nearest segment of every track
point without the grid index, is timed on the same tracks). Run from the repository root::

    .venv/bin/python bench/coverage.py [--towns 3] [--trips 100]
"""

import argparse
import itertools
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Ahead of bench/ itself, whose ingest.py would otherwise shadow the ingest package.
sys.path.insert(0, str(REPO))

from analytics.geo.geometry import haversine_m  # noqa: E402
from analytics.geo.roads import RoadNetwork  # noqa: E402
from analytics.potholes.coverage import (  # noqa: E402
    Segment,
    Track,
    match_passes,
    segments_from_network,
)
from analytics.potholes.privacy import TRIP_END_MARGIN_M  # noqa: E402
from simulators.phones import simulate_trip  # noqa: E402
from simulators.world import build_world  # noqa: E402

START = datetime(2026, 11, 2, 8, tzinfo=UTC)


def _truth(network: RoadNetwork, path: list[int], segments: list[Segment]) -> set[str]:
    """Segments the trip drove at least half of, between its private ends."""
    legs = [(a, b, network.edge_between(a, b).length_m) for a, b in itertools.pairwise(path)]
    total = sum(length for _, _, length in legs)
    kept: dict[frozenset[int], float] = {}
    at = 0.0
    for a, b, length in legs:
        lo, hi = max(at, TRIP_END_MARGIN_M), min(at + length, total - TRIP_END_MARGIN_M)
        kept[frozenset((a, b))] = kept.get(frozenset((a, b)), 0.0) + max(0.0, hi - lo)
        at += length
    index = {(n.lat, n.lon): n.node_id for n in network.nodes}
    out = set()
    for s in segments:
        nodes = [index[p] for p in s.points]
        driven = sum(kept.get(frozenset(e), 0.0) for e in itertools.pairwise(nodes))
        if driven >= 0.5 * s.length_m:
            out.add(s.segment_id)
    return out


def _nearest_only(segments: list[Segment], track: Track) -> None:
    """The baseline: every track point against every segment point (no index)."""
    pts = [p for s in segments for p in s.points]
    for q in track.points:
        min(haversine_m(*q, *p) for p in pts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=3, help="Generated towns (seeds 1..N).")
    parser.add_argument("--trips", type=int, default=100, help="Trips per town.")
    args = parser.parse_args()
    if args.towns < 1 or args.trips < 1:
        parser.error("--towns and --trips must be at least 1")
    tp = fp = fn = tracks = 0
    match_s = base_s = 0.0
    for seed in range(1, args.towns + 1):
        world = build_world("bench", seed=seed, bins=1, counters=1)
        net = world.network
        segments = segments_from_network(net)
        rng = random.Random(f"bench-coverage-{seed}")
        for _ in range(args.trips):
            path = net.random_trip(rng)
            trip = simulate_trip(net.route_points(path), net.leg_speeds(path), [], START, rng)
            if trip.coverage is None:
                continue
            points = tuple((p[0], p[1]) for p in trip.coverage.points)
            track = Track(
                "p1-0000000000000000", trip.coverage.ts_start, trip.coverage.ts_end, points
            )
            t0 = time.perf_counter()
            got = {c.segment_id for c in match_passes(segments, [track]) if c.passes}
            match_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            _nearest_only(segments, track)
            base_s += time.perf_counter() - t0
            true = _truth(net, path, segments)
            tp, fp, fn, tracks = (
                tp + len(got & true),
                fp + len(got - true),
                fn + len(true - got),
                tracks + 1,
            )
    print(f"Coverage matching on {args.towns} towns x {args.trips} trips ({tracks} tracks sent)")
    print(f"segment passes: true {tp}, false {fp}, missed {fn}")
    print(f"precision {tp / max(1, tp + fp):.3f}  recall {tp / max(1, tp + fn):.3f}")
    print(
        f"time per track: {1000 * match_s / max(1, tracks):.2f} ms matched "
        f"(baseline without the index, nearest point only: {1000 * base_s / max(1, tracks):.2f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
