"""The four jobs of ``bench/jobs.py``: each generates its input, runs the job and reports."""

import argparse
import cProfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from analytics.forecasting.calendars import CALENDARS
from analytics.forecasting.store import HORIZON_H, forecasts_to_store
from analytics.geo.osm import load_osm
from analytics.potholes.batch import confirm_all, with_quality
from analytics.potholes.confirm import ConfirmParams, DeviceReport
from analytics.potholes.coverage import match_passes, segments_from_network
from analytics.routing.road_matrix import network_matrix
from analytics.routing.vrp import solve_routes
from bench.jobs_data import (
    RUTLAND,
    bump_reports,
    collection_day,
    coverage_tracks,
    day_fleet,
    footfall_history,
)
from bench.jobs_report import console, peak_rss_mb, step, timed, verdict
from simulators.world import build_world

T = TypeVar("T")

BUILD_S = 2.0
"""Seconds kept from a plan's search for building PyVRP's problem from the matrix."""


def routing_job(args: argparse.Namespace) -> None:
    """Plan a day of ``--bins`` bins and ``--vehicles`` vehicles in ``--seconds``, against a
    ``--long-seconds`` run of the same planner on the same travel matrix."""
    (network, points, visits), _ = timed(
        f"Reading Rutland's roads, placing {args.bins} bins",
        lambda: collection_day(args.bins, args.seed),
    )
    matrix, matrix_s = timed(
        f"Travel matrix on the roads ({len(points)} points)",
        lambda: network_matrix(network, points),
    )
    console.print(
        f"{len(network.nodes)} road nodes; {sum(v.required for v in visits)} bins must be "
        f"emptied, {sum(v.window_s is not None for v in visits)} within 07:00-10:00; matrix "
        f"{matrix_s:.1f} s"
    )
    fleet = day_fleet(args.vehicles)

    def solve(seconds: float) -> tuple[int, int, int, float]:
        solved, wall = timed(
            f"Planning, {seconds:.0f} s search",
            lambda: solve_routes(
                matrix.distance_m, matrix.duration_s, visits, fleet, seconds=seconds, seed=args.seed
            ),
        )
        metres = sum(r.distance_m for r in solved.routes)
        return solved.cost, metres, len(solved.dropped), wall

    # The plan's search gets what the travel matrix and building the problem leave of the time.
    short = solve(max(args.seconds / 2, args.seconds - matrix_s - BUILD_S))
    long = solve(args.long_seconds)
    for name, (cost, metres, dropped, wall) in (("short", short), ("long", long)):
        console.print(
            f"{name}: cost {cost} (distance {metres / 1000:.1f} km, {dropped} bins left out), "
            f"{wall:.1f} s"
        )
    total = matrix_s + short[3]
    verdict(
        f"plan {args.bins} bins, {args.vehicles} vehicles",
        f"{total:.1f} s (matrix {matrix_s:.1f} s + planning {short[3]:.1f} s)",
        total <= args.seconds,
        f"<= {args.seconds} s",
    )
    gap = 100 * (short[0] - long[0]) / long[0]
    verdict(
        f"plan quality against {args.long_seconds} s",
        f"cost {short[0]} vs {long[0]}: {gap:+.2f} %",
        gap <= 2.0,
        "<= 2 %",
    )


def forecast_job(args: argparse.Namespace) -> None:
    """Refresh the 48-hour forecasts of ``--counters`` counters from a year of hourly counts."""
    now = datetime(2015, 2, 1, 9, 30, tzinfo=UTC)
    history, _ = timed(
        f"Replicating Melbourne's sensors into {args.counters} counters' year",
        lambda: footfall_history(args.counters, args.seed, now),
    )
    calendar = CALENDARS["vic"]()
    start = now.replace(minute=0)
    (made, _status, unknown), wall = timed(
        f"Forecasting {HORIZON_H} h of {history['series'].n_unique()} series "
        f"({history.height:,} hours)",
        lambda: _profiled(args.profile, lambda: forecasts_to_store(history, calendar, start, None)),
    )
    console.print(f"{made.height:,} forecast rows, {len(unknown)} series unknown")
    verdict(f"forecast refresh, {args.counters} counters", f"{wall:.1f} s", wall <= 30, "<= 30 s")


def potholes_job(args: argparse.Namespace) -> None:
    """Confirm potholes over ``--reports`` bump reports of 90 days: each batch scored as the
    refresh reads it (timed), then all confirmed (timed)."""
    end = datetime(2026, 11, 30, tzinfo=UTC)
    reports: list[DeviceReport] = []
    scoring = 0.0
    with step(f"Generating and scoring {args.reports:,} bump reports"):
        for batch in bump_reports(args.reports, args.seed, end):
            started = time.perf_counter()
            reports.extend(with_quality(batch, keep_samples=args.keep_samples))
            scoring += time.perf_counter() - started
    before = peak_rss_mb()
    params = ConfirmParams()
    found, wall = timed(
        "Confirming", lambda: _profiled(args.profile, lambda: confirm_all(reports, [], params))
    )
    confirmed = sum(p.state == "confirmed" for _, p in found)
    console.print(
        f"{len(found):,} clusters, {confirmed:,} confirmed; scoring {scoring:.1f} s, "
        f"confirming {wall:.1f} s"
    )
    peak = peak_rss_mb()
    total = scoring + wall
    verdict(f"confirm {args.reports:,} reports", f"{total:.1f} s", total <= 60, "<= 60 s")
    verdict(
        "confirm's peak memory",
        f"{peak:,.0f} MB peak RSS (after reading: {before:,.0f} MB)",
        peak < 2048,
        "< 2 GB",
    )


def coverage_job(args: argparse.Namespace) -> None:
    """Match ``--drives`` drives' coverage tracks to the segments of Oakham's real streets or
    of a generated town (``--roads``)."""
    if args.roads == "oakham":
        network = load_osm(RUTLAND)  # Oakham's streets, within 3 km of its centre
    else:
        network = build_world("bench", seed=args.seed, bins=1, counters=1).network
    segments = segments_from_network(network)
    tracks, _ = timed(
        f"Driving {args.drives:,} trips",
        lambda: coverage_tracks(network, args.drives, args.seed, datetime(2026, 11, 2, tzinfo=UTC)),
    )
    found, wall = timed(
        f"Matching {len(tracks):,} tracks to {len(segments)} segments",
        lambda: _profiled(args.profile, lambda: match_passes(segments, tracks)),
    )
    passed = sum(1 for c in found if c.passes)
    console.print(
        f"{passed} of {len(found)} segments passed, {sum(c.passes for c in found):,} passes; "
        f"{1000 * wall / max(1, len(tracks)):.2f} ms a track"
    )
    verdict(f"match {len(tracks):,} tracks", f"{wall:.1f} s", wall <= 60, "<= 60 s")


def _profiled(path: Path | None, work: Callable[[], T]) -> T:
    """``work()``, under cProfile written to ``path`` when given."""
    if path is None:
        return work()
    profile = cProfile.Profile()
    out = profile.runcall(work)
    profile.dump_stats(str(path))
    return out
