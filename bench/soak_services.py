"""The services the soak owns so that it can kill them: a PostgreSQL cluster of its own, a
Mosquitto with persistence, and the ingest and API commands as process groups.

Every kill is SIGKILL to the whole process group (the postmaster with its backends, ``ingest
--workers 2`` with its workers and their writer processes): what a crash or an OOM kill does.
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

from deploy.embedded import free_port
from tests.services import Mosquitto, ServiceError, tail, wait_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REPO = Path(__file__).resolve().parents[1]
STOP_GRACE_S = 20.0

# Mosquitto 2.0 writes its persistence file every autosave_interval seconds, not per message: a
# SIGKILL loses what it took in since the last save. Publishers cover that window by re-sending
# what the broker acknowledged in their last seconds before a disconnect (bench/soak_traffic.py).
BROKER_SETTINGS = (
    "persistence true",
    "autosave_interval 1",
    "max_queued_messages 0",
    "max_inflight_messages 0",
)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``proc``'s process group (it was started as a session leader) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _stop_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Ask ``proc`` to stop; SIGKILL its group if it has not stopped after a grace period."""
    if proc.poll() is None:
        proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_GRACE_S)
    # Children outliving their parent (a worker, a backend) are ours to end too.
    _kill_group(proc)


class SoakBroker(Mosquitto):
    """A Mosquitto with persistence in its own folder, which the soak can SIGKILL."""

    def __init__(self, workdir: Path) -> None:
        lines = (*BROKER_SETTINGS, f"persistence_location {workdir}/")
        super().__init__(workdir, lines)

    def kill(self) -> None:
        """SIGKILL the broker: no persistence file written on the way out."""
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None


class SoakPostgres:
    """A PostgreSQL cluster initialised in ``workdir`` on a free loopback port, with
    TimescaleDB preloaded when it is installed (as in production).

    As root, the server runs as the ``postgres`` user: PostgreSQL refuses to run as root.
    """

    def __init__(self, workdir: Path) -> None:
        if not (PG_BIN / "initdb").exists():
            raise ServiceError(f"no PostgreSQL 15 binaries in {PG_BIN}")
        self.workdir = workdir
        self.pgdata = workdir / "data"
        self.log_path = workdir / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._user = "postgres" if os.geteuid() == 0 else None
        workdir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(workdir, entry.pw_uid, entry.pw_gid)
        self._run([str(PG_BIN / "initdb"), "-D", str(self.pgdata), "-U", "postgres", "-A", "trust"])
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{workdir}'",
            "max_connections = 100",
            "shared_buffers = 128MB",
        ]
        if timescaledb_installed():
            settings += [
                "shared_preload_libraries = 'timescaledb'",
                "timescaledb.telemetry_level = off",
            ]
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")

    def _command(self, argv: Sequence[str]) -> list[str]:
        return ["runuser", "-u", self._user, "--", *argv] if self._user else list(argv)

    def _run(self, argv: Sequence[str]) -> None:
        out = subprocess.run(self._command(argv), capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise ServiceError(f"{argv[0]} failed: {(out.stderr or out.stdout).strip()[-300:]}")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60) -> None:
        """Start the postmaster (crash recovery included) and wait until it takes queries."""
        with self.log_path.open("ab") as sink:
            self.proc = subprocess.Popen(
                self._command([str(PG_BIN / "postgres"), "-D", str(self.pgdata)]),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceError(f"postgres exited: {tail(self.log_path, 2)}")
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise ServiceError(f"postgres not ready after {timeout:.0f}s: {tail(self.log_path, 2)}")

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends: a crash, recovered from WAL at next start."""
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None

    def stop(self) -> None:
        """Fast shutdown (SIGINT): roll back open transactions, checkpoint, exit."""
        if self.proc is not None:
            _stop_group(self.proc, signal.SIGINT)
            self.proc = None


def timescaledb_installed() -> bool:
    """Whether the TimescaleDB extension is installed for PostgreSQL 15."""
    return any(Path("/usr/share/postgresql/15/extension").glob("timescaledb.control"))


class SoakProcess:
    """A ``python -m deploy …`` command run as its own process group, logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.argv = [sys.executable, "-m", "deploy", "--log-level", "WARNING", *argv]
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as sink:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the soak stops it, not the terminal's Ctrl-C
            )

    def exited(self) -> int | None:
        """The exit code if it stopped by itself, else ``None``."""
        return None if self.proc is None else self.proc.poll()

    def kill(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)
            self.proc = None


def api_process(workdir: Path, database_url: str, mqtt_url: str) -> tuple[SoakProcess, int]:
    """The API on a free port, and that port."""
    port = free_port()
    argv = ["api", "--port", str(port), "--database-url", database_url, "--mqtt-url", mqtt_url]
    return SoakProcess("api", argv, {}, workdir / "api.log"), port


def ingest_process(
    workdir: Path, database_url: str, mqtt_url: str, prefix: str, workers: int, client_id: str
) -> SoakProcess:
    """``smartstreets ingest --workers N`` without migrations (the soak migrated already)."""
    env = {
        "SMARTSTREETS_DATABASE_URL": database_url,
        "SMARTSTREETS_MQTT_URL": mqtt_url,
        "SMARTSTREETS_MQTT_PREFIX": prefix,
    }
    argv = ["ingest", "--no-migrate", "--workers", str(workers), "--client-id", client_id]
    return SoakProcess("ingest", argv, env, workdir / "ingest.log")


def wait_api(port: int, proc: SoakProcess, timeout: float = 60) -> None:
    """Wait until the API listens."""
    try:
        wait_port(port, timeout, proc.proc)
    except ServiceError as exc:
        raise ServiceError(f"the API did not start ({exc}): {tail(proc.log_path, 3)}") from None


def have_binaries() -> str | None:
    """Why the soak cannot run here, or ``None`` when it can."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL 15 binaries in {PG_BIN}"
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        return "no mosquitto binary"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as postgres"
    return None
