"""Soak: devices publish at a steady rate while the broker, the database and the ingest workers
are killed (SIGKILL) and restarted at seeded random moments; at the end every published message
must be stored exactly once, as a reading or in quarantine, and the API must have answered
200 or a JSON 503 throughout, never a 500 or a hang.

The soak owns its services (bench/soak_services.py): a PostgreSQL cluster initialised in its
work folder, a Mosquitto with persistence, ``smartstreets ingest --workers N`` and
``smartstreets api``. Run it from the repository root::

    .venv/bin/python bench/soak.py --minutes 30 --seed 1
"""

import sys
from pathlib import Path

if not __package__:
    # Run as ``python bench/soak.py``: bench/ would come first on sys.path and shadow packages.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.insert(0, str(_HERE.parent))

import argparse
import contextlib
import random
import threading
import time
from array import array
from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.args import work_dir
from bench.soak_args import parse_args
from bench.soak_report import Run, report
from bench.soak_services import (
    SoakBroker,
    SoakPostgres,
    SoakProcess,
    api_process,
    have_binaries,
    ingest_process,
    wait_api,
)
from bench.soak_traffic import TICK_S, Publisher, Traffic, soak_devices
from bench.soak_verify import verify
from bench.soak_watch import ApiProbe, Faults, HandedCount, Kill, LagMonitor, count_stored
from ingest.db.connect import connect
from ingest.db.migrate import migrate
from ingest.db.registry import import_devices
from ingest.mqtt import wait_online

PREFIX = "soak"
COUNCIL = "soak"
INGEST_ID = "soak-ingest"
console = Console()


class Soak:
    """The services, the traffic and the faults of one run."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.faults = Faults()
        self.kills: list[Kill] = []
        self.unplanned: list[str] = []
        self.handed = HandedCount()
        self.traffic = Traffic(PREFIX, COUNCIL, args.seed, args.bad_share)
        self.stopping = threading.Event()
        self.pg = SoakPostgres(workdir / "pg")
        self.broker = SoakBroker(workdir / "mosquitto")
        self.database_url = self.pg.url("soak")
        self.ingest: SoakProcess | None = None
        self.api: SoakProcess | None = None
        self.publishers: list[Publisher] = []
        self.sent_at = array("d")  # when each message was handed to its publisher
        self.started = 0.0
        self.lag = LagMonitor(self.database_url, COUNCIL, self.handed)

    def setup(self) -> ApiProbe:
        self.pg.start()
        with connect(self.pg.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE soak")
        migrate(self.database_url)
        with connect(self.database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Soak')", (COUNCIL,))
            import_devices(conn, soak_devices(COUNCIL))
        self.broker.start()
        args = self.args
        self.ingest = ingest_process(
            self.workdir, self.database_url, self.broker.url, PREFIX, args.workers, INGEST_ID
        )
        self.ingest.start()
        # The sessions must exist before publishing, or the broker has nowhere to queue.
        ids = (
            [f"{INGEST_ID}-{i}" for i in range(1, args.workers + 1)]
            if args.workers > 1
            else [INGEST_ID]
        )
        for client_id in ids:
            wait_online(self.broker.url, PREFIX, client_id, timeout=60)
        self.api, port = api_process(self.workdir, self.database_url, self.broker.url)
        self.api.start()
        wait_api(port, self.api)
        paths = ("/health", f"/v1/councils/{COUNCIL}/zones/now")
        self.publishers = [
            Publisher(self.broker.url, f"soak-pub-{i}", args.resend_window)
            for i in range(args.publishers)
        ]
        return ApiProbe(f"http://127.0.0.1:{port}", paths, self.faults)

    def chaos(self) -> None:
        """Kill and restart services at seeded random moments until asked to stop."""
        rng = random.Random(self.args.seed + 1)
        while True:
            if self.stopping.wait(rng.uniform(*self.args.gap)):
                return
            kill = Kill(
                rng.choice(self.args.kinds), time.monotonic(), rng.uniform(*self.args.outage)
            )
            self.kills.append(kill)
            self.faults.down = kill.kind
            console.log(f"kill -9 {kill.kind}, down for {kill.outage_s:.1f}s")
            self._service(kill.kind, start=False)
            time.sleep(kill.outage_s)  # a stop request waits for the restart
            self._service(kill.kind, start=True)
            kill.restarted_at = time.monotonic()
            self.faults.down = ""
            console.log(f"{kill.kind} restarted")

    def _service(self, kind: str, *, start: bool) -> None:
        service: SoakBroker | SoakPostgres | SoakProcess | None = (
            self.broker if kind == "broker" else self.pg if kind == "database" else self.ingest
        )
        assert service is not None
        service.start() if start else service.kill()

    def check_processes(self) -> None:
        """Restart the ingest or API process if it exited by itself, and note it."""
        for proc in (self.ingest, self.api):
            if proc is None or (proc is self.ingest and self.faults.down == "ingest"):
                continue
            code = proc.exited()
            if code is not None:
                self.unplanned.append(f"{proc.name} exited with code {code}")
                console.log(f"[red]{proc.name} exited by itself with code {code}; restarting")
                proc.proc = None
                proc.start()

    def publish(self, progress: Progress) -> None:
        """Publish at the steady rate for the run's minutes."""
        seconds = self.args.minutes * 60
        task = progress.add_task("publishing", total=seconds, info="")
        started = self.started = time.monotonic()
        n = len(self.publishers)
        last_check = started
        next_note = 60.0
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * self.args.rate) - self.handed.value
            for _ in range(due):
                topic, payload = self.traffic.next()
                self.publishers[self.handed.value % n].publish(topic, payload)
                self.handed.value += 1
                self.sent_at.append(time.monotonic())
            for pub in self.publishers:
                pub.tend()
            if time.monotonic() - last_check > 0.5:
                last_check = time.monotonic()
                self.check_processes()
                progress.update(task, completed=elapsed, info=self._info())
            if not console.is_terminal and elapsed > next_note:
                next_note += 60  # a log file gets a line a minute instead of a live bar
                console.log(f"{elapsed / 60:.0f} min: {self._info()}")
            time.sleep(TICK_S)
        progress.update(task, completed=seconds)

    def _info(self) -> str:
        down = self.faults.down or "-"
        lag = self.lag.lag
        shown = "?" if lag is None else f"{lag:,}"
        return f"sent {self.handed.value:,}  lag {shown}  down {down}  kills {len(self.kills)}"

    def flush(self, timeout: float = 120) -> int:
        """Wait until the broker has acknowledged every message; what is left unacknowledged."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pub in self.publishers:
                pub.tend()
            if all(pub.pending == 0 for pub in self.publishers):
                break
            time.sleep(TICK_S)
        return sum(pub.pending for pub in self.publishers)

    def drain(self, progress: Progress) -> float:
        """Wait until ingest has stored everything (or stalls); seconds it took."""
        task = progress.add_task("draining", total=self.handed.value, info="")
        started = last_change = time.monotonic()
        stored = -1
        with connect(self.database_url, autocommit=True) as conn:
            while time.monotonic() - started < self.args.drain_timeout:
                self.check_processes()
                now_stored = count_stored(conn, COUNCIL)
                progress.update(task, completed=now_stored)
                if now_stored >= self.handed.value:
                    break
                if now_stored != stored:
                    stored, last_change = now_stored, time.monotonic()
                elif time.monotonic() - last_change > 60:
                    break
                time.sleep(0.5)
        return time.monotonic() - started

    def close(self) -> None:
        for pub in self.publishers:
            pub.close()
        for proc in (self.api, self.ingest):
            if proc is not None:
                proc.stop()
        self.broker.stop()
        self.pg.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    why = have_binaries()
    if why is not None:
        console.print(f"soak: cannot run here: {why}")
        return 2
    with contextlib.ExitStack() as stack:
        workdir = work_dir(stack, args.log_dir)
        workdir.chmod(0o755)  # the postgres user must reach its data directory
        soak = Soak(args, workdir)
        stack.callback(soak.close)
        probe = soak.setup()
        soak.lag.start()
        probe.start()
        chaos = threading.Thread(target=soak.chaos, name="chaos", daemon=True)
        chaos.start()
        columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, TextColumn("{task.fields[info]}"), console=console) as progress:
            soak.publish(progress)
            soak.stopping.set()
            chaos.join()  # an outage in progress ends with its restart
            unacked = soak.flush()
            drain_s = soak.drain(progress)
            time.sleep(2.5)  # the lag monitor's last samples see the drained state
        probe.stop()
        soak.lag.stop()
        with connect(soak.database_url, autocommit=True) as conn:
            verdict = verify(conn, COUNCIL, soak.traffic)
        resent = sum(pub.resent for pub in soak.publishers)
        return report(
            console,
            args,
            Run(
                soak.started,
                soak.sent_at,
                soak.kills,
                soak.unplanned,
                soak.lag,
                probe,
                unacked,
                drain_s,
                resent,
            ),
            verdict,
        )


if __name__ == "__main__":
    sys.exit(main())
