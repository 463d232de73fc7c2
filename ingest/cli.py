"""Commands of the ingest package: ``ingest``, ``db …``, ``devices …`` and ``contract …``."""

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import psycopg
import typer
from paho.mqtt.enums import MQTTProtocolVersion
from pydantic import ValidationError

from ingest.contract.asyncapi import render_asyncapi
from ingest.contract.decode import describe_validation_error
from ingest.contract.topics import Stream
from ingest.credentials_cli import devices_credentials
from ingest.db.backup import backup, restore
from ingest.db.connect import connect
from ingest.db.migrate import migrate
from ingest.db.registry import import_devices, read_registry
from ingest.db.writer import table_of
from ingest.errors import IngestError, first_line
from ingest.kernel.cli import (
    DatabaseUrlOption,
    MqttUrlOption,
    database_url_or_fail,
    fail,
    service_settings,
)
from ingest.mqtt import BrokerAddress, negotiate_protocol
from ingest.settings import IngestSettings, mask_url
from ingest.supervisor import supervise, worker_command
from ingest.worker import IngestWorker

log = logging.getLogger(__name__)

db_app = typer.Typer(help="Database schema and maintenance.", no_args_is_help=True)
devices_app = typer.Typer(
    help="The device registry (bins and people counters).", no_args_is_help=True
)
contract_app = typer.Typer(
    help="The device contract published for device makers.", no_args_is_help=True
)

ASYNCAPI_PATH = Path("docs/asyncapi.yaml")


def ingest(
    database_url: str | None = DatabaseUrlOption,
    mqtt_url: str | None = MqttUrlOption,
    client_id: str | None = typer.Option(
        None,
        help="MQTT client id (default: $SMARTSTREETS_INGEST_CLIENT_ID or smartstreets-ingest).",
    ),
    duration: float | None = typer.Option(
        None, min=0, help="Stop by itself after this many seconds (default: run until Ctrl-C)."
    ),
    migrate_first: bool = typer.Option(
        True, "--migrate/--no-migrate", help="Apply pending migrations before starting."
    ),
    workers: int = typer.Option(
        1, min=1, max=64, help="Worker processes sharing one MQTT 5 shared subscription."
    ),
    share_group: str | None = typer.Option(
        None, help="Shared-subscription group (default with --workers > 1: smartstreets)."
    ),
    receive_maximum: int | None = typer.Option(
        None, min=1, max=65535, help="MQTT 5 Receive Maximum (default 10000)."
    ),
    metrics_port: int | None = typer.Option(
        None, min=1, max=65535, help="Serve Prometheus /metrics here (worker i: port + i - 1)."
    ),
    bridge: str | None = typer.Option(
        None,
        help="Take LoRaWAN uplinks from a network server's MQTT integration instead: ttn (The "
        "Things Stack v3) or chirpstack (ChirpStack v4). Default: $SMARTSTREETS_INGEST_BRIDGE.",
    ),
    bridge_url: str | None = typer.Option(
        None,
        help="The network server's broker, e.g. mqtts://app1%40ttn:NNSXS.KEY@eu1.cloud."
        "thethings.network:8883 (default: $SMARTSTREETS_INGEST_BRIDGE_URL, else --mqtt-url).",
    ),
) -> None:
    """Subscribe to every device topic and store readings; quarantine what breaks the contract.

    With --bridge, subscribe to a LoRaWAN network server's uplinks instead and store them with
    the same writer, quarantine and acknowledgement after commit (README: Connecting real
    devices)."""
    settings = service_settings(database_url, mqtt_url)
    overrides: dict[str, object] = {
        k: v
        for k, v in (
            ("client_id", client_id),
            ("share_group", share_group),
            ("receive_maximum", receive_maximum),
            ("metrics_port", metrics_port),
            ("bridge", bridge),
            ("bridge_url", bridge_url),
        )
        if v is not None
    }
    try:
        db_url, broker_url = settings.require_services()
        tuning = IngestSettings.model_validate(overrides)
        if tuning.bridge is not None:
            # The network server's broker, under a session name of its own.
            broker_url = tuning.bridge_url or broker_url
            if "client_id" not in tuning.model_fields_set:
                tuning = tuning.model_copy(update={"client_id": f"smartstreets-{tuning.bridge}"})
            if workers > 1:
                raise ValueError("--bridge runs one worker (no shared subscriptions there)")
    except ValueError as exc:  # includes pydantic's ValidationError
        text = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        fail(text, 2)
    shown = tuning.model_dump()
    if tuning.bridge_url:
        shown["bridge_url"] = mask_url(tuning.bridge_url)
    log.info("ingest starting with %s, %s", settings.masked(), shown)
    try:
        if migrate_first:
            migrate(db_url)
        shared = workers > 1 or tuning.share_group is not None
        protocol = negotiate_protocol(BrokerAddress.parse(broker_url))
        if shared and protocol != MQTTProtocolVersion.MQTTv5:
            fail("shared subscriptions (--workers > 1, --share-group) need an MQTT 5 broker")
        if workers > 1:
            extra = [] if receive_maximum is None else ["--receive-maximum", str(receive_maximum)]
            commands = [
                worker_command(
                    i,
                    tuning.client_id,
                    tuning.share_group or "smartstreets",
                    tuning.metrics_port,
                    extra,
                )
                for i in range(1, workers + 1)
            ]
            raise typer.Exit(supervise(commands, duration))
        worker = IngestWorker(db_url, broker_url, settings.mqtt_prefix, tuning)
        worker.start()
    except (IngestError, psycopg.OperationalError) as exc:
        fail(first_line(exc))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current batch and stopping", signum)
        worker.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.wait(duration)
    worker.stop()


@db_app.command("migrate")
def db_migrate(
    database_url: str | None = DatabaseUrlOption,
    plain: bool = typer.Option(
        False,
        "--plain",
        help="Use plain PostgreSQL storage even where "
        "TimescaleDB is available (only on a database not yet migrated).",
    ),
) -> None:
    """Apply pending schema migrations (idempotent; recorded in schema_migration)."""
    url = database_url_or_fail(database_url)
    try:
        applied = migrate(url, want_timescaledb=not plain)
    except (IngestError, psycopg.OperationalError) as exc:
        fail(first_line(exc))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))


@db_app.command("prune")
def db_prune(database_url: str | None = DatabaseUrlOption) -> None:
    """Delete raw readings past their retention (plain PostgreSQL; TimescaleDB does it itself)."""
    url = database_url_or_fail(database_url)
    try:
        with connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT apply_retention()").fetchone()
    except psycopg.Error as exc:
        fail(first_line(exc))
    print(f"deleted {row[0] if row else 0} expired row(s)")


@db_app.command("retention")
def db_retention(
    stream: Stream | None = typer.Option(None, help="bin-fill, bump or footfall."),
    days: int | None = typer.Option(None, min=1, max=36500, help="Keep raw readings this long."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Show how long raw readings are kept, or change it for one stream."""
    url = database_url_or_fail(database_url)
    if (stream is None) != (days is None):
        fail("give both --stream and --days to change a retention period", 2)
    try:
        with connect(url, autocommit=True) as conn:
            if stream is not None and days is not None:
                conn.execute(
                    "SELECT set_retention(%s, make_interval(days => %s))", (table_of(stream), days)
                )
            rows = conn.execute(
                "SELECT table_name, extract(day FROM keep)::int FROM retention_setting "
                "ORDER BY table_name"
            ).fetchall()
    except psycopg.Error as exc:
        fail(first_line(exc))
    for table, keep_days in rows:
        print(f"{table}: {keep_days} days")


@db_app.command("backup")
def db_backup(
    file: Path = typer.Argument(..., help="Where to write the dump (pg_dump custom format)."),
    database_url: str | None = DatabaseUrlOption,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace FILE if it exists."),
) -> None:
    """Dump the database to FILE with pg_dump -Fc, compressed chunks and rollups as they are."""
    url = database_url_or_fail(database_url)
    try:
        done = backup(url, file, overwrite=overwrite)
    except (IngestError, psycopg.Error) as exc:
        fail(first_line(exc))
    print(f"wrote {file}: {done.size_bytes / 1e6:.1f} MB in {done.seconds:.1f} s")


@db_app.command("restore")
def db_restore(
    file: Path = typer.Argument(..., help="A dump written by 'smartstreets db backup'."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Restore FILE into an empty database (TimescaleDB pre/post restore; docs/production.md)."""
    url = database_url_or_fail(database_url)
    try:
        done = restore(url, file)
    except (IngestError, psycopg.Error) as exc:
        fail(first_line(exc))
    print(f"restored {file} in {done.seconds:.1f} s")


@devices_app.command("import")
def devices_import(
    file: Path = typer.Argument(
        ..., help="CSV with columns council,kind,device_id,lat,lon,zone,capacity_litres."
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Register or update devices from a CSV file (all rows or none)."""
    url = database_url_or_fail(database_url)
    try:
        devices = read_registry(file)
        with connect(url) as conn:
            count = import_devices(conn, devices)
    except (IngestError, psycopg.OperationalError) as exc:
        fail(str(exc).strip())
    print(f"imported {count} device(s) from {file}")


devices_app.command("credentials")(devices_credentials)


@contract_app.command("asyncapi")
def contract_asyncapi(
    out: Path = typer.Option(ASYNCAPI_PATH, help="Where the document lives."),
    check: bool = typer.Option(False, "--check", help="Fail if the file is not up to date."),
    prefix: str = typer.Option("smartstreets", help="Topic prefix shown in the document."),
) -> None:
    """Write the AsyncAPI 3 document of the device contract (or check it is current)."""
    text = render_asyncapi(prefix)
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current != text:
            fail(f"{out} is out of date; run 'smartstreets contract asyncapi' to regenerate it")
        print(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
