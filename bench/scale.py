"""Benchmark: a year of a shared service for 50 councils, at a scale this machine can hold.

The device count is scaled down, never the time span nor the number of councils: ``--councils``
councils of ``--bins`` bins, ``--counters`` people counters and ``--phones`` phones each, the
first council (``big-shire``) ``--big`` times as many bins and counters and ``--big-phones``
phones driving daily (the others' drive every ``--phone-every`` days). A year of their readings
every 15 minutes and their phones' drives comes from the simulator's generators and goes through
ingest's decoder and ``StreamWriter`` into a fresh TimescaleDB database and a fresh
plain-PostgreSQL one at the same time. Then:

* storage: each stream table's size raw (plain PostgreSQL; TimescaleDB before compression) and
  after TimescaleDB's compression policies' jobs have run, per device-year, and extrapolated to a
  national service (10^6 bins, 10^4 counters, 10^5 phones);
* every dashboard panel's SQL over its board's default range, for the biggest council and a
  small one (target < 1 s);
* every GET endpoint of the API (``smartstreets api``, one worker) for both councils: a fresh
  process's first request, a fresh process with the public cache off, and warm (targets: p99 <
  50 ms public, < 200 ms crew and highways); and the public ``/v1`` endpoints' throughput
  (target >= 1,000 req/s at p99 < 50 ms).

It reports; it does not assert. The machine may be shared: the load average is printed with
the figures. Run it from the repository root::

    .venv/bin/python bench/scale.py                 # 50 councils, a year: ~25 minutes
    .venv/bin/python bench/scale.py --days 3 --councils 3 --skip-api   # a smoke run
"""

import sys
from pathlib import Path

if not __package__:
    # Run as ``python bench/scale.py``: bench/ comes first on sys.path, where bench/ingest.py
    # would shadow the ``ingest`` package. Look up packages from the repository root instead.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

import argparse
import contextlib
import os
import platform
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg.conninfo import conninfo_to_dict
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analytics.forecasting.store import refresh_forecasts
from analytics.potholes.store import refresh_potholes
from bench.args import Parser, positive, work_dir
from bench.scale_latency import time_api
from bench.scale_load import Fleet, load, make_fleet, register
from bench.scale_panels import time_panels
from bench.scale_report import (
    console,
    panels_table,
    per_device_table,
    sizes_table,
)
from bench.scale_storage import (
    Size,
    compress,
    is_timescale,
    pause_jobs,
    per_device_year,
    refresh,
    sizes,
)
from ingest.db.connect import connect, server_version
from ingest.settings import mask_url
from tests.services import scratch_database

TIMESCALE_URL = "postgresql://postgres@127.0.0.1:5433/postgres"
PLAIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _parser() -> Parser:
    p = Parser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--councils", type=positive, default=50, help="councils (default 50)")
    p.add_argument("--bins", type=int, default=1, help="bins of a small council (default 1)")
    p.add_argument("--counters", type=int, default=1, help="counters of a small council")
    p.add_argument("--phones", type=int, default=1, help="phones of a small council")
    p.add_argument("--big", type=positive, default=8, help="the biggest council's device factor")
    p.add_argument("--big-phones", type=int, default=2, help="phones of the biggest council")
    p.add_argument(
        "--phone-every", type=positive, default=28, help="small councils' phones drive every N days"
    )
    p.add_argument("--days", type=positive, default=365, help="days of history (default 365)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=TIMESCALE_URL, help="TimescaleDB server")
    p.add_argument("--plain-database-url", default=PLAIN_URL, help="plain PostgreSQL server")
    p.add_argument("--skip-plain", action="store_true", help="TimescaleDB only")
    p.add_argument("--skip-api", action="store_true", help="no API latency or throughput")
    p.add_argument("--requests", type=positive, default=30, help="timed requests per endpoint")
    p.add_argument("--load-seconds", type=float, default=10, help="public throughput run")
    p.add_argument("--connections", type=positive, default=48, help="throughput connections")
    p.add_argument("--keep", action="store_true", help="keep the databases for inspection")
    p.add_argument(
        "--reuse",
        nargs="+",
        metavar="URL",
        help="time panels and the API on databases kept by an earlier run (TimescaleDB first, "
        "then plain PostgreSQL), without loading",
    )
    p.add_argument("--log-dir", type=Path, help="keep the API's log here")
    return p


def _load_avg() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    args = _parser().parse_args()
    console.print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
        f"{platform.python_version()}; {_load_avg()}"
    )
    fleet = make_fleet(
        args.councils,
        args.bins,
        args.counters,
        args.big,
        (args.big_phones, args.phones),
        args.phone_every,
        args.seed,
    )
    end = datetime.now(UTC).date()
    start = end - timedelta(days=args.days)
    console.print(
        f"fleet: {args.councils} councils, {fleet.devices('bin')} bins, "
        f"{fleet.devices('counter')} counters, {fleet.devices('phone')} phones "
        f"({fleet.trips(args.days):,} trips); {fleet.biggest}: {args.big}x a small council; "
        f"{args.days} days from {start}"
    )
    servers = {"TimescaleDB": args.database_url}
    if not args.skip_plain:
        servers["plain PostgreSQL"] = args.plain_database_url
    with contextlib.ExitStack() as stack:
        workdir = work_dir(stack, args.log_dir)
        if args.reuse:
            urls = dict(zip(servers, args.reuse, strict=False))
            sizes_table("stream tables (heap + indexes + TOAST)", _sizes(urls))
        else:
            urls = _fill(stack, fleet, servers, start, args)
        councils = {"biggest": fleet.biggest, "small": fleet.small}
        for label, url in urls.items():
            _derived(url, councils)
            with connect(url, autocommit=True) as conn:
                for slug in councils.values():
                    timings = time_panels(conn, slug)
                    panels_table(f"dashboard panels on {label}: {slug}", timings, councils)
        if not args.skip_api:
            for label, url in urls.items():
                time_api(label, url, councils, args, workdir)
        console.print(f"at the end: {_load_avg()}")
    return 0


def _fill(
    stack: contextlib.ExitStack,
    fleet: Fleet,
    servers: dict[str, str],
    start: date,
    args: argparse.Namespace,
) -> dict[str, str]:
    """Fresh databases, the fleet registered and loaded, storage measured; their URLs."""
    urls = {
        label: stack.enter_context(scratch_database(url, "bench_scale", keep=args.keep))
        for label, url in servers.items()
    }
    conns = {label: stack.enter_context(connect(url)) for label, url in urls.items()}
    for label, conn in conns.items():
        paused = pause_jobs(conn)
        register(conn, fleet)
        console.print(
            f"{label}: PostgreSQL {server_version(conn)}, database "
            f"{conninfo_to_dict(urls[label]).get('dbname')} on {mask_url(servers[label])}"
            f"{' (kept)' if args.keep else ''}; {paused} policy jobs paused"
        )
        conn.commit()  # a writer's batch is its own transaction, none may be open
    _load(fleet, conns, start, args)
    for conn in conns.values():
        conn.close()
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    _storage(fleet, urls, first, args.days)
    return urls


def _sizes(urls: dict[str, str]) -> dict[str, dict[str, Size]]:
    out = {}
    for label, url in urls.items():
        with connect(url, autocommit=True) as conn:
            out[label] = sizes(conn)
    return out


def _load(
    fleet: Fleet, conns: dict[str, psycopg.Connection], start: date, args: argparse.Namespace
) -> None:
    """The year, into every database at once, with a progress bar."""
    units = fleet.devices("bin") + fleet.devices("counter") + fleet.devices("phone")
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[messages]:,} messages"),
        TimeElapsedColumn(),
        console=console,
    )
    started = time.perf_counter()
    with progress:
        task = progress.add_task("devices loaded", total=units, messages=0)
        sent = 0

        def advance(devices: int, messages: int) -> None:
            nonlocal sent
            sent += messages
            progress.update(task, advance=devices, messages=sent)

        tallies = load(fleet, list(conns.values()), start, args.days, args.seed, advance)
    wall = time.perf_counter() - started
    for label, tally in zip(conns, tallies, strict=True):
        rows = ", ".join(f"{t} {n:,}" for t, n in sorted(tally.written.items()))
        console.print(
            f"{label}: {tally.rows:,} rows ({rows}), {tally.quarantined} quarantined; writes "
            f"{tally.write_s:.0f} s = {tally.rows / max(tally.write_s, 1e-9):,.0f} rows/s"
        )
    console.print(
        f"loaded {sent:,} messages in {wall:.0f} s wall = {sent / wall:,.0f} msg/s into "
        f"{len(conns)} database(s) at once (simulation and decoding shared); {_load_avg()}"
    )


def _storage(fleet: Fleet, urls: dict[str, str], first: datetime, days: int) -> None:
    """Sizes raw, rollups refreshed, TimescaleDB compressed; prints the per-device-year table."""
    measured: dict[str, dict[str, Size]] = {}
    plain = raw = compressed = None
    for label, url in urls.items():
        with connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
            seconds = refresh(conn, first, datetime.now(UTC))
            console.print(f"{label}: rollups refreshed over {days} days in {seconds:.1f} s")
            if not is_timescale(conn):
                plain = measured[label] = sizes(conn)
                continue
            raw = measured[f"{label} raw"] = sizes(conn)
            chunks, seconds = compress(conn)
            conn.execute("ANALYZE")
            compressed = measured[f"{label} compressed"] = sizes(conn)
            console.print(
                f"{label}: compression policies' jobs run: {chunks} chunks compressed in "
                f"{seconds:.0f} s"
            )
    sizes_table("stream tables (heap + indexes + TOAST)", measured)
    years = days / 365
    device_years = {
        "bin": fleet.devices("bin") * years,
        "counter": fleet.devices("counter") * years,
        "phone": fleet.trips(days) / 365,
    }
    per_device_table(per_device_year(device_years, plain, raw, compressed))


def _derived(url: str, councils: dict[str, str]) -> None:
    """What the analytics jobs would have stored for the measured councils: forecasts and
    potholes (the endpoints and panels read them)."""
    with connect(url) as conn:
        for slug in councils.values():
            started = time.perf_counter()
            forecasts = refresh_forecasts(conn, slug, datetime.now(UTC))
            potholes = refresh_potholes(conn, slug)
            conn.commit()
            console.print(
                f"{slug}: {forecasts} forecast rows, potholes {potholes} "
                f"in {time.perf_counter() - started:.1f} s"
            )


if __name__ == "__main__":
    sys.exit(main())
