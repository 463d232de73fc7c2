"""The API as a process of its own, for the benchmarks that load it over HTTP."""

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from bench.api_load import wait_ok
from deploy.embedded import free_port

REPO = Path(__file__).resolve().parents[1]
SMARTSTREETS = REPO / ".venv" / "bin" / "smartstreets"


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
    env = dict(
        os.environ,
        SMARTSTREETS_DATABASE_URL=database_url,
        SMARTSTREETS_API_RATE_LIMIT_PER_MIN="0",
        **(extra_env or {}),
    )
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


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Ask ``proc`` to end; kill it if it has not within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
