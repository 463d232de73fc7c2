"""``smartstreets alerts check``: raise, resolve and deliver alerts, once or on a schedule."""

import logging

import typer
from pydantic import ValidationError

from analytics.alerts.check import CheckResult, check_council
from analytics.alerts.notify import channels
from analytics.alerts.settings import AlertSettings
from ingest.contract.decode import describe_validation_error
from ingest.db.connect import connect
from ingest.db.councils import council_exists, council_slugs
from ingest.kernel.cli import DatabaseUrlOption, database_url_or_fail, fail, repeat

log = logging.getLogger(__name__)

alerts_app = typer.Typer(
    help="Alerts: bins on fire, tipped or overflowing, silent devices, low batteries, potholes.",
    no_args_is_help=True,
)


def _print(result: CheckResult, dry_run: bool) -> None:
    if result.skipped:
        print(f"{result.council}: skipped (another check is running)", flush=True)
        return
    verb = "would open" if dry_run else "opened"
    for f in result.opened:
        print(f"{result.council}: {verb} {f.kind} {f.subject}: {f.message}", flush=True)
    verb = "would resolve" if dry_run else "resolved"
    for a in result.resolved:
        print(f"{result.council}: {verb} {a.kind} {a.subject}", flush=True)
    summary = f"{len(result.opened)} opened, {len(result.resolved)} resolved"
    if not dry_run:
        summary += f", {result.sent} notification(s) sent, {result.failed} failed"
    print(f"{result.council}: {summary}", flush=True)


@alerts_app.command("check")
def alerts_check(
    council: str | None = typer.Option(None, help="Council slug (default: every council)."),
    every: float | None = typer.Option(
        None, min=10, max=86400, help="Keep checking every this many seconds until stopped."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would open and resolve; write and send nothing."
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Open alerts for new conditions, resolve cleared ones, and send what is owed.

    Channels come from SMARTSTREETS_ALERTS_WEBHOOK_URLS and SMARTSTREETS_ALERTS_SMTP_*; a
    notification a channel did not accept is sent again on the next check.
    """
    try:
        settings = AlertSettings()
    except ValidationError as exc:
        fail(f"bad setting: {describe_validation_error(exc)}", 2)
    url = database_url_or_fail(database_url)
    targets = channels(settings)
    log.info("alerts check with %s", settings.masked())
    if not targets and not dry_run:
        log.warning("no webhook or SMTP configured: alerts are recorded but not sent")

    def once() -> None:
        with connect(url, autocommit=True) as conn:
            if council is not None and not council_exists(conn, council):
                fail(f"unknown council {council!r}")
            for slug in [council] if council else council_slugs(conn):
                result = check_council(conn, slug, settings.params(), targets, dry_run=dry_run)
                _print(result, dry_run)

    repeat(every, once, "alerts check")
