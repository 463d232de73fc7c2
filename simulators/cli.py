"""``smartstreets simulate live|backfill|load``: a synthetic town, one mode per subcommand."""

import logging
import signal
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import psycopg
import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from ingest.contract.decode import describe_validation_error
from ingest.db.connect import connect
from ingest.errors import IngestError, first_line
from ingest.kernel.cli import DatabaseUrlOption, MqttUrlOption, fail, service_settings
from ingest.mqtt import close_client, open_client
from ingest.settings import ServiceSettings
from simulators.backfill import backfill as run_backfill
from simulators.history import register_town
from simulators.load import run_load
from simulators.misbehave import Misbehaviour
from simulators.realtime import RealtimeOptions, RealtimeSimulator
from simulators.world import World, build_world

log = logging.getLogger(__name__)

# Before the subcommands, ``simulate`` chose its mode by flags: these now belong to another mode.
_MOVED = {
    "--days": "backfill --days",
    "--load": "load --rate",
    "--out": "backfill --out",
    "--end": "backfill --end",
    "--database": "backfill --database",
    "--no-database": "backfill --no-database",
}


class _ModesGroup(TyperGroup):
    """The modes as subcommands; a flag that chose a mode before gets a one-line pointer."""

    # ``Any``: typer ships its own copy of click, whose Context is not public.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in ctx.help_option_names:
            live = self.commands["live"].params
            _point_to_mode(args, {o for p in live for o in (*p.opts, *p.secondary_opts)})
        return super().parse_args(ctx, args)


def _point_to_mode(args: list[str], live_flags: set[str]) -> NoReturn:
    flags = [a.split("=", 1)[0] for a in args if a.startswith("--")]
    # --days chose backfill over every other flag, then --load chose load; the rest was live.
    flag: str | None = next((f for f in ("--days", "--load") if f in flags), None)
    flag = flag or next((f for f in flags if f in _MOVED), None)
    if flag is not None:
        fail(f"'simulate {flag}' is now 'smartstreets simulate {_MOVED[flag]} ...'", 2)
    old = flags[0] if flags else args[0]
    if old in live_flags:
        fail(f"'simulate {old}' is now 'smartstreets simulate live {old} ...'", 2)
    fail(f"no such option {old}: the modes are 'smartstreets simulate live|backfill|load'", 2)


simulate_app = typer.Typer(
    cls=_ModesGroup,
    help="Run a synthetic town's bins, counters and phones: live over MQTT, as a fast backfill "
    "of days of history with its ground truth, or as a load at a target message rate.",
    no_args_is_help=True,
)

# -- options that several modes share -----------------------------------------------------------

CouncilOption = typer.Option("rutland", help="Council slug of the simulated town.")
SeedOption = typer.Option(1, help="Seed: the same seed gives the same town and readings.")
OsmOption = typer.Option(
    None,
    exists=True,
    dir_okay=False,
    help="Take the roads from this OpenStreetMap extract (.osm.pbf) instead of generating a town.",
)


def _count(default: int, hi: int, what: str, lo: int = 0) -> Any:
    return typer.Option(default, min=lo, max=hi, help=what)


def _world(council: str, seed: int, bins: int, counters: int, osm: Path | None) -> World:
    """The town, or a one-line error when its parameters are refused."""
    try:
        return build_world(council, seed=seed, bins=bins, counters=counters, osm=osm)
    except ValidationError as exc:  # a device of the town refused by the registry's rules
        fail(f"cannot build the town: {describe_validation_error(exc)}", 2)
    except ValueError as exc:
        fail(str(exc), 2)


def _mqtt_url(settings: ServiceSettings) -> str:
    if not settings.mqtt_url:
        fail("SMARTSTREETS_MQTT_URL must be set (or use --mqtt-url)", 2)
    return settings.mqtt_url


# -- live ---------------------------------------------------------------------------------------


@simulate_app.command()
def live(
    council: str = CouncilOption,
    seed: int = SeedOption,
    bins: int = _count(24, 100_000, "Number of bins."),
    counters: int = _count(6, 10_000, "People counters."),
    phones: int = _count(3, 100_000, "Phones reporting bumps."),
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
    osm: Path | None = OsmOption,
    database_url: str | None = DatabaseUrlOption,
    mqtt_url: str | None = MqttUrlOption,
) -> None:
    """Publish the town's bins, counters and phones over MQTT live, misbehaving if asked."""
    settings = service_settings(database_url, mqtt_url)
    broker = _mqtt_url(settings)
    world = _world(council, seed, bins, counters, osm)
    try:
        knobs = Misbehaviour(
            duplicate=duplicates, out_of_order=out_of_order, late=late, malformed=malformed,
            clock_skew_s=clock_skew, silent=silent,
        )  # fmt: skip
        options = RealtimeOptions(
            bin_every_s=bin_every,
            counter_every_s=counter_every,
            phones=phones,
            speedup=speedup,
            seed=seed,
            misbehaviour=knobs,
        )
    except ValueError as exc:
        fail(str(exc), 2)
    if register or history_days:
        _register(settings, world, history_days, seed)
    try:
        client = open_client(
            broker, f"smartstreets-sim-{council}-{seed}", prefix=settings.mqtt_prefix
        )
    except IngestError as exc:
        fail(str(exc))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        options.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sim = RealtimeSimulator(
        world.town, client, settings.mqtt_prefix, options, world.network, world.features
    )
    log.info("simulating %s: %d bins, %d counters, %d phones", council, bins, counters, phones)
    sim.run(duration)
    close_client(client, settings.mqtt_prefix)
    faults = dict(sim.faults.counts) if sim.faults is not None else {}
    log.info("simulator stopped after publishing %d messages %s", sim.published, faults or "")


def _register(settings: ServiceSettings, world: World, history_days: int, seed: int) -> None:
    """Import the town's devices, and ``history_days`` of history if it has none yet."""
    if not settings.database_url:
        fail("--register and --history-days need SMARTSTREETS_DATABASE_URL", 2)
    try:
        with connect(settings.database_url) as conn:
            register_town(
                conn, world.town, settings.mqtt_prefix, history_days=history_days, seed=seed
            )
    except (IngestError, psycopg.Error) as exc:
        fail(first_line(exc))


# -- backfill -----------------------------------------------------------------------------------


@simulate_app.command()
def backfill(
    days: int = typer.Option(..., min=1, max=3650, help="Simulate this many days of history."),
    council: str = CouncilOption,
    seed: int = SeedOption,
    bins: int = _count(500, 100_000, "Number of bins."),
    counters: int = _count(20, 10_000, "People counters."),
    phones: int = _count(50, 100_000, "Phones reporting bumps."),
    out: Path = typer.Option(Path("simulation"), help="Where the town and the ground truth go."),
    end: datetime | None = typer.Option(
        None,
        formats=["%Y-%m-%d"],
        help="The day after the last one (default today, UTC). Give it for output that is the "
        "same whenever it runs.",
    ),
    use_database: bool = typer.Option(
        True,
        "--database/--no-database",
        help="Also write the history to the database (through ingest's writer).",
    ),
    osm: Path | None = OsmOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Simulate days of history fast into the database, and the town and its truth into files."""
    settings = service_settings(database_url)
    last = (end.date() if end else datetime.now(UTC).date()) - timedelta(days=1)
    start = last - timedelta(days=days - 1)
    world = _world(council, seed, bins, counters, osm)
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
            result = run_backfill(
                world.town,
                start=start,
                days=days,
                seed=seed,
                out=out,
                prefix=settings.mqtt_prefix,
                conn=conn,
                network=world.network,
                features=world.features,
                phones=phones,
                progress=lambda n: progress.advance(task, n),
            )
    except (IngestError, psycopg.Error) as exc:
        fail(first_line(exc))
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror}")
    stored = ", ".join(f"{k}={v}" for k, v in sorted(result.written.items())) or "none (files only)"
    print(
        f"simulated {start} to {last}: {result.messages} messages; stored {stored}; "
        f"quarantined {result.quarantined}; wrote {', '.join(str(f) for f in result.files)}"
    )


# -- load ---------------------------------------------------------------------------------------


@simulate_app.command()
def load(
    rate: float = typer.Option(
        ...,
        min=1,
        help="Publish this many messages/s (bins round robin) and report the rate the broker took.",
    ),
    duration: float = typer.Option(..., min=0, help="Publish for this many seconds."),
    council: str = CouncilOption,
    seed: int = SeedOption,
    bins: int = _count(1000, 100_000, "Number of bins publishing.", lo=1),
    mqtt_url: str | None = MqttUrlOption,
) -> None:
    """Publish at a target message rate, and report the rate the broker acknowledged."""
    settings = service_settings(mqtt_url=mqtt_url)
    broker = _mqtt_url(settings)
    devices = [f"{council}-bin-{i + 1:04d}" for i in range(bins)]
    try:
        client = open_client(broker, f"smartstreets-load-{council}-{seed}")
    except IngestError as exc:
        fail(str(exc))
    try:
        report = run_load(client, settings.mqtt_prefix, council, devices, rate, duration)
    except ValueError as exc:
        fail(str(exc), 2)
    finally:
        close_client(client)
    print(
        f"target {report.target_rate:,.0f} msg/s; published {report.published:,} in "
        f"{report.seconds:.1f} s = {report.achieved_rate:,.0f} msg/s"
        + ("" if report.acknowledged else " (not all acknowledged by the broker)")
    )
