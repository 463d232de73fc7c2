"""The soak's figures, and its verdict as an exit code."""

import argparse
from array import array
from collections import Counter
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from bench.soak_verify import Verdict
from bench.soak_watch import ApiProbe, Kill, LagMonitor, recovery

NEAR_ZERO_S = 2.0
"""Lag counts as back to normal below this many seconds of traffic."""
GAP_S = 1.0
"""Missing messages published closer together than this are one window of loss."""


@dataclass
class Run:
    """What happened during the run, beside the database's contents."""

    started: float  # monotonic seconds when publishing began
    sent_at: array  # type: ignore[type-arg]  # monotonic seconds, per message number
    kills: list[Kill]
    unplanned: list[str]
    lag: LagMonitor
    probe: ApiProbe
    unacked: int
    drain_s: float
    resent: int


def report(console: Console, args: argparse.Namespace, run: Run, verdict: Verdict) -> int:
    """Print the figures; 0 when nothing was lost or doubled and the API held, else 1."""
    near_zero = max(int(args.rate * NEAR_ZERO_S), 20)
    lags = run.lag.lags(verdict.missing)
    recoveries = [
        (k, recovery(lags, k.restarted_at, near_zero))
        for k in run.kills
        if k.restarted_at is not None
    ]
    longest = max(recoveries, key=lambda kr: -1 if kr[1] is None else kr[1], default=None)
    never = [k for k, r in recoveries if r is None]
    peak = max((lag for _, lag in lags), default=0)
    per_kind = Counter(k.kind for k in run.kills)
    table = Table(title=f"soak: {args.minutes:g} min at {args.rate} msg/s, seed {args.seed}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("messages published", f"{verdict.published:,}"),
        ("stored as readings", f"{verdict.stored:,}"),
        ("quarantined (rows)", f"{verdict.found.get('quarantine', 0):,}"),
        ("missing", f"{len(verdict.missing):,}"),
        ("duplicated", f"{len(verdict.duplicated):,}"),
        ("in the wrong table / strangers", f"{verdict.misplaced} / {verdict.strangers}"),
        ("re-sent by publishers after reconnects", f"{run.resent:,}"),
        ("quarantine copies beyond the first", f"{verdict.extra_copies:,}"),
        ("unacknowledged by the broker at the end", f"{run.unacked:,}"),
        ("kills", ", ".join(f"{kind} {per_kind[kind]}" for kind in sorted(per_kind)) or "none"),
        ("unplanned exits", "; ".join(run.unplanned) or "none"),
        (f"longest recovery (lag ≤ {near_zero} msgs)", _recovery(longest)),
        ("never recovered before the end", ", ".join(k.kind for k in never) or "none"),
        ("peak lag", f"{peak:,} msgs ({peak / args.rate:.0f} s of traffic)"),
        ("drain after publishing stopped", f"{run.drain_s:.1f} s"),
        ("API answers neither 200 nor a JSON 503", f"{len(run.probe.bad):,}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for (down, path, status), count in sorted(run.probe.counts.items()):
        table.add_row(f"API {path.rsplit('/', 1)[-1]} while {down} down: {status}", f"{count:,}")
    console.print(table)
    for kill in run.kills:
        up = "-" if kill.restarted_at is None else f"{kill.restarted_at - run.started:.1f}"
        console.print(f"fault: {kill.kind} killed at {kill.killed_at - run.started:.1f}s, up {up}s")
    for answer in run.probe.bad[:10]:
        console.print(f"[red]API {answer.path} -> {answer.status}: {answer.body[:200]}")
    for first, last, count in _windows(verdict.missing, run.sent_at)[:10]:
        console.print(
            f"[red]lost {count:,} messages published {first - run.started:.1f}s to "
            f"{last - run.started:.1f}s into the run"
        )
    if verdict.duplicated:
        console.print(f"[red]duplicated message numbers (first 20): {verdict.duplicated[:20]}")
    failed = not verdict.ok or bool(run.probe.bad) or run.unacked > 0
    console.print("[red]FAILED" if failed else "[green]nothing lost, nothing twice, API held")
    return 1 if failed else 0


def _windows(missing: list[int], sent_at: array) -> list[tuple[float, float, int]]:  # type: ignore[type-arg]
    """Missing messages grouped by when they were published: (first, last, how many)."""
    out: list[tuple[float, float, int]] = []
    for n in missing:
        at = sent_at[n]
        if out and at - out[-1][1] <= GAP_S:
            out[-1] = (out[-1][0], at, out[-1][2] + 1)
        else:
            out.append((at, at, 1))
    return out


def _recovery(longest: tuple[Kill, float | None] | None) -> str:
    if longest is None:
        return "no restarts"
    kill, seconds = longest
    if seconds is None:
        return f"{kill.kind}: not within the run"
    return f"{seconds:.1f} s ({kill.kind}, down {kill.outage_s:.1f} s)"
