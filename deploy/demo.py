"""``smartstreets demo``: the whole platform on one machine.

Starts an embedded broker and database unless URLs are configured, applies migrations, registers
a small simulated town on Oakham's real streets (or a generated town), then runs ingest, the
simulators and the API as child processes (as they run in production) until Ctrl-C or
``--duration``. Each step is a function of its own.
"""

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psycopg
import typer

from analytics.geo.osm import OSM_ATTRIBUTION
from deploy.children import Child, check_alive, row_counts, start_child, stop_children, wait_healthy
from deploy.demo_town import DEMO_COUNCIL, DemoTown, phone_history, seed_town
from deploy.embedded import EmbeddedBroker, EmbeddedError, EmbeddedPostgres, free_port, port_is_free
from ingest.db.migrate import migrate
from ingest.errors import IngestError, first_line
from ingest.kernel.cli import fail, service_settings
from ingest.mqtt import wait_online
from ingest.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The demo's database (once known, to drain and count at the end) and the embedded
    services it started itself."""

    db_url: str | None = None
    database: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None

    def stop(self) -> None:
        """Stop what the demo started."""
        if self.broker is not None:
            self.broker.stop()
        if self.database is not None:
            self.database.stop()


def start_services(
    settings: ServiceSettings, data_dir: Path, services: Services
) -> tuple[str, str]:
    """The database and broker URLs: the configured ones, or embedded services started (and
    recorded in ``services`` to be stopped); the schema migrated."""
    db_url = settings.database_url
    if db_url is None:
        services.database = EmbeddedPostgres(data_dir.resolve() / "postgres")
        db_url = services.database.start()
    services.db_url = db_url
    mqtt_url = settings.mqtt_url
    if mqtt_url is None:
        # 1883 is often taken by a system Mosquitto; the demo never needs a fixed port.
        port = 1883 if port_is_free("127.0.0.1", 1883) else free_port()
        services.broker = EmbeddedBroker(port=port)
        services.broker.start()
        mqtt_url = services.broker.url
    applied = migrate(db_url)
    log.info("schema up to date (%d migration(s) applied now)", len(applied))
    return db_url, mqtt_url


def start_platform(
    env: dict[str, str],
    settings: ServiceSettings,
    host: str,
    port: int,
    seed: int,
    osm: Path | None = None,
) -> list[Child]:
    """Ingest first (readings published before it subscribes would have nowhere to go), then
    the API, the simulators (on the roads of ``osm``, as the demo's town) and the scheduled
    jobs."""
    children = [start_child("ingest", ["ingest", "--no-migrate"], env)]
    wait_online(
        env["SMARTSTREETS_MQTT_URL"], settings.mqtt_prefix, "smartstreets-ingest", timeout=60
    )
    council = ["--council", DEMO_COUNCIL]
    roads = [] if osm is None else ["--osm", str(osm)]
    # Crews' plans made through the API drive the same real roads (unless configured otherwise).
    api_env = env if osm is None else {"SMARTSTREETS_ROUTING_OSM_FILE": str(osm)} | env
    children += [
        start_child("api", ["api", "--host", host, "--port", str(port)], api_env),
        start_child("simulate", ["simulate", "live", *council, "--seed", str(seed), *roads], env),
        start_child("forecast", ["forecast", "refresh", *council, "--every", "900"], env),
        start_child("potholes", ["potholes", "refresh", *council, "--every", "300"], env),
        # Alerts are recorded (the alert table, the Operations dashboard) and sent only where
        # SMARTSTREETS_ALERTS_WEBHOOK_URLS or SMTP is configured.
        start_child("alerts", ["alerts", "check", "--every", "300"], env),
    ]
    return children


def print_urls(
    base: str, town: DemoTown, mqtt_url: str, data_dir: Path, duration: float | None
) -> None:
    """Tell the person at the terminal where everything is."""
    c, crew, highways = DEMO_COUNCIL, town.crew_token, town.highways_token
    print(
        f"\nsmartstreets is running\n"
        f"  town            {town.place}\n"
        f"  pages           {base}/\n"
        f"  open data       {base}/open-data/catalog.json\n"
        f"  how busy        {base}/councils/{c}\n"
        f"  API docs        {base}/docs\n"
        f"  health          {base}/health\n"
        f"  busy now        {base}/v1/councils/{c}/zones/now\n"
        f"  bins (crew)     curl -H 'Authorization: Bearer {crew}' "
        f"{base}/v1/councils/{c}/bins/latest\n"
        f"  rounds (crew)   {base}/crew?council={c}&date={town.shift_day} (token {crew})\n"
        f"  potholes        {base}/highways?council={c} (token {highways})\n"
        f"  drive (phones)  {base}/drive?council={c} (motion sensors need HTTPS or localhost:"
        " see the README)\n"
        f"  bumps (highways) curl -H 'Authorization: Bearer {highways}' "
        f"'{base}/v1/councils/{c}/bumps?bbox=-0.8,52.6,-0.6,52.7'\n"
        f"  MQTT broker     {mqtt_url}\n"
        f"  data directory  {data_dir.resolve()}\n"
        + ("" if town.osm is None else f"  map data        {OSM_ATTRIBUTION}\n")
        + (
            f"  stops by itself after {duration:.0f}s\n" if duration else "  press Ctrl-C to stop\n"
        ),
        flush=True,
    )


def run_until_stopped(children: list[Child], stop: threading.Event, duration: float | None) -> None:
    """Watch the children until a signal or ``duration``; a child that dies ends the demo."""
    deadline = None if duration is None else time.monotonic() + duration
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        check_alive(children)
        stop.wait(0.5)


def log_stored(db_url: str | None) -> None:
    """Log how many rows the run stored."""
    if db_url is None:
        return
    try:
        counts = row_counts(db_url)
        log.info("rows stored: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    except psycopg.Error as exc:
        log.warning("could not count stored rows: %s", str(exc).strip())


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
    seed: int = typer.Option(1, help="Seed of the simulated devices (and of a generated town)."),
    generated: bool = typer.Option(
        False,
        "--generated",
        help="Use a generated grid town instead of Oakham's real streets (tests, load).",
    ),
) -> None:
    """Run everything: broker, database, simulators, ingest, API and pages."""
    settings = service_settings()
    log.info("demo starting with %s", settings.masked())
    if not port_is_free(host, port):
        fail(f"port {port} on {host} is in use; pass --port to choose another", 2)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    services, children, exit_code = Services(), list[Child](), 0
    try:
        db_url, mqtt_url = start_services(settings, data_dir, services)
        town = seed_town(db_url, settings.mqtt_prefix, data_dir, history_days, seed, generated)
        env = dict(os.environ, SMARTSTREETS_DATABASE_URL=db_url, SMARTSTREETS_MQTT_URL=mqtt_url)
        children = start_platform(env, settings, host, port, seed, town.osm)
        threading.Thread(
            target=phone_history,
            args=(db_url, town.world, settings.mqtt_prefix, seed),
            daemon=True,
        ).start()
        base = f"http://{host}:{port}"
        if not wait_healthy(f"{base}/health", time.monotonic() + 60):
            raise IngestError(f"the API did not become healthy at {base}/health within 60s")
        print_urls(base, town, mqtt_url, data_dir, duration)
        run_until_stopped(children, stop, duration)
    except (EmbeddedError, IngestError, psycopg.Error) as exc:
        log.error("%s", first_line(exc))
        exit_code = 1
    finally:
        stop_children(children, services.db_url)
        log_stored(services.db_url)
        services.stop()
    if exit_code:
        raise typer.Exit(exit_code)
    log.info("demo stopped cleanly")
