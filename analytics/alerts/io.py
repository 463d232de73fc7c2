"""The alerts package's database access: facts for the rules in, alerts and deliveries out.

Every query is here, named; the rules and the diff are pure.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from analytics.alerts.rules import BinLatest, DeviceHeard, Firing, PotholeFacts
from analytics.alerts.state import OpenAlert
from analytics.places import describe_points, device_streets

# Any constant will do (it reads "ALRT"); the council's hash is the lock's second half.
_LOCK_KEY = 0x414C_5254


def try_lock_council(conn: psycopg.Connection, council: str) -> bool:
    """Take the session's lock on checking ``council``; False when another check holds it."""
    row = conn.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_LOCK_KEY, council)
    ).fetchone()
    return bool(row and row[0])


def unlock_council(conn: psycopg.Connection, council: str) -> None:
    """Release the lock taken by :func:`try_lock_council`."""
    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_KEY, council))


def latest_bin_readings(conn: psycopg.Connection, council: str) -> list[BinLatest]:
    """Every registered bin's latest reading, and its latest reading that had a battery voltage
    (within a week of the latest: older ones say nothing about the battery now)."""
    rows = conn.execute(
        """
        SELECT d.device_id, f.ts, f.fill_pct, f.flags, b.battery_v, b.ts
        FROM device d
        LEFT JOIN LATERAL (
            SELECT ts, fill_pct, flags FROM bin_fill
            WHERE device_id = d.device_id AND council = d.council
            ORDER BY ts DESC LIMIT 1
        ) f ON true
        LEFT JOIN LATERAL (
            SELECT ts, battery_v FROM bin_fill
            WHERE device_id = d.device_id AND council = d.council AND battery_v IS NOT NULL
              AND ts > f.ts - INTERVAL '7 days'
            ORDER BY ts DESC LIMIT 1
        ) b ON true
        WHERE d.council = %s AND d.kind = 'bin'
        ORDER BY d.device_id
        """,
        (council,),
    ).fetchall()
    streets = device_streets(conn, council, "bin")
    return [
        BinLatest(
            device_id=r[0],
            ts=r[1],
            fill_pct=None if r[2] is None else float(r[2]),
            flags=tuple(r[3] or ()),
            battery_v=None if r[4] is None else float(r[4]),
            battery_ts=r[5],
            street=streets.get(r[0]),
        )
        for r in rows
    ]


def last_heard(conn: psycopg.Connection, council: str) -> list[DeviceHeard]:
    """Every registered device with the time of its latest reading (a counter's period end)."""
    rows = conn.execute(
        """
        SELECT d.device_id, d.kind, d.registered_at, coalesce(f.ts, c.period_end)
        FROM device d
        LEFT JOIN LATERAL (
            SELECT ts FROM bin_fill
            WHERE d.kind = 'bin' AND device_id = d.device_id AND council = d.council
            ORDER BY ts DESC LIMIT 1
        ) f ON true
        LEFT JOIN LATERAL (
            SELECT period_end FROM footfall_count
            WHERE d.kind = 'counter' AND device_id = d.device_id AND council = d.council
            ORDER BY period_start DESC LIMIT 1
        ) c ON true
        WHERE d.council = %s
        ORDER BY d.device_id
        """,
        (council,),
    ).fetchall()
    streets = device_streets(conn, council)
    return [DeviceHeard(r[0], r[1], r[2], r[3], streets.get(r[0])) for r in rows]


def open_potholes(conn: psycopg.Connection, council: str) -> list[PotholeFacts]:
    """The council's potholes that are confirmed, reported or reopened."""
    rows = conn.execute(
        "SELECT pothole_id, state, lat, lon, severity, confidence, devices, state_changed_at "
        "FROM pothole WHERE council = %s AND state IN ('confirmed', 'reported', 'reopened') "
        "ORDER BY pothole_id",
        (council,),
    ).fetchall()
    streets = describe_points(conn, council, ((r[2], r[3]) for r in rows))
    return [
        PotholeFacts(int(r[0]), r[1], r[2], r[3], float(r[4]), float(r[5]), int(r[6]), r[7], s)
        for r, s in zip(rows, streets, strict=True)
    ]


def pothole_states(conn: psycopg.Connection, council: str, ids: Sequence[str]) -> dict[str, str]:
    """The current state of the given potholes (ids as text, as alert subjects are)."""
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT pothole_id::text, state FROM pothole WHERE council = %s "
        "AND pothole_id::text = ANY(%s)",
        (council, list(ids)),
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def open_alerts(conn: psycopg.Connection, council: str) -> list[OpenAlert]:
    """The council's alerts not yet resolved."""
    rows = conn.execute(
        "SELECT alert_id, kind, subject FROM alert WHERE council = %s AND resolved_at IS NULL "
        "ORDER BY alert_id",
        (council,),
    ).fetchall()
    return [OpenAlert(int(r[0]), r[1], r[2]) for r in rows]


def open_alert(
    conn: psycopg.Connection, council: str, firing: Firing, channels: Sequence[str]
) -> int | None:
    """Open an alert and owe its firing notification to every channel; None if it was open."""
    row = conn.execute(
        "INSERT INTO alert (council, kind, subject, message, details, since) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (council, kind, subject) WHERE resolved_at IS NULL DO NOTHING "
        "RETURNING alert_id",
        (
            council,
            firing.kind,
            firing.subject,
            firing.message,
            Jsonb(dict(firing.details)),
            firing.since,
        ),
    ).fetchone()
    if row is None:
        return None
    conn.cursor().executemany(
        "INSERT INTO alert_delivery (alert_id, status, channel) VALUES (%s, 'firing', %s)",
        [(row[0], c) for c in channels],
    )
    return int(row[0])


def resolve_alert(conn: psycopg.Connection, alert_id: int, resolution: str, at: datetime) -> bool:
    """Resolve an open alert and owe its resolved notification to every channel that was owed
    the firing one (sent or not: a channel hears both, in order, or neither)."""
    row = conn.execute(
        "UPDATE alert SET resolved_at = %s, resolution = %s "
        "WHERE alert_id = %s AND resolved_at IS NULL RETURNING alert_id",
        (at, resolution, alert_id),
    ).fetchone()
    if row is None:
        return False
    conn.execute(
        "INSERT INTO alert_delivery (alert_id, status, channel) "
        "SELECT alert_id, 'resolved', channel FROM alert_delivery "
        "WHERE alert_id = %s AND status = 'firing'",
        (alert_id,),
    )
    return True


@dataclass(frozen=True)
class Pending:
    """A notification owed to a channel, with what it says."""

    alert_id: int
    status: str
    channel: str
    council: str
    kind: str
    subject: str
    message: str
    details: dict[str, Any]
    since: datetime
    opened_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    attempts: int


def pending_deliveries(
    conn: psycopg.Connection, council: str, channels: Sequence[str]
) -> list[Pending]:
    """Notifications not yet accepted by the given channels, oldest alert first, each alert's
    firing before its resolved."""
    rows = conn.execute(
        """
        SELECT a.alert_id, d.status, d.channel, a.council, a.kind, a.subject, a.message,
               a.details, a.since, a.opened_at, a.resolved_at, a.resolution, d.attempts
        FROM alert_delivery d JOIN alert a USING (alert_id)
        WHERE a.council = %s AND d.sent_at IS NULL AND d.channel = ANY(%s)
        ORDER BY a.alert_id, d.status, d.channel
        """,
        (council, list(channels)),
    ).fetchall()
    return [Pending(*r) for r in rows]


def mark_sent(conn: psycopg.Connection, p: Pending, at: datetime) -> None:
    """Record that the channel accepted the notification."""
    conn.execute(
        "UPDATE alert_delivery SET sent_at = %s, attempts = attempts + 1, last_attempt_at = %s, "
        "last_error = NULL WHERE alert_id = %s AND status = %s AND channel = %s",
        (at, at, p.alert_id, p.status, p.channel),
    )


def mark_failed(conn: psycopg.Connection, p: Pending, at: datetime, error: str) -> None:
    """Record a failed attempt; the notification stays owed."""
    conn.execute(
        "UPDATE alert_delivery SET attempts = attempts + 1, last_attempt_at = %s, "
        "last_error = %s WHERE alert_id = %s AND status = %s AND channel = %s",
        (at, error[:500], p.alert_id, p.status, p.channel),
    )
