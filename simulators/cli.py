"""The ``simulate`` command."""

import logging
import signal
from types import FrameType

import psycopg
import typer

from deploy.cli_support import DatabaseUrlOption, MqttUrlOption, fail, service_settings
from ingest.db.connect import connect
from ingest.errors import IngestError
from ingest.mqtt import close_client, open_client
from simulators.realtime import RealtimeOptions, RealtimeSimulator, register_town
from simulators.town import make_town

log = logging.getLogger(__name__)


def simulate(
    council: str = typer.Option("rutland", help="Council slug of the simulated town."),
    seed: int = typer.Option(1, help="Seed: the same seed gives the same town and readings."),
    bins: int = typer.Option(24, min=0, max=100_000, help="Number of bins."),
    counters: int = typer.Option(6, min=0, max=10_000, help="Number of people counters."),
    phones: int = typer.Option(3, min=0, max=100_000, help="Number of phones reporting bumps."),
    speedup: float = typer.Option(60, min=0.001, help="How much faster than life bins fill."),
    bin_every: float = typer.Option(10, min=0.01, help="Seconds between a bin's readings."),
    counter_every: float = typer.Option(60, min=0.01, help="Seconds between a counter's counts."),
    duration: float | None = typer.Option(None, min=0, help="Stop after this many seconds."),
    register: bool = typer.Option(
        False, "--register/--no-register", help="Import the town's devices into the registry first."
    ),
    history_days: int = typer.Option(
        0, min=0, max=3650, help="Backfill this many days of footfall history first."
    ),
    database_url: str | None = DatabaseUrlOption,
    mqtt_url: str | None = MqttUrlOption,
) -> None:
    """Run a synthetic town's bins, counters and phones in real time over MQTT."""
    settings = service_settings(database_url, mqtt_url)
    if not settings.mqtt_url:
        fail("SMARTSTREETS_MQTT_URL must be set (or use --mqtt-url)", 2)
    try:
        town = make_town(council, seed=seed, bins=bins, counters=counters)
        options = RealtimeOptions(
            bin_every_s=bin_every,
            counter_every_s=counter_every,
            phones=phones,
            speedup=speedup,
            seed=seed,
        )
    except ValueError as exc:
        fail(str(exc), 2)
    if register or history_days:
        db_url = settings.database_url
        if not db_url:
            fail("--register and --history-days need SMARTSTREETS_DATABASE_URL", 2)
        try:
            with connect(db_url) as conn:
                register_town(
                    conn, town, settings.mqtt_prefix, history_days=history_days, seed=seed
                )
        except (IngestError, psycopg.Error) as exc:
            fail(str(exc).strip().splitlines()[0])
    client_id = f"smartstreets-sim-{council}-{seed}"
    try:
        client = open_client(settings.mqtt_url, client_id, prefix=settings.mqtt_prefix)
    except IngestError as exc:
        fail(str(exc))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        options.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sim = RealtimeSimulator(town, client, settings.mqtt_prefix, options)
    log.info("simulating %s: %d bins, %d counters, %d phones", council, bins, counters, phones)
    sim.run(duration)
    close_client(client, settings.mqtt_prefix)
    log.info("simulator stopped after publishing %d messages", sim.published)
