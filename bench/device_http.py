"""Benchmark: devices' readings over HTTP (one a request, and NDJSON batches) against MQTT.

The same ``--devices`` bins each send the same ``--readings`` fill readings (identical payload
bytes) along three paths:

* ``http``: one ``POST /v1/councils/{c}/devices/{id}/readings`` a reading to ``smartstreets
  api`` in its own process, from ``--clients`` concurrent keep-alive clients, each logged in as
  the device with its broker password; a reading is done at its 202, which comes after the
  commit;
* ``ndjson``: the same, ``--batch`` readings a request as ``application/x-ndjson``;
* ``mqtt``: published as the devices would (QoS 1) to the broker, stored by ``smartstreets
  ingest`` in its own process; done when every row is committed (polled in the database).

Each path writes to a council (and bins) of its own in one scratch database (created on the
given server, migrated, dropped at the end), so none finds another's rows already stored. The
clocks run from the first byte sent to the last row committed. It reports; it does not assert.
Run it from the repository root::

    .venv/bin/python bench/device_http.py --devices 50 --readings 40
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if not __package__:
    # Run as ``python bench/device_http.py``: bench/ would shadow the ``api`` package.
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
from datetime import UTC, datetime, timedelta  # noqa: E402

import httpx  # noqa: E402
import psycopg  # noqa: E402

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
from ingest.credentials import broker_users, render_password_file  # noqa: E402
from ingest.db.connect import connect  # noqa: E402
from ingest.db.registry import DeviceCreate, RegisteredDevice, import_devices  # noqa: E402
from ingest.settings import mask_url  # noqa: E402
from tests.helpers import publish_all  # noqa: E402
from tests.services import scratch_database  # noqa: E402

PREFIX = "smartstreets"
"""The API's topic prefix (the default); the MQTT path's ingest uses a prefix of its own."""


def build_readings(devices: int, readings: int, seed: int) -> list[list[bytes]]:
    """Each device's ``readings`` fill readings (payload bytes), 5 minutes apart, ending a day
    ago (well inside the contract's clock window)."""
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    out = []
    for _ in range(devices):
        fill = rng.uniform(0, 30)
        mine = []
        for k in range(readings):
            fill = min(100.0, fill + rng.uniform(0, 2))
            ts = end - timedelta(minutes=5 * (readings - k))
            body = {"ts": ts.isoformat(), "fill_pct": round(fill, 1), "seq": k}
            mine.append(json.dumps(body, separators=(",", ":")).encode())
        out.append(mine)
    return out


def _register(conn: psycopg.Connection, council: str, ids: Sequence[str]) -> list[DeviceCreate]:
    devices = [
        DeviceCreate(council=council, kind="bin", device_id=d, lat=52.67, lon=-0.72,
                     capacity_litres=240)
        for d in ids
    ]  # fmt: skip
    import_devices(conn, devices)
    return devices


def _stored(conn: psycopg.Connection, council: str) -> int:
    row = conn.execute("SELECT count(*) FROM bin_fill WHERE council = %s", (council,)).fetchone()
    return int(row[0]) if row else 0


def run_http(
    base: str, council: str, ids: Sequence[str], readings: Sequence[list[bytes]],
    passwords: dict[str, str], clients: int, batch: int,
) -> tuple[float, int]:  # fmt: skip
    """Post every reading, ``batch`` a request (1: plain JSON); seconds until the last 202 and
    the number of requests."""
    ndjson = batch > 1
    headers = {"Content-Type": "application/x-ndjson" if ndjson else "application/json"}
    requests = []
    for device, mine in zip(ids, readings, strict=True):
        for i in range(0, len(mine), batch):
            chunk = mine[i : i + batch]
            body = b"".join(r + b"\n" for r in chunk) if ndjson else chunk[0]
            requests.append((device, body))
    pool = [httpx.Client(timeout=60) for _ in range(clients)]

    def post(i: int) -> None:
        device, body = requests[i]
        url = f"{base}/v1/councils/{council}/devices/{device}/readings"
        resp = pool[i % clients].post(
            url, content=body, headers=headers, auth=(device, passwords[device])
        )
        if resp.status_code != 202 or resp.json()["quarantined"]:
            raise BenchError(f"request {i}: {resp.status_code} {resp.text[:200]}")

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(clients) as ex:
            list(ex.map(post, range(len(requests))))
    finally:
        for c in pool:
            c.close()
    return time.perf_counter() - started, len(requests)


def _messages(
    prefix: str, council: str, ids: Sequence[str], readings: Sequence[list[bytes]]
) -> list[tuple[str, bytes]]:
    messages = []
    for device, mine in zip(ids, readings, strict=True):
        topic = build_topic(prefix, council, Stream.BIN_FILL, device)
        messages += [(topic, r) for r in mine]
    return messages


def warm_mqtt(conn: psycopg.Connection, mqtt_url: str, prefix: str, council: str, device: str,
              reading: bytes) -> None:  # fmt: skip
    """Publish one reading until ingest has stored it: ingest is then subscribed and warm."""
    deadline = time.monotonic() + 60
    topic = build_topic(prefix, council, Stream.BIN_FILL, device)
    while _stored(conn, council) < 1:
        if time.monotonic() > deadline:
            raise BenchError("ingest stored nothing within 60 s (see its log)")
        publish_all(mqtt_url, f"{prefix}-warm", [(topic, reading)])
        with contextlib.suppress(BenchError):
            wait_rows(lambda: _stored(conn, council), 1, 1.0, council)


def run(args: argparse.Namespace) -> None:
    uid = uuid.uuid4().hex[:8]
    prefix = f"bench-devhttp-{uid}"
    councils = {p: f"dev-{p}-{uid}" for p in ("http", "ndjson", "mqtt")}
    ids = {p: [f"{p}-{uid}-{i:04d}" for i in range(args.devices)] for p in councils}
    warm = {p: f"{p}-{uid}-warm" for p in councils}
    readings = build_readings(args.devices, args.readings, args.seed)
    warm_reading = build_readings(1, 1, args.seed + 1)[0]
    n = args.devices * args.readings
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.devices} bins x "
        f"{args.readings} readings = {n} readings a path"
    )
    with contextlib.ExitStack() as stack:
        workdir = work_dir(stack, args.log_dir)
        db_url = stack.enter_context(scratch_database(args.database_url, "bench_devhttp"))
        conn = stack.enter_context(connect(db_url, autocommit=True))
        created = [d for p, c in councils.items() for d in _register(conn, c, [*ids[p], warm[p]])]
        registered = [RegisteredDevice(d.device_id, d.council, d.kind, d.zone) for d in created]
        users = broker_users(PREFIX, registered)
        passwords = {u.username: f"bench-{uid}-{u.username}" for u in users}
        passwd = workdir / "passwd"
        passwd.write_text(render_password_file(users, passwords))
        env = {
            "SMARTSTREETS_API_DEVICE_PASSWORDS_FILE": str(passwd),
            "SMARTSTREETS_API_DEVICE_POSTS_PER_MIN": "0",
        }
        host, port = stack.enter_context(api_server(db_url, 1, True, workdir / "api.log", env))
        base = f"http://{host}:{port}"
        results = []
        for path, batch in (("http", 1), ("ndjson", args.batch)):
            council = councils[path]
            # A warm-up reading per path, so neither pays for a first connection or plan.
            run_http(base, council, [warm[path]], [warm_reading], passwords, 1, 1)
            seconds, requests = run_http(
                base, council, ids[path], readings, passwords, args.clients, batch
            )
            if _stored(conn, council) < n + 1:
                raise BenchError(f"the {path} path answered 202 for rows that are not stored")
            results.append((path, seconds, requests))
        council = councils["mqtt"]
        stack.enter_context(ingest_worker(db_url, args.mqtt_url, prefix, workdir / "ingest.log"))
        warm_mqtt(conn, args.mqtt_url, prefix, council, warm["mqtt"], warm_reading[0])
        messages = _messages(prefix, council, ids["mqtt"], readings)
        started = time.perf_counter()
        publish_all(args.mqtt_url, f"{prefix}-publisher", messages)
        wait_rows(lambda: _stored(conn, council), n + 1, args.timeout, council)
        results.append(("mqtt", time.perf_counter() - started, len(messages)))
    print(f"{'path':<7} {'seconds':>8} {'readings/s':>11} {'requests':>9} {'requests/s':>11}")
    for label, seconds, requests in results:
        print(
            f"{label:<7} {seconds:8.2f} {n / seconds:11.0f} {requests:9d} "
            f"{requests / seconds:11.0f}"
        )
    print(
        f"http and ndjson ({args.batch} a request): {args.clients} concurrent clients, one API "
        f"process; mqtt (requests = messages): one ingest worker, {mask_url(args.mqtt_url)}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = Parser(
        prog="bench/device_http.py",
        description="Readings/s of devices' readings over HTTP (single, NDJSON) and over MQTT.",
    )
    parser.add_argument("--devices", type=positive, default=50, help="bins per path")
    parser.add_argument("--readings", type=positive, default=40, help="readings per bin")
    parser.add_argument("--batch", type=positive, default=40, help="readings per NDJSON request")
    parser.add_argument("--clients", type=positive, default=4, help="concurrent HTTP clients")
    parser.add_argument("--seed", type=int, default=1, help="seed of the readings")
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
