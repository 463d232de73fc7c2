"""Benchmark: a 28-day backfill of the default town (500 bins, 20 counters, 50 phones).

Runs ``smartstreets simulate backfill --days 28`` twice on a fresh database: once writing files
only (the cost of simulating), once writing the history through ingest's decoder and writer too,
and prints both times against the issue's target of five minutes. Run from the repository
root::

    .venv/bin/python bench/simulate.py [--database-url URL] [--days 28]
"""

import sys
from pathlib import Path

if not __package__:
    # Run as ``python bench/simulate.py``: bench/ comes first on sys.path, where bench/ingest.py
    # would shadow the ``ingest`` package that tests.services needs. Use the repository root.
    _BENCH = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
    sys.path.insert(0, str(_BENCH.parent))

import argparse
import os
import subprocess
import tempfile
import time

import psycopg

from tests.services import scratch_database

REPO = Path(__file__).resolve().parents[1]
SMARTSTREETS = [str(REPO / ".venv/bin/smartstreets"), "--log-level", "WARNING"]
TARGET_S = 300.0


def _run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [*SMARTSTREETS, "simulate", "backfill", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"error: simulate failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds, done.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "SMARTSTREETS_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args()
    if args.days < 1:
        parser.error("--days must be at least 1")
    try:
        with (
            scratch_database(args.database_url, "bench_sim") as url,
            tempfile.TemporaryDirectory() as tmp,
        ):
            env = dict(os.environ, SMARTSTREETS_DATABASE_URL=url)
            common = ["--days", str(args.days), "--end", "2026-11-02", "--seed", "1"]
            files_s, files_line = _run([*common, "--out", f"{tmp}/files", "--no-database"], env)
            db_s, db_line = _run([*common, "--out", f"{tmp}/db"], env)
    except psycopg.Error as exc:
        print(f"error: database on {args.database_url}: {exc}", file=sys.stderr)
        return 1
    print(
        f"machine: {os.cpu_count()} CPUs; {args.days}-day backfill, default town "
        "(500 bins, 20 counters, 50 phones)"
    )
    print(f"files only (simulation cost):      {files_s:7.1f} s   {files_line}")
    print(f"files + database (through ingest): {db_s:7.1f} s   {db_line}")
    verdict = "PASS" if db_s < TARGET_S else "FAIL"
    print(f"{verdict}  28-day backfill under {TARGET_S:.0f} s: {db_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
