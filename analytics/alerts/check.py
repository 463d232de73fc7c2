"""One check of one council: evaluate the rules, open and resolve alerts, deliver what is owed.

Opening or resolving an alert and owing its notifications happen in one transaction (an
outbox), and a notification is marked sent only once its channel accepted it, so a channel
that is down loses nothing: the next check sends it. A crash between a channel accepting and
the mark being written sends that one notification twice (at least once, never zero times).
A channel that fails is not tried again within the same check, which keeps each channel's
notifications in order (an alert's firing before its resolved).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from analytics.alerts import io
from analytics.alerts.errors import DeliveryError
from analytics.alerts.notify import Channel
from analytics.alerts.rules import (
    AlertParams,
    Firing,
    bin_alerts,
    pothole_alerts,
    resolution,
    silent_devices,
)
from analytics.alerts.state import Changes, OpenAlert, diff

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    """What one check of one council did."""

    council: str
    opened: list[Firing] = field(default_factory=list)
    resolved: list[OpenAlert] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    skipped: bool = False  # another check of the council was running


def firing_now(
    conn: psycopg.Connection, council: str, params: AlertParams, now: datetime
) -> list[Firing]:
    """Every alert condition that holds for the council now."""
    return [
        *bin_alerts(io.latest_bin_readings(conn, council), params),
        *silent_devices(io.last_heard(conn, council), now, params),
        *pothole_alerts(io.open_potholes(conn, council)),
    ]


def changes_now(
    conn: psycopg.Connection, council: str, params: AlertParams, now: datetime
) -> Changes:
    """Alerts to open and to resolve, compared with those already open."""
    return diff(firing_now(conn, council, params, now), io.open_alerts(conn, council))


def _record(
    conn: psycopg.Connection,
    council: str,
    changes: Changes,
    channels: Sequence[Channel],
    now: datetime,
) -> CheckResult:
    result = CheckResult(council)
    names = [c.name for c in channels]
    potholes = io.pothole_states(
        conn, council, [a.subject for a in changes.to_resolve if a.kind == "pothole_confirmed"]
    )
    with conn.transaction():
        for firing in changes.to_open:
            if io.open_alert(conn, council, firing, names) is not None:
                result.opened.append(firing)
        for alert in changes.to_resolve:
            sentence = resolution(alert.kind, alert.subject, potholes.get(alert.subject))
            if io.resolve_alert(conn, alert.alert_id, sentence, now):
                result.resolved.append(alert)
    return result


def deliver(conn: psycopg.Connection, council: str, channels: Sequence[Channel]) -> tuple[int, int]:
    """Send every notification the council owes to the channels; return (sent, failed)."""
    by_name = {c.name: c for c in channels}
    down: set[str] = set()
    sent = failed = 0
    for pending in io.pending_deliveries(conn, council, list(by_name)):
        if pending.channel in down:
            continue
        channel = by_name[pending.channel]
        try:
            channel.send(pending)
        except DeliveryError as exc:
            io.mark_failed(conn, pending, datetime.now(UTC), str(exc))
            down.add(pending.channel)
            failed += 1
            log.warning(
                "alert %s (%s) not delivered, will retry next check: %s",
                pending.alert_id,
                pending.status,
                exc,
            )
            continue
        io.mark_sent(conn, pending, datetime.now(UTC))
        sent += 1
        log.info(
            "alert %s %s sent to %s: %s %s",
            pending.alert_id,
            pending.status,
            channel.label,
            pending.kind,
            pending.subject,
        )
    return sent, failed


def check_council(
    conn: psycopg.Connection,
    council: str,
    params: AlertParams,
    channels: Sequence[Channel],
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> CheckResult:
    """Check one council once.

    ``conn`` must be in autocommit mode (each delivery is recorded as soon as it is accepted).
    With ``dry_run`` nothing is written and nothing sent: the result lists what would open
    and resolve.
    """
    now = now or datetime.now(UTC)
    if dry_run:
        changes = changes_now(conn, council, params, now)
        return CheckResult(council, changes.to_open, changes.to_resolve)
    if not io.try_lock_council(conn, council):
        log.info("another alerts check of %s is running; skipped", council)
        return CheckResult(council, skipped=True)
    try:
        result = _record(conn, council, changes_now(conn, council, params, now), channels, now)
        result.sent, result.failed = deliver(conn, council, channels)
    finally:
        io.unlock_council(conn, council)
    return result
