"""The tables ``bench/scale.py`` prints: storage per device-year and its national
extrapolation, endpoint latencies and panel timings, each figure against its target."""

import math
import sys

from rich.console import Console
from rich.table import Table

from bench.api_load import Tally
from bench.scale_api import Endpoint, Timing, pct
from bench.scale_panels import TARGET_S, PanelTiming
from bench.scale_storage import PerDevice, Size, human, national

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


def verdict(ok: bool | None) -> str:
    if ok is None:
        return "-"
    return "[green]PASS[/]" if ok else "[red]FAIL[/]"


def sizes_table(title: str, sizes: dict[str, dict[str, Size]]) -> None:
    """Rows and bytes of every stream table, one column pair per measurement."""
    table = Table(title=title)
    table.add_column("table")
    for label in sizes:
        table.add_column(f"{label} rows", justify="right")
        table.add_column(f"{label} bytes", justify="right")
    for name in next(iter(sizes.values())):
        cells = []
        for measured in sizes.values():
            cells += [f"{measured[name].rows:,}", human(measured[name].bytes)]
        table.add_row(name, *cells)
    console.print(table)


def per_device_table(rows: list[PerDevice]) -> None:
    """Bytes per device-year and the compression ratio, then the national extrapolation."""
    table = Table(title="bytes per device-year (phone-year = 365 trips, one a day)")
    for col in ("stream", "per", "device-years", "plain PG", "TimescaleDB raw", "compressed",
                "ratio"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("stream", "per") else "right")

    def cell(b: float | None) -> str:
        return "-" if b is None else human(b)

    for r in rows:
        ratio = r.ratio
        table.add_row(
            r.table,
            r.kind,
            f"{r.device_years:,.2f}",
            cell(r.plain),
            cell(r.raw),
            cell(r.compressed),
            "-" if ratio is None else f"{ratio:.1f}x",
        )
    console.print(table)
    console.print("national service (10^6 bins, 10^4 counters, 10^5 phones), one year:")
    for pick, label in (("plain", "plain PostgreSQL"), ("raw", "TimescaleDB uncompressed"),
                        ("compressed", "TimescaleDB compressed")):  # fmt: skip
        total, lines = national(rows, pick)
        if not lines:
            continue
        console.print(f"  {label}: {' + '.join(lines)}")
        console.print(f"    = {human(total)} a year")


def latency_table(
    title: str,
    endpoints: list[Endpoint],
    councils: dict[str, str],
    timings: dict[tuple[str, str], Timing],
) -> None:
    """Every endpoint for every council: first request, cache off and warm p50/p99."""
    table = Table(title=title)
    for col in ("endpoint", "council", "status", "first", "cold p50", "cold p99", "warm p50",
                "warm p99", "target p99", "cold", "warm"):  # fmt: skip
        left = col in ("endpoint", "council")
        table.add_column(col, justify="left" if left else "right", no_wrap=col == "endpoint")
    for e in endpoints:
        for role, slug in councils.items():
            t = timings.get((e.path, slug))
            if t is None:
                table.add_row(e.path, role, "not timed (no value for a path parameter)")
                continue
            cold99, warm99 = pct(t.cold, 0.99), pct(t.warm, 0.99)
            table.add_row(
                e.path,
                role,
                ",".join(str(s) for s in sorted(t.statuses)),
                _ms(t.first_ms),
                _ms(pct(t.cold, 0.5)),
                _ms(cold99),
                _ms(pct(t.warm, 0.5)),
                _ms(warm99),
                f"{e.target_ms:.0f}",
                verdict(None if math.isnan(cold99) else cold99 < e.target_ms),
                verdict(None if math.isnan(warm99) else warm99 < e.target_ms),
            )
    console.print(table)


def _ms(v: float | None) -> str:
    return "-" if v is None or math.isnan(v) else f"{v:.1f}"


def throughput_line(label: str, tally: Tally, seconds: float, rps: float, p99_ms: float) -> None:
    """The public endpoints under load against their target."""
    ordered = sorted(tally.latencies)
    done = len(ordered) + tally.errors
    rate = done / seconds
    p50 = pct(ordered, 0.5) / 1e6 if ordered else math.nan
    p99 = pct(ordered, 0.99) / 1e6 if ordered else math.nan
    ok = rate >= rps and p99 < p99_ms and not tally.errors
    console.print(
        f"{label}: {done:,} requests in {seconds:.1f} s = {rate:,.0f} req/s, errors "
        f"{tally.errors} {dict(tally.statuses) if tally.statuses else ''}, p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms; target >= {rps:,} req/s at p99 < {p99_ms:.0f} ms: {verdict(ok)}"
    )


def panels_table(title: str, timings: list[PanelTiming], councils: dict[str, str]) -> None:
    """Every panel's query time for every council against the target."""
    role_of = {v: k for k, v in councils.items()}
    table = Table(title=title)
    for col in ("board", "panel", "range", "council", "rows", "first s", "best s", "< 1 s"):
        table.add_column(col, justify="left" if col in ("board", "panel", "council") else "right")
    for t in timings:
        table.add_row(
            t.board.slug,
            t.panel.title,
            t.board.time_from,
            role_of.get(t.council, t.council),
            f"{t.rows:,}",
            f"{t.first_s:.3f}",
            f"{t.best_s:.3f}",
            verdict(max(t.first_s, t.best_s) < TARGET_S),
        )
    console.print(table)
