"""The ``simulate`` command."""

import logging
import signal
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import psycopg
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ingest.db.connect import connect
from ingest.errors import IngestError
from ingest.kernel.cli import DatabaseUrlOption, MqttUrlOption, fail, service_settings
from ingest.mqtt import close_client, open_client
from ingest.settings import ServiceSettings
from simulators.backfill import backfill
from simulators.load import run_load
from simulators.misbehave import Misbehaviour
from simulators.realtime import RealtimeOptions, RealtimeSimulator, register_town
from simulators.world import build_world

log = logging.getLogger(__name__)


def simulate(
    council: str = typer.Option("rutland", help="Council slug of the simulated town."),
    seed: int = typer.Option(1, help="Seed: the same seed gives the same town and readings."),
    bins: int | None = typer.Option(
        None, min=0, max=100_000, help="Number of bins (default 24 live, 500 with --days)."
    ),
    counters: int | None = typer.Option(
        None, min=0, max=10_000, help="People counters (default 6 live, 20 with --days)."
    ),
    phones: int | None = typer.Option(
        None, min=0, max=100_000, help="Phones reporting bumps (default 3 live, 50 with --days)."
    ),
    days: int | None = typer.Option(
        None, min=1, max=3650, help="Backfill mode: simulate this many days of history, fast."
    ),
    out: Path = typer.Option(
        Path("simulation"), help="Backfill mode: where the town and the ground truth go."
    ),
    end: datetime | None = typer.Option(
        None,
        formats=["%Y-%m-%d"],
        help="Backfill mode: the day after the last one (default "
        "today, UTC). Give it for output that is the same whenever it runs.",
    ),
    use_database: bool = typer.Option(
        True,
        "--database/--no-database",
        help="Backfill mode: also write the history to the database (through ingest's writer).",
    ),
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
    duplicates: float = typer.Option(0, min=0, max=1, help="Chance a message is sent twice."),
    out_of_order: float = typer.Option(
        0, min=0, max=1, help="Chance a message arrives after the device's next one."
    ),
    late: float = typer.Option(0, min=0, max=1, help="Chance a message arrives 60 s late."),
    malformed: float = typer.Option(0, min=0, max=1, help="Chance a payload is corrupted."),
    clock_skew: float = typer.Option(
        0, min=0, help="Standard deviation of each device's clock error, in seconds."
    ),
    silent: float = typer.Option(
        0, min=0, max=1, help="Chance per message that a device falls silent for 5 minutes."
    ),
    osm: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="Take the roads from this OpenStreetMap extract "
        "(.osm.pbf) instead of generating a town.",
    ),
    load: float | None = typer.Option(
        None,
        min=1,
        help="Load mode: publish this many messages/s (bins round robin) for "
        "--duration seconds and report the rate achieved.",
    ),
    database_url: str | None = DatabaseUrlOption,
    mqtt_url: str | None = MqttUrlOption,
) -> None:
    """Run a synthetic town's bins, counters and phones: in real time over MQTT, or with --days
    as a fast backfill that also writes the ground truth."""
    settings = service_settings(database_url, mqtt_url)
    if days is not None:
        run_backfill(
            settings,
            council=council,
            seed=seed,
            bins=500 if bins is None else bins,
            counters=20 if counters is None else counters,
            phones=50 if phones is None else phones,
            days=days,
            out=out,
            end=end,
            use_database=use_database,
            osm=osm,
        )
        return
    if load is not None:
        run_load_mode(
            settings, council=council, seed=seed, bins=bins or 1000, rate=load, duration=duration
        )
        return
    bins = 24 if bins is None else bins
    counters = 6 if counters is None else counters
    phones = 3 if phones is None else phones
    if not settings.mqtt_url:
        fail("SMARTSTREETS_MQTT_URL must be set (or use --mqtt-url)", 2)
    try:
        world = build_world(council, seed=seed, bins=bins, counters=counters, osm=osm)
        town = world.town
        options = RealtimeOptions(
            bin_every_s=bin_every,
            counter_every_s=counter_every,
            phones=phones,
            speedup=speedup,
            seed=seed,
            misbehaviour=Misbehaviour(
                duplicate=duplicates,
                out_of_order=out_of_order,
                late=late,
                malformed=malformed,
                clock_skew_s=clock_skew,
                silent=silent,
            ),
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
    sim = RealtimeSimulator(
        town, client, settings.mqtt_prefix, options, world.network, world.features
    )
    log.info("simulating %s: %d bins, %d counters, %d phones", council, bins, counters, phones)
    sim.run(duration)
    close_client(client, settings.mqtt_prefix)
    faults = dict(sim.faults.counts) if sim.faults is not None else {}
    log.info("simulator stopped after publishing %d messages %s", sim.published, faults or "")


def run_backfill(
    settings: ServiceSettings,
    *,
    council: str,
    seed: int,
    bins: int,
    counters: int,
    phones: int,
    days: int,
    out: Path,
    end: datetime | None,
    use_database: bool,
    osm: Path | None = None,
) -> None:
    """The backfill mode of ``simulate``, with a progress bar."""
    last = (end.date() if end else datetime.now(UTC).date()) - timedelta(days=1)
    start = last - timedelta(days=days - 1)
    try:
        world = build_world(council, seed=seed, bins=bins, counters=counters, osm=osm)
        network, town, features = world.network, world.town, world.features
    except ValueError as exc:
        fail(str(exc), 2)
    if use_database and not settings.database_url:
        fail(
            "backfill writes to the database: set SMARTSTREETS_DATABASE_URL or use "
            "--no-database for files only",
            2,
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with ExitStack() as stack:
            conn = (
                stack.enter_context(connect(settings.database_url))
                if use_database and settings.database_url
                else None
            )
            progress = stack.enter_context(Progress(*columns, transient=False))
            task = progress.add_task(f"simulating {days} days", total=bins + counters + phones)
            result = backfill(
                town,
                start=start,
                days=days,
                seed=seed,
                out=out,
                prefix=settings.mqtt_prefix,
                conn=conn,
                network=network,
                features=features,
                phones=phones,
                progress=lambda n: progress.advance(task, n),
            )
    except (IngestError, psycopg.Error) as exc:
        fail(str(exc).strip().splitlines()[0])
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror}")
    stored = ", ".join(f"{k}={v}" for k, v in sorted(result.written.items())) or "none (files only)"
    print(
        f"simulated {start} to {last}: {result.messages} messages; stored {stored}; "
        f"quarantined {result.quarantined}; wrote {', '.join(str(f) for f in result.files)}"
    )


def run_load_mode(
    settings: ServiceSettings,
    *,
    council: str,
    seed: int,
    bins: int,
    rate: float,
    duration: float | None,
) -> None:
    """The load mode of ``simulate``: a target rate, and the rate the broker took."""
    if duration is None:
        fail("--load needs --duration", 2)
    if not settings.mqtt_url:
        fail("SMARTSTREETS_MQTT_URL must be set (or use --mqtt-url)", 2)
    devices = [f"{council}-bin-{i + 1:04d}" for i in range(bins)]
    try:
        client = open_client(settings.mqtt_url, f"smartstreets-load-{council}-{seed}")
    except IngestError as exc:
        fail(str(exc))
    try:
        report = run_load(client, settings.mqtt_prefix, council, devices, rate, duration)
    finally:
        close_client(client)
    print(
        f"target {report.target_rate:,.0f} msg/s; published {report.published:,} in "
        f"{report.seconds:.1f} s = {report.achieved_rate:,.0f} msg/s"
        + ("" if report.acknowledged else " (not all acknowledged by the broker)")
    )
