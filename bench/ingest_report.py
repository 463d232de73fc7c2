"""The ingest benchmark's report: the results table, its notes, and the checks against the
issue's targets. It reports; it does not assert."""

import sys

from rich.console import Console
from rich.table import Table

from bench.ingest_backlog import Backlog
from bench.ingest_contenders import RAISED_RECEIVE_MAXIMUM
from bench.ingest_drain import Outcome
from bench.ingest_mqtt import SMALL_RECEIVE_MAXIMUM

RSS_TARGET_MB = 250
RATIO_TARGET = 0.80
COLUMNS = ("contender", "messages", "seconds", "msg/s", "vs bare", "connect s", "RSS MB")
EXPLAINED = (
    "seconds: from starting the process until the backlog was drained (rows committed for "
    "ingest and naive, messages acknowledged for bare); connect s: the part of it until the "
    "MQTT session was up; msg/s: messages over (seconds - connect s), from the session's start "
    "to the last commit; RSS MB: peak (VmHWM), summed over the processes of a run."
)

# Wide enough for the results table when the output goes to a file or a pipe.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)

Check = tuple[str, bool | None, str]
"""A target: its name, whether it was met (None: not measured), and the figures."""


def report(outcomes: list[Outcome], backlog: Backlog) -> None:
    """The results table and the checks against the issue's targets."""
    by_key = {o.contender.key: o for o in outcomes if o.skipped is None}
    table, notes = _results(outcomes, by_key.get("bare"))
    console.print(table)
    console.print(EXPLAINED)
    for note in notes:
        console.print(f"note: {note}")
    checks = [
        *_rows_checks(outcomes, len(backlog.messages)),
        _ratio_check(by_key),
        _rss_check(outcomes),
        _workers_check(by_key),
    ]
    small, one = by_key.get("ingest-rm20"), by_key.get("ingest")
    if small and one and one.rate:
        console.print(
            f"receive maximum {SMALL_RECEIVE_MAXIMUM} drains at {small.rate:,.0f} msg/s, "
            f"{small.rate / one.rate:.2f}x the rate with {RAISED_RECEIVE_MAXIMUM}."
        )
    for name, ok, detail in checks:
        verdict = "[yellow]n/a [/]" if ok is None else "[green]PASS[/]" if ok else "[red]FAIL[/]"
        console.print(f"{verdict}  {name}: {detail}")


def _mb(value: float) -> str:
    return f"{value:,.0f}"


def _results(outcomes: list[Outcome], bare: Outcome | None) -> tuple[Table, list[str]]:
    """One row per contender, and the notes on the rows."""
    table = Table(title="Draining the backlog (rm = MQTT 5 Receive Maximum)", title_justify="left")
    for name in COLUMNS:
        table.add_column(name, justify="left" if name == "contender" else "right")
    notes: list[str] = []
    for o in outcomes:
        label = o.contender.label
        if o.skipped is not None:
            table.add_row(label, *["-"] * (len(COLUMNS) - 1))
            notes.append(f"{label}: skipped, {o.skipped}")
            continue
        ratio = f"{o.rate / bare.rate:.2f}" if bare and bare.rate else "-"
        rss = _mb(o.peak_mb) + (f" ({o.processes} proc)" if o.processes > 1 else "")
        if o.contender.kind == "naive":
            notes.append(f"{label}: rate over the first {o.contender.target:,} messages only")
        notes += [f"{label}: {note}" for note in o.notes]
        table.add_row(
            label,
            f"{o.done:,}",
            f"{o.seconds:.2f}",
            f"{o.rate:,.0f}",
            ratio,
            "-" if o.connect_s is None else f"{o.connect_s:.2f}",
            rss,
        )
    return table, notes


def _rows_checks(outcomes: list[Outcome], expected: int) -> list[Check]:
    """Every ingest run stored every message and quarantined none."""
    checks: list[Check] = []
    for o in outcomes:
        if o.skipped is None and o.contender.kind == "ingest" and o.rows is not None:
            rows_ok = o.rows == expected and o.quarantined == 0
            checks.append(
                (
                    f"{o.contender.label}: rows == messages, quarantine empty",
                    rows_ok if o.drained else None,
                    f"{o.rows:,} rows of {expected:,}, {o.quarantined} quarantined"
                    + ("" if o.drained else " (did not drain in time)"),
                )
            )
    return checks


def _ratio_check(by_key: dict[str, Outcome]) -> Check:
    name = f"single worker >= {RATIO_TARGET:.0%} of bare"
    one, bare = by_key.get("ingest"), by_key.get("bare")
    if not (one and bare and bare.rate):
        return name, None, "not measured"
    share = one.rate / bare.rate
    return name, share >= RATIO_TARGET, f"{one.rate:,.0f} / {bare.rate:,.0f} msg/s = {share:.2f}"


def _rss_check(outcomes: list[Outcome]) -> Check:
    # A single-worker ingest is several processes (MQTT, writer, multiprocessing's resource
    # tracker): the target applies to their sum.
    name = f"peak RSS of one ingest worker (all its processes) < {RSS_TARGET_MB} MB"
    singles = [
        o
        for o in outcomes
        if o.skipped is None and o.contender.kind == "ingest" and "workers" not in o.contender.key
    ]
    if not singles:
        return name, None, "no run"
    worst = max(singles, key=lambda o: o.peak_mb)
    return (
        name,
        worst.peak_mb < RSS_TARGET_MB,
        f"largest {worst.peak_mb:,.0f} MB over {worst.processes} processes "
        f"({worst.contender.label})",
    )


def _workers_check(by_key: dict[str, Outcome]) -> Check:
    name = "--workers 2 faster than one worker"
    one, two = by_key.get("ingest"), by_key.get("ingest-workers2")
    if not (one and two):
        return name, None, "not measured"
    return (
        name,
        two.rate > one.rate,
        f"{two.rate:,.0f} vs {one.rate:,.0f} msg/s = {two.rate / one.rate:.2f}x",
    )
