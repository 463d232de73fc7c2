"""Commands of the quarantine: ``quarantine list``, ``show`` and ``replay``."""

import json
from contextlib import ExitStack

import psycopg
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ingest.db.quarantine import (
    QuarantinedMessage,
    QuarantineFilter,
    ReplayResult,
    get_quarantined,
    list_quarantine,
    payload_text,
    replay,
)
from ingest.kernel.cli import DatabaseUrlOption, fail, on_database, service_settings

quarantine_app = typer.Typer(
    help="Messages refused by ingest: list them, show one, replay them through today's decoder.",
    no_args_is_help=True,
)

_PROGRESS_FROM = 200
"""Replays of at least this many messages show a progress bar."""

CouncilOption = typer.Option(None, "--council", help="Only this council's messages.")
ReasonOption = typer.Option(
    None, "--reason", help="Only messages whose reason contains this text (any case)."
)
DeviceOption = typer.Option(None, "--device", help="Only this device's messages.")


def _filter(
    council: str | None,
    reason: str | None,
    device: str | None,
    ids: list[int] | None = None,
    limit: int | None = None,
) -> QuarantineFilter:
    try:
        return QuarantineFilter(council, reason, device, ids or None, limit)
    except ValueError as exc:
        fail(str(exc), 2)


def _time(row: QuarantinedMessage, last: bool) -> str:
    at = row.last_received_at if last else row.received_at
    return at.isoformat(timespec="seconds")


def _as_dict(row: QuarantinedMessage, with_payload: bool) -> dict[str, object]:
    out: dict[str, object] = {
        "id": row.id,
        "council": row.council,
        "stream": row.stream,
        "device_id": row.device_id,
        "topic": row.topic,
        "reason": row.reason,
        "copies": row.copies,
        "received_at": row.received_at.isoformat(),
        "last_received_at": row.last_received_at.isoformat(),
        "payload_bytes": len(row.payload),
    }
    if with_payload:
        out["payload"], out["payload_encoding"] = payload_text(row.payload)
    return out


@quarantine_app.command("list")
def quarantine_list(
    council: str | None = CouncilOption,
    reason: str | None = ReasonOption,
    device: str | None = DeviceOption,
    limit: int = typer.Option(50, "--limit", help="At most this many, most recent first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array instead of a table."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """List quarantined messages, most recently received first."""
    f = _filter(council, reason, device, limit=limit)
    rows = on_database(database_url, lambda conn: list_quarantine(conn, f))
    if as_json:
        print(json.dumps([_as_dict(r, with_payload=False) for r in rows], indent=2))
        return
    table = Table("id", "council", "stream", "device", "reason", "copies", "first", "last")
    for r in rows:
        table.add_row(
            str(r.id),
            r.council or "-",
            r.stream or "-",
            r.device_id or "-",
            r.reason,
            str(r.copies),
            _time(r, last=False),
            _time(r, last=True),
        )
    Console(width=200).print(table)
    if not rows:
        print("nothing in quarantine matches")


@quarantine_app.command("show")
def quarantine_show(
    quarantine_id: int = typer.Argument(..., metavar="ID", help="The id from 'quarantine list'."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of text."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Show one quarantined message with its payload (as text if UTF-8, else as hex)."""
    row = on_database(database_url, lambda conn: get_quarantined(conn, quarantine_id))
    if row is None:
        fail(f"no quarantined message with id {quarantine_id}")
    shown = _as_dict(row, with_payload=True)
    if as_json:
        print(json.dumps(shown, indent=2))
        return
    for key, value in shown.items():
        if key not in ("payload", "payload_encoding"):
            print(f"{key + ':':18}{value if value is not None else '-'}")
    print(f"payload ({shown['payload_encoding']}):")
    print(shown["payload"])


def _summary(result: ReplayResult) -> list[str]:
    verb = "would be stored" if result.dry_run else "stored"
    lines = [f"{verb}: {result.stored} (already present: {result.duplicates})"]
    failing = sum(result.failing.values())
    lines.append(f"still failing: {failing}")
    lines += [f"  {n:6d}  {reason}" for reason, n in sorted(result.failing.items())]
    for why, n in sorted(result.skipped.items()):
        lines.append(f"skipped: {n} ({why})")
    if result.dry_run:
        lines.append("dry run: nothing was changed")
    return lines


@quarantine_app.command("replay")
def quarantine_replay(
    council: str | None = CouncilOption,
    reason: str | None = ReasonOption,
    device: str | None = DeviceOption,
    ids: list[int] | None = typer.Option(None, "--id", help="Only this id (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would happen, change nothing."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Re-decode quarantined messages with today's contract and registry; store what passes.

    What passes is stored exactly once and leaves quarantine in the same transaction; what
    still fails stays, with its reason renewed. Phones' messages (their id was pseudonymised)
    and drives refused over HTTP are skipped.
    """
    f = _filter(council, reason, device, ids)
    prefix = service_settings(database_url).mqtt_prefix

    def work(conn: psycopg.Connection) -> ReplayResult:
        with ExitStack() as stack:
            bar: list[tuple[Progress, TaskID]] = []

            def on_total(total: int) -> None:
                if total >= _PROGRESS_FROM:
                    progress = stack.enter_context(
                        Progress(
                            TextColumn("replaying"),
                            BarColumn(),
                            MofNCompleteColumn(),
                            TimeElapsedColumn(),
                            console=Console(stderr=True),
                        )
                    )
                    bar.append((progress, progress.add_task("replay", total=total)))

            def on_progress(done: int) -> None:
                for progress, task in bar:
                    progress.advance(task, done)

            return replay(
                conn, prefix, f, dry_run=dry_run, on_total=on_total, on_progress=on_progress
            )

    result = on_database(database_url, work)
    for line in _summary(result):
        print(line)
