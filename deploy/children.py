"""The demo's child processes: each service runs as ``python -m deploy …``, as in production,
and is stopped in an order that loses nothing."""

import logging
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ingest.db.connect import connect
from ingest.errors import IngestError

log = logging.getLogger(__name__)

STORED_TABLES = ("bin_fill", "bump_report", "footfall_count", "quarantine")
"""The tables whose row counts tell whether ingest has drained, and what a run stored."""
_STOP_ORDER = {"simulate": 0, "forecast": 0, "potholes": 0, "alerts": 0, "ingest": 1, "api": 2}
"""Simulators and jobs first, then ingest (it writes and acknowledges what it holds), then
the API."""


@dataclass
class Child:
    """A named service process."""

    name: str
    proc: subprocess.Popen[bytes]


def start_child(name: str, args: list[str], env: dict[str, str]) -> Child:
    """Start ``smartstreets ARGS…`` as a child process in ``env``."""
    return Child(name, subprocess.Popen([sys.executable, "-m", "deploy", *args], env=env))


def wait_healthy(url: str, deadline: float) -> bool:
    """Poll ``url`` until it answers 200 or ``deadline`` (monotonic) passes."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 (our own URL)
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def row_counts(url: str) -> dict[str, int]:
    """Rows in each of :data:`STORED_TABLES`."""
    with connect(url) as conn:
        counts = {}
        for table in STORED_TABLES:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts


def wait_drained(url: str, timeout: float = 15) -> None:
    """Wait until ingest has stored what the broker still held for it: the number of stored
    messages stops changing for a few flush periods."""
    deadline = time.monotonic() + timeout
    last, steady = -1, 0
    while time.monotonic() < deadline and steady < 4:
        total = sum(row_counts(url).values())
        steady = steady + 1 if total == last else 0
        last = total
        time.sleep(0.5)


def check_alive(children: list[Child]) -> None:
    """Raise :class:`IngestError` if a child has exited."""
    for child in children:
        if child.proc.poll() is not None:
            raise IngestError(f"{child.name} exited unexpectedly with code {child.proc.returncode}")


def stop_children(children: list[Child], db_url: str | None) -> None:
    """SIGTERM each child in :data:`_STOP_ORDER`, letting ingest drain first; kill a child
    that does not stop within 30 s."""
    for child in sorted(children, key=lambda c: _STOP_ORDER.get(c.name, 9)):
        proc = child.proc
        if child.name == "ingest" and db_url is not None and proc.poll() is None:
            try:
                wait_drained(db_url)
            except psycopg.Error as exc:
                log.warning("could not check that ingest drained: %s", exc)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in 30s; killing it", child.name)
                proc.kill()
