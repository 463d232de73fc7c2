"""Services the tests and the benchmarks own outright: a Mosquitto they can restart, and a
database of their own on a PostgreSQL server.

The benchmarks in ``bench/`` import these too, so a service is started one way everywhere.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from deploy.embedded import free_port
from ingest.db.migrate import migrate


class ServiceError(RuntimeError):
    """A service did not start."""


def wait_port(port: int, timeout: float = 15, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until something listens on loopback ``port``; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"exited at start-up with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServiceError(f"nothing listening on port {port} after {timeout}s")


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log file, for one-line error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def mosquitto_binary() -> str | None:
    """The mosquitto executable: on PATH, or where Debian installs it."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


class Mosquitto:
    """A Mosquitto on a free loopback port, configured with ``settings`` (lines of
    mosquitto.conf) beside anonymous access; it logs to ``workdir/mosquitto.log``."""

    def __init__(self, workdir: Path, settings: Sequence[str]) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise ServiceError("no mosquitto binary (looked on PATH and at /usr/sbin/mosquitto)")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", *settings]
        if os.geteuid() == 0:
            # Started as root, Mosquitto switches to user "mosquitto", who cannot write here.
            lines.append("user root")
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def version(self) -> str:
        """The broker's version line."""
        # `mosquitto -h` prints its version first and exits non-zero; only the text matters.
        out = subprocess.run(
            [self.binary, "-h"], capture_output=True, text=True, timeout=10, check=False
        )
        lines = (out.stdout or out.stderr).strip().splitlines()
        return lines[0] if lines else "unknown"

    def start(self) -> None:
        """Start the broker and wait until it listens."""
        with self.log_path.open("ab") as sink:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C is for its owner, who stops it
            )
        try:
            wait_port(self.port, proc=self.proc)
        except ServiceError:
            raise ServiceError(f"{self.binary} did not start: {tail(self.log_path, 1)}") from None

    def stop(self, timeout: float = 20) -> None:
        """Stop gracefully: Mosquitto writes its persistence file on the way out."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class OwnMosquitto(Mosquitto):
    """A Mosquitto on a free port with persistence, so a restart keeps sessions and queues."""

    def __init__(self, workdir: Path) -> None:
        if mosquitto_binary() is None:
            pytest.skip("needs a mosquitto binary to restart a real broker")
        persistence = ("persistence true", f"persistence_location {workdir}/")
        unlimited = ("max_queued_messages 0", "max_inflight_messages 0")
        super().__init__(workdir, (*persistence, *unlimited))


@contextlib.contextmanager
def scratch_database(
    server_url: str, prefix: str, *, keep: bool = False, migrated: bool = True
) -> Iterator[str]:
    """A fresh database of its own on the server at ``server_url``, named ``prefix`` and a
    random suffix, migrated unless ``migrated`` is false; yields its URL and drops it at the
    end, unless ``keep``."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_conninfo(server_url, dbname=name)
        if migrated:
            migrate(url)
        yield url
    finally:
        if not keep:
            with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(name)))
