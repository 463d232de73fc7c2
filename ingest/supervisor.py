"""``smartstreets ingest --workers N``: N worker processes on one shared subscription.

Each worker is a whole ``smartstreets ingest`` process with its own client id (and so its own
persistent session) in one MQTT 5 shared-subscription group; the broker spreads messages over
the group. Workers on other machines join by using the same group. A worker that dies is
restarted: what it had not acknowledged is redelivered by the broker.
"""

import logging
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

log = logging.getLogger(__name__)


def worker_command(
    index: int, client_id: str, group: str, metrics_port: int | None, extra: list[str]
) -> list[str]:
    """The command line of worker ``index`` (1-based)."""
    cmd = [
        sys.executable,
        "-m",
        "deploy",
        "ingest",
        "--no-migrate",
        "--client-id",
        f"{client_id}-{index}",
        "--share-group",
        group,
        *extra,
    ]
    if metrics_port is not None:
        cmd += ["--metrics-port", str(metrics_port + index - 1)]
    return cmd


def supervise(commands: list[list[str]], duration: float | None = None) -> int:
    """Run the worker processes until SIGTERM/SIGINT (or ``duration``); restart any that die.

    Returns 0 after a clean stop.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping %d workers", signum, len(commands))
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    procs = [subprocess.Popen(cmd) for cmd in commands]
    log.info(
        "started %d ingest workers (pids %s)", len(procs), ", ".join(str(p.pid) for p in procs)
    )
    deadline = None if duration is None else time.monotonic() + duration
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            for i, proc in enumerate(procs):
                if proc.poll() is not None and not stop.is_set():
                    log.warning("worker %d exited with %s; restarting it", i + 1, proc.returncode)
                    stop.wait(1.0)
                    procs[i] = subprocess.Popen(commands[i])
            stop.wait(0.5)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0
