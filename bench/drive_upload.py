"""Benchmark: residents' drives stored through HTTPS uploads against the same drives over MQTT.

The same ``--drives`` simulated drives (each a phone's bump reports and its coverage track) go:

* ``http``: as ``POST /v1/councils/{c}/drives`` to ``smartstreets api`` in its own process,
  from ``--clients`` concurrent keep-alive clients; a drive is done at its 202, which comes
  after the commit;
* ``mqtt``: as the phones would publish them (QoS 1, one message per report or track) to the
  broker, stored by ``smartstreets ingest`` in its own process; done when every row is
  committed (polled in the database).

Each path writes to a council of its own in one scratch database (created on the given server,
migrated, dropped at the end), so neither finds the other's rows already stored. Both clocks
run from the first byte sent to the last row committed. It reports; it does not assert. Run it
from the repository root::

    .venv/bin/python bench/drive_upload.py --drives 200
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if not __package__:
    # Run as ``python bench/drive_upload.py``: bench/ would shadow the ``api`` package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
    sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402

from analytics.geo.geometry import moved  # noqa: E402
from bench.args import Parser, positive, work_dir  # noqa: E402
from bench.servers import (  # noqa: E402
    BenchError,
    add_service_options,
    api_server,
    guarded,
    ingest_worker,
    wait_rows,
)
from ingest.contract.topics import Stream, build_topic  # noqa: E402
from ingest.db.connect import connect  # noqa: E402
from ingest.settings import mask_url  # noqa: E402
from simulators.phones import RoadFeature, simulate_trip  # noqa: E402
from simulators.town import CENTRE  # noqa: E402

DRIVE_LIMITS_OFF = {
    "SMARTSTREETS_API_DRIVE_UPLOADS_PER_MIN": "0",
    "SMARTSTREETS_API_DRIVE_UPLOADS_PER_TRIP": "0",
}
"""Every upload of the bench comes from one address: the drive limits would throttle it."""
from tests.helpers import publish_all  # noqa: E402
from tests.services import scratch_database  # noqa: E402


@dataclass(frozen=True)
class Drive:
    """One simulated drive: the phone's install id, its reports' and its track's JSON."""

    phone: str
    reports: list[dict[str, Any]]
    coverage: dict[str, Any] | None

    @property
    def rows(self) -> int:
        return len(self.reports) + (self.coverage is not None)


def build_drives(n: int, seed: int) -> list[Drive]:
    """``n`` drives of different phones over one street with potholes, a minute apart."""
    route = [CENTRE, moved(*CENTRE, 800, 0), moved(*CENTRE, 800, 600)]
    road = [
        RoadFeature(f"p{i}", "pothole", *moved(*CENTRE, 100 + 120 * i, 0.3), severity=0.9)
        for i in range(6)
    ]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    drives = []
    for i in range(n):
        rng = random.Random(f"drive-{seed}-{i}")
        trip = simulate_trip(route, [12.0, 9.0], road, start + timedelta(minutes=i), rng)
        drives.append(
            Drive(
                f"bench-phone-{i:05d}",
                [r.model_dump(mode="json", exclude_none=True) for r in trip.reports],
                None
                if trip.coverage is None
                else trip.coverage.model_dump(mode="json", exclude_none=True),
            )
        )
    return drives


def _stored(conn: psycopg.Connection, council: str) -> int:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM bump_report WHERE council = %(c)s) "
        "+ (SELECT count(*) FROM trip_coverage WHERE council = %(c)s)",
        {"c": council},
    ).fetchone()
    return int(row[0]) if row else 0


def run_http(base: str, council: str, drives: Sequence[Drive], clients: int) -> float:
    """Upload every drive; seconds until the last 202."""
    url = f"{base}/v1/councils/{council}/drives"
    bodies = [
        {"trip": uuid.uuid4().hex, "phone": d.phone, "reports": d.reports, "coverage": d.coverage}
        for d in drives
    ]
    pool = [httpx.Client(timeout=60) for _ in range(clients)]

    def upload(i: int) -> None:
        resp = pool[i % clients].post(url, json=bodies[i])
        if resp.status_code != 202:
            raise BenchError(f"upload {i}: {resp.status_code} {resp.text[:200]}")

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(clients) as ex:
            list(ex.map(upload, range(len(bodies))))
    finally:
        for c in pool:
            c.close()
    return time.perf_counter() - started


def _messages(prefix: str, council: str, drives: Sequence[Drive]) -> list[tuple[str, bytes]]:
    messages = []
    for d in drives:
        bump = build_topic(prefix, council, Stream.BUMP, d.phone)
        messages += [(bump, _json(r)) for r in d.reports]
        if d.coverage is not None:
            cover = build_topic(prefix, council, Stream.COVERAGE, d.phone)
            messages.append((cover, _json(d.coverage)))
    return messages


def warm_mqtt(
    conn: psycopg.Connection, mqtt_url: str, prefix: str, council: str, drive: Drive
) -> None:
    """Publish one drive until ingest has stored it: ingest is then subscribed (a message
    published before its session exists is not kept for it) and warm; repeats are no-ops."""
    deadline = time.monotonic() + 60
    while _stored(conn, council) < drive.rows:
        if time.monotonic() > deadline:
            raise BenchError("ingest stored nothing within 60 s (see its log)")
        publish_all(mqtt_url, f"{prefix}-warm", _messages(prefix, council, [drive]))
        with contextlib.suppress(BenchError):
            wait_rows(lambda: _stored(conn, council), drive.rows, 1.0, council)


def run_mqtt(
    conn: psycopg.Connection, mqtt_url: str, prefix: str, council: str, drives: Sequence[Drive],
    timeout: float,
) -> float:  # fmt: skip
    """Publish every drive's messages; seconds until the last row is committed."""
    messages = _messages(prefix, council, drives)
    want = _stored(conn, council) + sum(d.rows for d in drives)
    started = time.perf_counter()
    publish_all(mqtt_url, f"{prefix}-publisher", messages)
    wait_rows(lambda: _stored(conn, council), want, timeout, council)
    return time.perf_counter() - started


def _json(item: dict[str, Any]) -> bytes:
    return json.dumps(item, separators=(",", ":")).encode()


def run(args: argparse.Namespace) -> None:
    uid = uuid.uuid4().hex[:8]
    prefix = f"bench-drive-{uid}"
    http_council, mqtt_council = f"drive-http-{uid}", f"drive-mqtt-{uid}"
    started = time.perf_counter()
    drives = build_drives(args.drives, args.seed)
    rows = sum(d.rows for d in drives)
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {len(drives)} drives, "
        f"{rows} rows ({rows - sum(d.coverage is not None for d in drives)} bump reports), "
        f"simulated in {time.perf_counter() - started:.1f} s"
    )
    with contextlib.ExitStack() as stack:
        workdir = work_dir(stack, args.log_dir)
        db_url = stack.enter_context(scratch_database(args.database_url, "bench_drive"))
        conn = stack.enter_context(connect(db_url, autocommit=True))
        for c in (http_council, mqtt_council):
            conn.execute(
                "INSERT INTO council (slug, name, drives_enabled) VALUES (%s, %s, true)", (c, c)
            )
        host, port = stack.enter_context(
            api_server(db_url, 1, True, workdir / "api.log", DRIVE_LIMITS_OFF)
        )
        base = f"http://{host}:{port}"
        # A warm-up drive per path, so neither pays for a first salt, plan or connection.
        run_http(base, http_council, build_drives(1, args.seed + 1), 1)
        http_s = run_http(base, http_council, drives, args.clients)
        if _stored(conn, http_council) < rows:
            raise BenchError("the HTTP path answered 202 for rows that are not stored")
        stack.enter_context(ingest_worker(db_url, args.mqtt_url, prefix, workdir / "ingest.log"))
        warm_mqtt(conn, args.mqtt_url, prefix, mqtt_council, build_drives(1, args.seed + 1)[0])
        mqtt_s = run_mqtt(conn, args.mqtt_url, prefix, mqtt_council, drives, args.timeout)
    print(f"{'path':<6} {'seconds':>8} {'drives/s':>9} {'rows/s':>9}")
    for label, seconds in (("http", http_s), ("mqtt", mqtt_s)):
        print(f"{label:<6} {seconds:8.2f} {len(drives) / seconds:9.1f} {rows / seconds:9.0f}")
    print(
        f"http: {args.clients} concurrent clients, one API process; mqtt: one ingest worker, "
        f"{mask_url(args.mqtt_url)}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = Parser(
        prog="bench/drive_upload.py",
        description="Drives/s and rows/s of residents' drives through HTTPS uploads and MQTT.",
    )
    parser.add_argument("--drives", type=positive, default=200, help="simulated drives")
    parser.add_argument("--clients", type=positive, default=4, help="concurrent HTTP clients")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated drives")
    parser.add_argument(
        "--timeout", type=positive, default=300, help="seconds the MQTT path may take"
    )
    add_service_options(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
