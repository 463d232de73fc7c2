"""Benchmark: how fast ingest drains a broker backlog into committed rows.

A backlog of valid QoS 1 messages of mixed streams is queued in the broker for a persistent
session while its consumer is offline; then the consumer starts and the bench times how long the
backlog takes to drain. The same backlog is drained by:

* ``bare``: a paho-mqtt subscriber that only receives and acknowledges (the client's ceiling);
* ``naive``: an ingestor that INSERTs and commits one message at a time (first N messages only);
* ``ingest`` (the real ``smartstreets ingest`` CLI) with MQTT 5 Receive Maximum left small (20,
  what Mosquitto's default ``max_inflight_messages`` gives) and raised (10000), and with
  ``--workers 2`` on a shared subscription.

The bench owns its broker (a Mosquitto on a free port) and its database (created on the given
server, dropped at the end), started as the tests start theirs (``tests/services.py``). It
reports; it does not assert. The scenario, the contenders, running one and the report live in
``bench/ingest_*.py``. Run it from the repository root::

    .venv/bin/python bench/ingest.py --messages 200000
"""

import sys
from pathlib import Path

if not __package__:
    # Run as ``python bench/ingest.py``: Python puts bench/ first on sys.path, where this file
    # would shadow the ``ingest`` package. Look up packages from the repository root instead.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

import argparse
import contextlib
import logging
import os
import platform
import signal
import time
from collections.abc import Sequence
from types import FrameType

import paho.mqtt
import psycopg
from psycopg.conninfo import conninfo_to_dict
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.args import Parser, positive, work_dir
from bench.ingest_backlog import Backlog, BenchError, bench_devices, build_backlog
from bench.ingest_contenders import CONTENDER_KEYS, plan
from bench.ingest_drain import Bench, Outcome, run_contender
from bench.ingest_mqtt import SMALL_RECEIVE_MAXIMUM, StatusWatch, bench_broker, probe_window
from bench.ingest_report import console, report
from bench.ingest_roles import role_bare, role_naive
from ingest.db.connect import connect, server_version
from ingest.db.migrate import storage_of
from ingest.db.registry import import_devices
from ingest.errors import IngestError, first_line
from ingest.settings import mask_url
from tests.services import Mosquitto, ServiceError, scratch_database


def run(args: argparse.Namespace) -> int:
    """The whole bench; returns the exit code."""
    console.print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}; Python {platform.python_version()}"
        f"; paho-mqtt {paho.mqtt.__version__}; load average {os.getloadavg()[0]:.2f}"
    )
    with contextlib.ExitStack() as stack:
        workdir = work_dir(stack, args.log_dir)
        broker = _broker(stack, workdir)
        db_url = _database(stack, args.database_url)
        poll = stack.enter_context(connect(db_url, autocommit=True))
        console.print(
            f"database: PostgreSQL {server_version(poll)} ({storage_of(poll)} storage), "
            f"{conninfo_to_dict(db_url).get('dbname')} on {mask_url(args.database_url)}"
        )
        backlog = _backlog(args.messages, args.seed)
        watch = StatusWatch(broker.url)
        stack.callback(watch.close)
        bench = Bench(broker, backlog, watch, poll, workdir, args.timeout)
        outcomes = _contest(bench, args, db_url)
        report(outcomes, backlog)
        # Other work on the machine skews every rate; the load average shows whether there was.
        console.print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


def _broker(stack: contextlib.ExitStack, workdir: Path) -> Mosquitto:
    """The bench's broker, started, and whether it holds a client to its Receive Maximum."""
    broker = bench_broker(workdir)
    console.print(f"broker: {broker.version()} on 127.0.0.1:{broker.port} (max_inflight 20)")
    stack.callback(broker.stop)
    broker.start()
    first, then = probe_window(broker.url)
    held = first <= SMALL_RECEIVE_MAXIMUM and then <= SMALL_RECEIVE_MAXIMUM
    console.print(
        f"broker flow control: with Receive Maximum {SMALL_RECEIVE_MAXIMUM} it sent {first} "
        f"unacknowledged messages, then {then} more once those were acknowledged together "
        f"({'window held' if held else '[red]window NOT held[/]'})"
    )
    return broker


def _database(stack: contextlib.ExitStack, server_url: str) -> str:
    """The bench's own database, migrated, with the bench devices registered."""
    try:
        url = stack.enter_context(scratch_database(server_url, "bench_ingest"))
        with connect(url) as conn:
            import_devices(conn, bench_devices())
    except psycopg.OperationalError as exc:
        raise BenchError(f"database {mask_url(server_url)}: {first_line(exc)}") from exc
    return url


def _backlog(messages: int, seed: int) -> Backlog:
    with console.status("building the backlog"):
        started = time.monotonic()
        backlog = build_backlog(messages, seed)
    mix = ", ".join(f"{t} {c:,}" for t, c in sorted(backlog.per_table.items()))
    console.print(
        f"backlog: {len(backlog.messages):,} QoS 1 messages, {backlog.nbytes / 1e6:.1f} MB "
        f"({mix}), seed {seed}, built in {time.monotonic() - started:.1f}s"
    )
    return backlog


def _contest(bench: Bench, args: argparse.Namespace, db_url: str) -> list[Outcome]:
    """Every contender in turn, each on the same backlog."""
    outcomes: list[Outcome] = []
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        for contender in plan(args, db_url, bench.broker.url):
            if contender.skipped is not None:
                outcomes.append(Outcome(contender, skipped=contender.skipped))
                continue
            outcome = run_contender(bench, contender, progress)
            outcomes.append(outcome)
            progress.console.print(
                f"{contender.label}: {outcome.done:,} in {outcome.seconds:.2f}s = "
                f"{outcome.rate:,.0f} msg/s (backlog published in {outcome.publish_s:.1f}s)"
            )
    return outcomes


# -- command line -------------------------------------------------------------------------------


def _skip_list(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in (*CONTENDER_KEYS, "ingest-default")]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown contender {', '.join(unknown)} (expected {', '.join(CONTENDER_KEYS)})"
        )
    return keys


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    default_db = (
        os.environ.get("SMARTSTREETS_BENCH_DATABASE_URL")
        or os.environ.get("SMARTSTREETS_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    parser = Parser(
        prog="bench/ingest.py",
        description="Measure how fast ingest drains a broker backlog into committed rows.",
    )
    parser.add_argument("--messages", type=positive, default=200_000, help="backlog size")
    parser.add_argument(
        "--database-url",
        default=default_db,
        help="server to create the bench database on (default: $SMARTSTREETS_BENCH_DATABASE_URL,"
        " $SMARTSTREETS_TEST_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument(
        "--naive-limit",
        type=positive,
        default=20_000,
        help="the naive ingestor drains only this many messages (its rate is over those)",
    )
    parser.add_argument(
        "--skip",
        type=_skip_list,
        action="extend",
        default=[],
        help=f"contenders to leave out, comma-separated: {', '.join(CONTENDER_KEYS)}",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the backlog")
    parser.add_argument(
        "--timeout",
        type=positive,
        default=120,
        help="seconds a contender may take; a slower one is stopped and rated on what it did",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="keep the broker's and each contender's log here (default: a temporary directory)",
    )
    # The contenders' child processes re-enter this file with a role.
    parser.add_argument("--role", choices=("bench", "bare", "naive"), default="bench",
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--mqtt-url", help=argparse.SUPPRESS)
    parser.add_argument("--client-id", help=argparse.SUPPRESS)
    parser.add_argument("--receive-maximum", type=positive, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=positive, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.naive_limit = min(args.naive_limit, args.messages)
    if args.role != "bench" and not (args.mqtt_url and args.client_id and args.receive_maximum):
        parser.error("--role needs --mqtt-url, --client-id and --receive-maximum")
    if args.role == "bare" and not args.expect:
        parser.error("--role bare needs --expect")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same way out as Ctrl-C, so every process and the database are cleaned up.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "bare":
        role_bare(args)
        return 0
    if args.role == "naive":
        role_naive(args)
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Which storage the migrations chose is printed with the database line; its warning about
    # TimescaleDB not being preloaded would only repeat that.
    logging.getLogger("ingest.db.migrate").setLevel(logging.ERROR)
    signal.signal(signal.SIGTERM, _interrupt)
    # Started in the background by a script, SIGINT comes ignored; the bench wants Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return run(args)
    except KeyboardInterrupt:
        console.print("interrupted; cleaned up")
        return 130
    except (BenchError, ServiceError, IngestError, psycopg.Error, OSError) as exc:
        console.print(f"[red]error:[/] {first_line(exc)}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
