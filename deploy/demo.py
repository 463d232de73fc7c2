"""``smartstreets demo``: the whole platform on one machine.

Starts an embedded broker and database unless URLs are configured, applies migrations, registers
a small synthetic town, then runs ingest, the simulators and the API as child processes (as they
run in production) until Ctrl-C or ``--duration``.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

import psycopg
import typer
from psycopg import sql

from analytics.geo.roads import RoadNetwork
from analytics.potholes.coverage import segments_from_network
from analytics.potholes.coverage_store import refresh_coverage, store_segments
from analytics.potholes.store import refresh_potholes
from analytics.routing.errors import RoutingError
from analytics.routing.io import set_depot, set_windows
from analytics.routing.settings import RoutingSettings
from analytics.routing.shifts import next_working_day, plan_day, shift_start
from api.auth import Scope, create_token
from deploy.embedded import EmbeddedBroker, EmbeddedError, EmbeddedPostgres, free_port, port_is_free
from ingest.db.connect import connect
from ingest.db.councils import council_timezone
from ingest.db.migrate import migrate
from ingest.db.registry import write_registry_csv
from ingest.errors import IngestError
from ingest.kernel.cli import fail, service_settings
from ingest.mqtt import wait_online
from simulators.backfill import backfill_phones
from simulators.realtime import register_town
from simulators.world import World, build_world

log = logging.getLogger(__name__)

DEMO_COUNCIL = "rutland"
PHONE_HISTORY_DAYS, PHONE_HISTORY_PHONES = 7, 12
"""The demo's phone history: a week of one trip a day by each of 12 phones."""


def _child(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "deploy", *args], env=env)


def _wait_healthy(url: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 (our own URL)
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _wait_drained(url: str, timeout: float = 15) -> None:
    """Wait until ingest has stored what the broker still held for it: the number of stored
    messages stops changing for a few flush periods."""
    deadline = time.monotonic() + timeout
    last, steady = -1, 0
    while time.monotonic() < deadline and steady < 4:
        counts = _row_counts(url)
        total = sum(counts.values())
        steady = steady + 1 if total == last else 0
        last = total
        time.sleep(0.5)


def _row_counts(url: str) -> dict[str, int]:
    with connect(url) as conn:
        counts = {}
        for table in ("bin_fill", "bump_report", "footfall_count", "quarantine"):
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts


def _plan_rounds(conn: psycopg.Connection, network: RoadNetwork) -> date:
    """Register the demo depot and windows, and plan the next shift on the town's roads."""
    depot = network.nodes[network.depot]
    set_depot(conn, DEMO_COUNCIL, depot.lat, depot.lon, "demo depot")
    zones = {z.name for z in network.zones}
    if "high-street" in zones:
        set_windows(conn, DEMO_COUNCIL, {"high-street": (dt_time(7, 0), dt_time(10, 0))})
    settings = RoutingSettings(seconds=2)
    local_now = datetime.now(ZoneInfo(council_timezone(conn, DEMO_COUNCIL)))
    day = local_now.date()
    if local_now >= shift_start(day, str(local_now.tzinfo), settings):
        day = next_working_day(day, settings)
    try:
        plan = plan_day(conn, DEMO_COUNCIL, day, settings, network=network)
    except RoutingError as exc:
        log.warning("no collection plan: %s", exc)
        return day
    log.info(
        "planned %s: %d bins on %d route(s), %.1f km; %d left for another day",
        day,
        sum(len(r.stops) for r in plan.routes),
        len(plan.routes),
        plan.distance_m / 1000,
        len(plan.skipped),
    )
    return day


def _phone_history(db_url: str, world: World, prefix: str, seed: int) -> None:
    """A week of phones' trips, then potholes and coverage refreshed from them (in the
    background: the API need not wait for it)."""
    try:
        with connect(db_url) as conn:
            if conn.execute("SELECT 1 FROM bump_report LIMIT 1").fetchone() is not None:
                return  # a restarted demo keeps its history
            start = datetime.now(UTC).date() - timedelta(days=PHONE_HISTORY_DAYS)
            backfill_phones(
                conn,
                world.town,
                world.network,
                world.features,
                start=start,
                days=PHONE_HISTORY_DAYS,
                seed=seed,
                prefix=prefix,
                phones=PHONE_HISTORY_PHONES,
            )
            refresh_potholes(conn, DEMO_COUNCIL)
            counts = refresh_coverage(conn, DEMO_COUNCIL)
        log.info("phone history written; %d road segments driven", counts["passed"])
    except psycopg.Error as exc:
        log.warning("could not write phone history: %s", str(exc).strip().splitlines()[0])


def demo(
    duration: float | None = typer.Option(
        None, min=1, help="Stop cleanly after this many seconds (default: run until Ctrl-C)."
    ),
    data_dir: Path = typer.Option(Path(".smartstreets"), help="Where embedded services keep data."),
    host: str = typer.Option("127.0.0.1", help="Address the API listens on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port the API listens on."),
    history_days: int = typer.Option(
        28, min=0, max=365, help="Days of footfall history to backfill on first run."
    ),
    seed: int = typer.Option(1, help="Seed of the synthetic town."),
) -> None:
    """Run everything: broker, database, simulators, ingest, API and pages."""
    settings = service_settings()
    log.info("demo starting with %s", settings.masked())
    if not port_is_free(host, port):
        fail(f"port {port} on {host} is in use; pass --port to choose another", 2)
    broker: EmbeddedBroker | None = None
    database: EmbeddedPostgres | None = None
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    exit_code = 0
    db_url: str | None = None
    try:
        db_url = settings.database_url
        if db_url is None:
            database = EmbeddedPostgres(data_dir.resolve() / "postgres")
            db_url = database.start()
        mqtt_url = settings.mqtt_url
        if mqtt_url is None:
            # 1883 is often taken by a system Mosquitto; the demo never needs a fixed port.
            broker = EmbeddedBroker(port=1883 if port_is_free("127.0.0.1", 1883) else free_port())
            broker.start()
            mqtt_url = broker.url
        applied = migrate(db_url)
        log.info("schema up to date (%d migration(s) applied now)", len(applied))
        world = build_world(DEMO_COUNCIL, seed=seed, bins=24, counters=6)
        town = world.town
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "registry.csv").write_text(write_registry_csv(town.devices()))
        with connect(db_url) as conn:
            register_town(conn, town, settings.mqtt_prefix, history_days=history_days, seed=seed)
            crew = create_token(conn, DEMO_COUNCIL, Scope.CREW, "demo")
            highways = create_token(conn, DEMO_COUNCIL, Scope.HIGHWAYS, "demo")
            shift_day = _plan_rounds(conn, world.network)
            store_segments(conn, DEMO_COUNCIL, segments_from_network(world.network))
        env = dict(os.environ, SMARTSTREETS_DATABASE_URL=db_url, SMARTSTREETS_MQTT_URL=mqtt_url)
        children.append(("ingest", _child(["ingest", "--no-migrate"], env)))
        # Readings published before ingest has subscribed would have nowhere to go.
        wait_online(mqtt_url, settings.mqtt_prefix, "smartstreets-ingest", timeout=60)
        children.append(("api", _child(["api", "--host", host, "--port", str(port)], env)))
        children.append(
            ("simulate", _child(["simulate", "--council", DEMO_COUNCIL, "--seed", str(seed)], env))
        )
        children.append(
            (
                "forecast",
                _child(["forecast", "refresh", "--council", DEMO_COUNCIL, "--every", "900"], env),
            )
        )
        children.append(
            (
                "potholes",
                _child(["potholes", "refresh", "--council", DEMO_COUNCIL, "--every", "300"], env),
            )
        )
        # Alerts are recorded (the alert table, the Operations dashboard) and sent only where
        # SMARTSTREETS_ALERTS_WEBHOOK_URLS or SMTP is configured.
        children.append(("alerts", _child(["alerts", "check", "--every", "300"], env)))
        phones = threading.Thread(
            target=_phone_history, args=(db_url, world, settings.mqtt_prefix, seed), daemon=True
        )
        phones.start()
        base = f"http://{host}:{port}"
        if not _wait_healthy(f"{base}/health", time.monotonic() + 60):
            raise IngestError(f"the API did not become healthy at {base}/health within 60s")
        print(
            f"\nsmartstreets is running\n"
            f"  pages           {base}/\n"
            f"  open data       {base}/open-data/catalog.json\n"
            f"  how busy        {base}/councils/{DEMO_COUNCIL}\n"
            f"  API docs        {base}/docs\n"
            f"  health          {base}/health\n"
            f"  busy now        {base}/v1/councils/{DEMO_COUNCIL}/zones/now\n"
            f"  bins (crew)     curl -H 'Authorization: Bearer {crew}' "
            f"{base}/v1/councils/{DEMO_COUNCIL}/bins/latest\n"
            f"  rounds (crew)   {base}/crew?council={DEMO_COUNCIL}&date={shift_day} "
            f"(token {crew})\n"
            f"  potholes        {base}/highways?council={DEMO_COUNCIL} (token {highways})\n"
            f"  bumps (highways) curl -H 'Authorization: Bearer {highways}' "
            f"'{base}/v1/councils/{DEMO_COUNCIL}/bumps?bbox=-0.8,52.6,-0.6,52.7'\n"
            f"  MQTT broker     {mqtt_url}\n"
            f"  data directory  {data_dir.resolve()}\n"
            + (
                f"  stops by itself after {duration:.0f}s\n"
                if duration
                else "  press Ctrl-C to stop\n"
            ),
            flush=True,
        )
        deadline = None if duration is None else time.monotonic() + duration
        while not stopping and (deadline is None or time.monotonic() < deadline):
            for name, proc in children:
                if proc.poll() is not None:
                    raise IngestError(f"{name} exited unexpectedly with code {proc.returncode}")
            time.sleep(0.5)
    except (EmbeddedError, IngestError, psycopg.Error) as exc:
        log.error("%s", str(exc).strip().splitlines()[0])
        exit_code = 1
    finally:
        # Simulators first, then ingest (it writes and acknowledges what it holds), then the API.
        order = {"simulate": 0, "forecast": 0, "potholes": 0, "alerts": 0, "ingest": 1, "api": 2}
        for name, proc in sorted(children, key=lambda c: order.get(c[0], 9)):
            if name == "ingest" and db_url is not None and proc.poll() is None:
                try:
                    _wait_drained(db_url)
                except psycopg.Error as exc:
                    log.warning("could not check that ingest drained: %s", exc)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in 30s; killing it", name)
                    proc.kill()
        if db_url is not None:
            try:
                counts = _row_counts(db_url)
                log.info("rows stored: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
            except psycopg.Error as exc:
                log.warning("could not count stored rows: %s", str(exc).strip())
        if broker is not None:
            broker.stop()
        if database is not None:
            database.stop()
    if exit_code:
        raise typer.Exit(exit_code)
    log.info("demo stopped cleanly")
