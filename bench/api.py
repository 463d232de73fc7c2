"""Benchmark: requests/s and latency of the public "now" and forecast endpoints under load.

The bench owns its database (created on the given server, migrated, filled with a town's weeks
of footfall history and its stored forecasts, dropped at the end unless ``--keep-db``) and its
API (``smartstreets api`` as a separate process on a free loopback port). A lean load generator
(asyncio streams, HTTP/1.1 keep-alive, ``--connections`` connections each sending requests back
to back) runs in this process and alternates the two endpoints::

    GET /v1/councils/{c}/zones/now
    GET /v1/councils/{c}/zones/forecast

It measures, after a warm-up, for every ``--workers`` value:

* ``client ceiling``: the load generator against a trivial HTTP server in another process (a
  fixed response, no framework): the most this client can measure on this machine;
* ``health``: the same load on ``GET /health`` (the framework's floor: the database and broker
  probes are cached for ``SMARTSTREETS_API_HEALTH_CACHE_S``, so this is the route alone);
* ``public``: the two endpoints as served;
* ``public, … rate limit``: the same with the per-IP rate limit on, at a limit the bench never
  reaches (1,000,000 a minute and at once): what the limiter costs. With one worker it is the
  per-process limiter; with more, the limiter shared through the database (leases);
* ``public, no cache``: the two endpoints with the public response cache off
  (``SMARTSTREETS_API_PUBLIC_CACHE_S=0``), the "before".

Otherwise the API's per-IP rate limit is switched off (``SMARTSTREETS_API_RATE_LIMIT_PER_MIN=0``):
every request of the bench comes from 127.0.0.1, so a limit of a client's size would throttle
the bench, not measure the API. It reports; it does not assert. Run it from the repository
root::

    .venv/bin/python bench/api.py [--seconds 20] [--connections 48] [--workers 1 2]
"""

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

REPO = Path(__file__).resolve().parents[1]
if not __package__:
    # Run as ``python bench/api.py``: Python puts bench/ first on sys.path, where this file
    # would shadow the ``api`` package. Look up packages from the repository root instead.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
    sys.path.insert(0, str(REPO))

from analytics.forecasting.store import refresh_forecasts  # noqa: E402
from api.settings import ApiSettings  # noqa: E402
from bench.api_load import HEADER, fixed_server, load, report  # noqa: E402
from bench.servers import api_server  # noqa: E402
from ingest.db.connect import connect  # noqa: E402
from simulators.history import register_town  # noqa: E402
from simulators.world import build_world  # noqa: E402
from tests.services import scratch_database  # noqa: E402

COUNCIL = "benchtown"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
SMARTSTREETS = REPO / ".venv" / "bin" / "smartstreets"
TARGET_RPS, TARGET_P99_MS = 1000, 50.0
LIMIT_UNREACHED = {
    "SMARTSTREETS_API_RATE_LIMIT_PER_MIN": "1000000",
    "SMARTSTREETS_API_RATE_LIMIT_BURST": "1000000",
}
"""The rate limit on, at a size the bench never reaches: what the limiter itself costs."""


# -- the database -------------------------------------------------------------------------------


@contextlib.contextmanager
def bench_database(
    admin_url: str, days: int, counters: int, seed: int, keep: bool
) -> Iterator[str]:
    """A fresh database with one town, ``days`` of footfall history and stored forecasts."""
    started = time.perf_counter()
    with scratch_database(admin_url, "bench_api", keep=keep) as url:
        name = conninfo_to_dict(url).get("dbname")
        try:
            world = build_world(COUNCIL, seed=seed, bins=24, counters=counters)
            with connect(url) as conn:
                rows = register_town(conn, world.town, "smartstreets", history_days=days, seed=seed)
                forecasts = refresh_forecasts(conn, COUNCIL, datetime.now(UTC))
                # Planner statistics, as a database in service has them (autovacuum would get
                # there too, but not before the bench starts).
                conn.execute("ANALYZE")
                zones = conn.execute(
                    "SELECT count(DISTINCT zone) FROM device "
                    "WHERE council = %s AND kind = 'counter'",
                    (COUNCIL,),
                ).fetchone()
            print(
                f"database {name}: {counters} counters in {zones[0] if zones else 0} zones, "
                f"{days} days of history ({rows} rows), {forecasts} forecast rows, "
                f"built in {time.perf_counter() - started:.0f} s"
            )
            yield url
        finally:
            if keep:
                print(f"kept database {name} ({url})")


# -- the servers --------------------------------------------------------------------------------


def measure(
    label: str,
    host: str,
    port: int,
    endpoints: dict[str, str],
    args: argparse.Namespace,
) -> None:
    """Warm up, then measure and print one run."""
    paths, names = list(endpoints.values()), list(endpoints)
    load(host, port, paths, args.connections, args.warmup)
    tallies, seconds = load(host, port, paths, args.connections, args.seconds)
    report(label, names, tallies, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="Length of a measured run.")
    parser.add_argument("--warmup", type=float, default=3, help="Length of the warm-up.")
    parser.add_argument("--connections", type=int, default=48, help="Concurrent connections.")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="API worker processes to try."
    )
    parser.add_argument("--days", type=int, default=28, help="Days of footfall history.")
    parser.add_argument("--counters", type=int, default=20, help="Footfall counters.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-baseline", action="store_true", help="Skip the cache-off runs.")
    parser.add_argument(
        "--no-limit", action="store_true", help="Skip the runs with the rate limit on."
    )
    parser.add_argument("--keep-db", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()
    admin_url = os.environ.get("SMARTSTREETS_BENCH_DATABASE_URL") or os.environ.get(
        "SMARTSTREETS_TEST_DATABASE_URL", DEFAULT_DB
    )
    public = {
        "zones/now": f"/v1/councils/{COUNCIL}/zones/now",
        "zones/forecast": f"/v1/councils/{COUNCIL}/zones/forecast",
    }
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} "
        f"(the machine may be shared: figures are noisy when it is above ~0.5)"
    )
    print(
        "rate limit off (SMARTSTREETS_API_RATE_LIMIT_PER_MIN=0) but in the 'rate limit' runs: "
        "all bench requests come from 127.0.0.1, and a per-IP limit of a client's size would "
        "throttle the bench instead of measuring the API"
    )
    print(
        f"{args.connections} keep-alive connections, {args.warmup:g} s warm-up, "
        f"{args.seconds:g} s measured; target {TARGET_RPS} req/s with p99 < {TARGET_P99_MS:g} ms"
    )
    baseline = not args.no_baseline
    if baseline and "public_cache_s" not in ApiSettings.model_fields:
        print("no cache-off baseline: this API has no public_cache_s setting to turn its cache off")
        baseline = False
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        log_path = Path(tmp) / "api.log"
        try:
            with bench_database(
                admin_url, args.days, args.counters, args.seed, args.keep_db
            ) as url:
                print(HEADER)
                with fixed_server() as (host, port):
                    measure("client ceiling", host, port, {"fixed response": "/"}, args)
                for workers in args.workers:
                    w = f"{workers} worker{'s' if workers > 1 else ''}"
                    with api_server(url, workers, True, log_path) as (host, port):
                        measure(f"{w}, health", host, port, {"health": "/health"}, args)
                        measure(f"{w}, public", host, port, public, args)
                    if not args.no_limit:
                        kind = "shared" if workers > 1 else "per-process"
                        limited = api_server(url, workers, True, log_path, LIMIT_UNREACHED)
                        with limited as (host, port):
                            measure(f"{w}, {kind} limit", host, port, public, args)
                    if baseline:
                        with api_server(url, workers, False, log_path) as (host, port):
                            measure(f"{w}, public, no cache", host, port, public, args)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if log_path.exists():
                print(log_path.read_text()[-3000:], file=sys.stderr)
            return 1
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
