"""The API and ingest as processes of their own, for the benchmarks that load them."""

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg

from bench.api_load import wait_ok
from deploy.embedded import free_port
from ingest.errors import first_line
from tests.services import ServiceError

REPO = Path(__file__).resolve().parents[1]
SMARTSTREETS = REPO / ".venv" / "bin" / "smartstreets"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
"""The servers a bench uses when neither its option nor the environment names one."""


@contextlib.contextmanager
def api_server(
    database_url: str,
    workers: int,
    cache: bool,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """``smartstreets api`` on a free port, rate limits off and ``extra_env`` set; yields
    (host, port)."""
    port = free_port()
    env = {
        **os.environ,
        "SMARTSTREETS_DATABASE_URL": database_url,
        "SMARTSTREETS_API_RATE_LIMIT_PER_MIN": "0",
        **(extra_env or {}),  # may turn the limits back on
    }
    if not cache:
        env["SMARTSTREETS_API_PUBLIC_CACHE_S"] = "0"
    mqtt = os.environ.get("SMARTSTREETS_BENCH_MQTT_URL") or os.environ.get(
        "SMARTSTREETS_TEST_MQTT_URL"
    )
    if mqtt:
        env["SMARTSTREETS_MQTT_URL"] = mqtt
    args = [str(SMARTSTREETS), "api", "--host", "127.0.0.1", "--port", str(port)]
    if workers != 1:
        args += ["--workers", str(workers)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ok(f"http://127.0.0.1:{port}/health", proc)
        yield "127.0.0.1", port
    finally:
        stop(proc)


@contextlib.contextmanager
def ingest_worker(db_url: str, mqtt_url: str, prefix: str, log_path: Path) -> Iterator[None]:
    """``smartstreets ingest`` on ``prefix``, in its own process."""
    env = dict(os.environ, SMARTSTREETS_MQTT_PREFIX=prefix)
    args = [str(SMARTSTREETS), "ingest", "--database-url", db_url, "--mqtt-url", mqtt_url,
            "--client-id", f"{prefix}-ingest", "--no-migrate"]  # fmt: skip
    with log_path.open("ab") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Ask ``proc`` to end; kill it if it has not within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def add_service_options(parser: argparse.ArgumentParser) -> None:
    """The options every bench that loads the HTTP and MQTT paths takes: where its database
    is made, its broker, and where its services' logs go."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SMARTSTREETS_BENCH_DATABASE_URL")
        or os.environ.get("SMARTSTREETS_TEST_DATABASE_URL", DEFAULT_DB),
        help="server to create the bench database on (default: $SMARTSTREETS_BENCH_DATABASE_URL,"
        f" $SMARTSTREETS_TEST_DATABASE_URL or {DEFAULT_DB})",
    )
    parser.add_argument(
        "--mqtt-url",
        default=os.environ.get("SMARTSTREETS_BENCH_MQTT_URL")
        or os.environ.get("SMARTSTREETS_TEST_MQTT_URL", DEFAULT_MQTT),
        help="broker of the MQTT path (default: $SMARTSTREETS_BENCH_MQTT_URL, "
        f"$SMARTSTREETS_TEST_MQTT_URL or {DEFAULT_MQTT})",
    )
    parser.add_argument(
        "--log-dir", type=Path, help="keep the API's and ingest's logs here (default: a temp dir)"
    )


class BenchError(RuntimeError):
    """The bench could not measure what it set out to (a path stored too little, an upload
    was refused)."""


def guarded(run: Callable[[], object]) -> int:
    """Run a bench; its exit code, with a one-line error instead of a traceback."""
    try:
        run()
    except KeyboardInterrupt:
        print("interrupted; cleaned up")
        return 130
    except (BenchError, ServiceError, RuntimeError, psycopg.Error, httpx.HTTPError, OSError) as exc:
        print(f"error: {first_line(exc)}", file=sys.stderr)
        return 1
    return 0


def wait_rows(count: Callable[[], int], want: int, timeout: float, what: str) -> None:
    """Wait until ``count()`` reaches ``want`` rows of ``what``; BenchError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while (got := count()) < want:
        if time.monotonic() > deadline:
            raise BenchError(f"only {got} of {want} rows of {what} after {timeout:.0f} s")
        time.sleep(0.02)
