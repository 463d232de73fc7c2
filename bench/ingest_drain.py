"""Running one contender of the ingest benchmark: queue the backlog for its sessions, start
it, time how long the backlog takes to drain, note its peak memory, stop it."""

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil  # type: ignore[import-untyped]
import psycopg
from psycopg import sql
from rich.progress import Progress

from bench.ingest_backlog import READING_TABLES, Backlog, BenchError
from bench.ingest_contenders import Contender
from bench.ingest_mqtt import StatusWatch, create_sessions, delete_sessions, publish_backlog
from tests.services import Mosquitto, tail

POLL_S = 0.2
STOP_GRACE_S = 20.0


_COUNT_READINGS = sql.SQL("SELECT {}").format(
    sql.SQL(" + ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(t)) for t in READING_TABLES
    )
)


def count_rows(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def count_readings(conn: psycopg.Connection) -> int:
    row = conn.execute(_COUNT_READINGS).fetchone()
    return int(row[0]) if row else 0


def truncate_readings(conn: psycopg.Connection) -> None:
    tables = (*READING_TABLES, "quarantine")
    conn.execute(
        sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables))
    )


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


class ProcessTree:
    """A contender's process and its children: peak RSS (VmHWM) and a clean stop."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.root = psutil.Process(proc.pid)
        self.peak_kb: dict[int, int] = {}
        self.known: dict[int, psutil.Process] = {proc.pid: self.root}

    def sample(self) -> None:
        """Read every live process's high-water mark; called while it runs and before stopping,
        because VmHWM disappears with the process."""
        with contextlib.suppress(psutil.Error):
            for child in self.root.children(recursive=True):
                self.known.setdefault(child.pid, child)
        for pid in self.known:
            kb = _vm_hwm_kb(pid)
            if kb is not None:
                self.peak_kb[pid] = max(kb, self.peak_kb.get(pid, 0))

    @property
    def peak_mb(self) -> float:
        return sum(self.peak_kb.values()) / 1024

    @property
    def max_process_mb(self) -> float:
        return max(self.peak_kb.values(), default=0) / 1024

    def stop(self) -> str | None:
        """SIGTERM, wait, then kill what is left; a note when it did not stop by itself."""
        try:
            return self._stop_gently()
        finally:
            self._kill_all()  # also when a second Ctrl-C cuts the wait short

    def _stop_gently(self) -> str | None:
        notes = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                notes.append(f"did not exit within {STOP_GRACE_S:.0f}s of SIGTERM; killed")
        # Worker processes outliving their parent are ours to end too.
        leftovers = [p for pid, p in self.known.items() if pid != self.proc.pid]
        for p in leftovers:
            with contextlib.suppress(psutil.Error):
                p.terminate()
        _, alive = psutil.wait_procs(leftovers, timeout=STOP_GRACE_S)
        notes += [f"worker {p.pid} did not exit on SIGTERM; killed" for p in alive]
        return "; ".join(notes) or None

    def _kill_all(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid, p in self.known.items():
            # psutil checks the start time too, so a reused pid is never signalled.
            if pid != self.proc.pid:
                with contextlib.suppress(psutil.Error):
                    p.kill()


@dataclass
class Outcome:
    """What one contender did."""

    contender: Contender
    done: int = 0
    seconds: float = 0.0
    connect_s: float | None = None
    publish_s: float = 0.0
    peak_mb: float = 0.0
    max_process_mb: float = 0.0
    processes: int = 0
    drained: bool = False
    rows: int | None = None
    quarantined: int | None = None
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def rate(self) -> float:
        """Messages a second from the MQTT session's start to the last commit (or ack): what
        the process does once running, not how long Python takes to start."""
        busy = self.seconds - (self.connect_s or 0.0)
        return self.done / busy if busy > 0 else 0.0


class LineReader:
    """Reads ``done``/``progress`` lines a bare subscriber prints, timestamped on arrival."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.count = 0
        self.done_at: float | None = None
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream: IO[bytes]) -> None:
        for raw in stream:
            word, _, value = raw.decode(errors="replace").strip().partition(" ")
            if word in ("progress", "done") and value.isdigit():
                self.count = int(value)
            if word == "done" and self.done_at is None:
                self.done_at = time.monotonic()


@dataclass
class Bench:
    """Everything shared by the contenders of one run."""

    broker: Mosquitto
    backlog: Backlog
    watch: StatusWatch
    poll: psycopg.Connection
    workdir: Path
    timeout: float


def run_contender(bench: Bench, contender: Contender, progress: Progress) -> Outcome:
    """Queue the backlog for the contender's sessions, start it, time the drain, stop it."""
    outcome = Outcome(contender)
    url = bench.broker.url
    create_sessions(url, contender.client_ids, contender.topic_filter)
    try:
        outcome.publish_s = publish_backlog(url, bench.backlog, progress)
        log_path = bench.workdir / f"{contender.key}.log"
        with log_path.open("wb") as sink:
            outcome = _drain(bench, contender, outcome, sink, log_path, progress)
    finally:
        delete_sessions(url, contender.client_ids)
    if contender.kind == "ingest":
        outcome.rows = count_readings(bench.poll)
        outcome.quarantined = count_rows(bench.poll, "quarantine")
    truncate_readings(bench.poll)
    return outcome


def _drain(
    bench: Bench,
    contender: Contender,
    outcome: Outcome,
    sink: IO[bytes],
    log_path: Path,
    progress: Progress,
) -> Outcome:
    env = {**os.environ, **contender.env}
    bare = contender.kind == "bare"
    task = progress.add_task(contender.label, total=contender.target)
    started = time.monotonic()
    proc = subprocess.Popen(
        contender.command,
        stdout=subprocess.PIPE if bare else sink,
        stderr=sink,
        env=env,
        start_new_session=True,  # the bench stops it (Ctrl-C included), not the terminal
    )
    tree = ProcessTree(proc)
    reader = LineReader(proc.stdout) if bare and proc.stdout is not None else None
    try:
        while True:
            time.sleep(POLL_S)
            now = time.monotonic()
            tree.sample()
            done = reader.count if reader is not None else count_readings(bench.poll)
            progress.update(task, completed=min(done, contender.target))
            if reader is not None and reader.done_at is not None:
                outcome.done, outcome.seconds = done, reader.done_at - started
                outcome.drained = True
                break
            if reader is None and done >= contender.target:
                outcome.done, outcome.seconds = done, now - started
                outcome.drained = True
                break
            if proc.poll() is not None:
                raise BenchError(
                    f"{contender.label} exited with code {proc.returncode}: {tail(log_path, 3)}"
                )
            if now - started > bench.timeout:
                outcome.done, outcome.seconds = done, now - started
                outcome.notes.append(f"timed out after {bench.timeout:.0f}s: rate over {done:,}")
                break
        connected = bench.watch.first_online(contender.client_ids)
        outcome.connect_s = None if connected is None else connected - started
        tree.sample()
    finally:
        progress.remove_task(task)
        note = tree.stop()
        if note:
            outcome.notes.append(note)
    outcome.peak_mb = tree.peak_mb
    outcome.max_process_mb = tree.max_process_mb
    outcome.processes = len(tree.peak_kb)
    return outcome
