"""Alerts against a real database, delivered to a real local HTTP server and SMTP server (the
outside world, the only thing stood in for): each fires once, resolves once, and a failed
delivery is retried on the next check."""

import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from analytics.alerts.check import CheckResult, check_council
from analytics.alerts.notify import Channel, Email, Webhook, channels
from analytics.alerts.rules import AlertParams
from analytics.alerts.settings import AlertSettings
from deploy.cli import app
from ingest.db.registry import DeviceCreate, import_devices

PARAMS = AlertParams()


class Hook:
    """A local webhook receiver: records every JSON body, answers with ``status``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.attempts += 1
                if hook.status < 300:
                    hook.bodies.append(json.loads(body))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def channel(self, attempts: int = 2) -> Webhook:
        return Webhook(self.url, timeout_s=5, attempts=attempts, backoff_s=0.01)

    def take(self) -> list[tuple[str, str, str]]:
        """(status, kind, subject) of the bodies received since the last take."""
        got = [(b["status"], b["kind"], b["subject"]) for b in self.bodies]
        self.bodies.clear()
        return got


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A webhook receiver on a free local port (listening before the fixture returns)."""
    h = Hook()
    h.thread.start()
    yield h
    h.server.shutdown()
    h.server.server_close()


def _bin(conn: psycopg.Connection, council: str, device_id: str) -> str:
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council,
                kind="bin",
                device_id=device_id,
                lat=52.6,
                lon=-0.7,
                capacity_litres=240,
            )
        ],
    )
    return device_id


def _reading(
    conn: psycopg.Connection,
    council: str,
    device_id: str,
    ago: timedelta,
    fill: float = 40,
    flags: tuple[str, ...] = (),
    battery_v: float | None = 3.9,
) -> None:
    conn.execute(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct, flags, battery_v) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (council, device_id, datetime.now(UTC) - ago, fill, list(flags), battery_v),
    )


def _check(
    conn: psycopg.Connection,
    council: str,
    targets: list[Channel],
    params: AlertParams = PARAMS,
) -> CheckResult:
    return check_council(conn, council, params, targets)


def test_fire_fires_once_and_resolves_once(
    conn: psycopg.Connection, council: str, uid: str, hook: Hook
) -> None:
    """A fire flag sends one firing webhook, a second check none, a clear reading one resolved."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=20))
    _reading(conn, council, bin_id, timedelta(minutes=10), flags=("fire",))
    result = _check(conn, council, [hook.channel()])
    assert (len(result.opened), result.sent, result.failed) == (1, 1, 0)
    body = hook.bodies[0]
    assert body["message"] == f"bin {bin_id} reports a fire"
    assert body["council"] == council and body["since"] and body["resolved_at"] is None
    assert hook.take() == [("firing", "bin_fire", bin_id)]

    assert _check(conn, council, [hook.channel()]).sent == 0
    assert hook.take() == []

    _reading(conn, council, bin_id, timedelta(minutes=1))
    result = _check(conn, council, [hook.channel()])
    assert (len(result.resolved), result.sent) == (1, 1)
    assert hook.bodies[0]["message"] == f"bin {bin_id} no longer reports a fire"
    assert hook.bodies[0]["resolved_at"] is not None
    assert hook.take() == [("resolved", "bin_fire", bin_id)]
    assert _check(conn, council, [hook.channel()]).sent == 0 and hook.take() == []


def test_failed_delivery_is_retried_next_check(
    conn: psycopg.Connection, council: str, uid: str, hook: Hook
) -> None:
    """A webhook answering 500 is retried within the check, left owed, and sent by the next one;
    a healthy second webhook gets its copy meanwhile."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=5), flags=("tilted",))
    healthy = Hook()
    healthy.thread.start()
    try:
        hook.status = 500
        result = _check(conn, council, [hook.channel(attempts=2), healthy.channel()])
        assert (result.sent, result.failed) == (1, 1)
        assert hook.attempts == 2 and hook.take() == []
        assert healthy.take() == [("firing", "bin_tilted", bin_id)]
        row = conn.execute(
            "SELECT d.attempts, d.last_error, d.sent_at FROM alert_delivery d "
            "JOIN alert a USING (alert_id) WHERE a.council = %s AND d.channel = %s",
            (council, hook.channel().name),
        ).fetchone()
        assert row == (1, "webhook http://127.0.0.1/***: HTTP 500", None)

        hook.status = 200
        result = _check(conn, council, [hook.channel(), healthy.channel()])
        assert (result.opened, result.sent, result.failed) == ([], 1, 0)
        assert hook.take() == [("firing", "bin_tilted", bin_id)]
        assert healthy.take() == []
    finally:
        healthy.server.shutdown()
        healthy.server.server_close()


def test_resolved_waits_for_its_firing(
    conn: psycopg.Connection, council: str, uid: str, hook: Hook
) -> None:
    """A condition that clears while its webhook is down is told in order: firing, resolved."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=5), flags=("fire",))
    hook.status = 503
    _check(conn, council, [hook.channel(attempts=1)])
    _reading(conn, council, bin_id, timedelta(minutes=1))
    result = _check(conn, council, [hook.channel(attempts=1)])
    assert (len(result.resolved), result.sent, result.failed) == (1, 0, 1)
    assert hook.attempts == 2  # the resolved one was not tried before its firing went
    hook.status = 200
    assert _check(conn, council, [hook.channel()]).sent == 2
    assert hook.take() == [("firing", "bin_fire", bin_id), ("resolved", "bin_fire", bin_id)]


@pytest.mark.parametrize(
    ("fill", "flags", "battery_v", "kind"),
    [
        (99.0, (), 3.9, "bin_overflowing"),
        (40.0, ("tilted",), 3.9, "bin_tilted"),
        (40.0, (), 3.1, "battery_low"),
    ],
)
def test_bin_conditions_fire(
    conn: psycopg.Connection,
    council: str,
    uid: str,
    hook: Hook,
    fill: float,
    flags: tuple[str, ...],
    battery_v: float,
    kind: str,
) -> None:
    """Overflowing (98% up), tipped over and a battery below 3.3 V each raise their alert."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=5), fill, flags, battery_v)
    _check(conn, council, [hook.channel()])
    assert hook.take() == [("firing", kind, bin_id)]


def test_battery_comes_from_the_latest_reading_that_had_one(
    conn: psycopg.Connection, council: str, uid: str, hook: Hook
) -> None:
    """A reading without a voltage neither raises nor clears a low battery."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=10), battery_v=3.0)
    _reading(conn, council, bin_id, timedelta(minutes=5), battery_v=None)
    _check(conn, council, [hook.channel()])
    assert hook.take() == [("firing", "battery_low", bin_id)]
    _reading(conn, council, bin_id, timedelta(minutes=1), battery_v=3.6)
    _check(conn, council, [hook.channel()])
    assert hook.take() == [("resolved", "battery_low", bin_id)]


def test_silent_devices(conn: psycopg.Connection, council: str, uid: str, hook: Hook) -> None:
    """A device unheard for longer than the threshold (or never heard since registration) is
    silent; a new reading resolves it."""
    quiet, never = _bin(conn, council, f"quiet-{uid}"), f"ctr-{uid}"
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="counter", device_id=never, lat=52.6, lon=-0.7, zone="z"
            )
        ],
    )
    conn.execute(
        "UPDATE device SET registered_at = now() - INTERVAL '3 days' WHERE council = %s",
        (council,),
    )
    _reading(conn, council, quiet, timedelta(hours=7))
    _check(conn, council, [hook.channel()])
    messages = {b["subject"]: b["message"] for b in hook.bodies}
    assert messages[never] == f"counter {never} is silent: never heard from"
    assert messages[quiet].startswith(f"bin {quiet} is silent: last heard ")
    assert sorted(hook.take()) == [
        ("firing", "device_silent", never),
        ("firing", "device_silent", quiet),
    ]
    # A longer threshold resolves both; a reading resolves the bin under the default.
    _check(conn, council, [hook.channel()], AlertParams(silent_after_h=100))
    assert sorted(hook.take()) == [
        ("resolved", "device_silent", never),
        ("resolved", "device_silent", quiet),
    ]
    _check(conn, council, [hook.channel()])
    hook.take()
    _reading(conn, council, quiet, timedelta(minutes=1))
    _check(conn, council, [hook.channel()])
    assert hook.take() == [("resolved", "device_silent", quiet)]


def _pothole(conn: psycopg.Connection, council: str, state: str) -> int:
    now = datetime.now(UTC)
    row = conn.execute(
        "INSERT INTO pothole (council, lat, lon, severity, confidence, reports, devices, "
        "first_seen, last_seen, state, state_changed_at) "
        "VALUES (%s, 52.6, -0.7, 0.8, 0.9, 5, 4, %s, %s, %s, %s) RETURNING pothole_id",
        (council, now - timedelta(days=2), now, state, now),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_confirmed_pothole_fires_until_repaired(
    conn: psycopg.Connection, council: str, hook: Hook
) -> None:
    """A confirmed pothole fires once; reporting it changes nothing; a repair resolves it; a
    candidate fires nothing."""
    _pothole(conn, council, "candidate")
    pid = _pothole(conn, council, "confirmed")
    _check(conn, council, [hook.channel()])
    assert hook.bodies[0]["details"]["devices"] == 4
    assert hook.take() == [("firing", "pothole_confirmed", str(pid))]
    conn.execute("UPDATE pothole SET state = 'reported' WHERE pothole_id = %s", (pid,))
    _check(conn, council, [hook.channel()])
    assert hook.take() == []
    conn.execute("UPDATE pothole SET state = 'repaired' WHERE pothole_id = %s", (pid,))
    _check(conn, council, [hook.channel()])
    assert hook.bodies[0]["message"] == f"pothole {pid} repaired"
    assert hook.take() == [("resolved", "pothole_confirmed", str(pid))]


def test_dry_run_writes_and_sends_nothing(
    conn: psycopg.Connection, council: str, uid: str, hook: Hook
) -> None:
    """A dry run lists what would open, but opens nothing and sends nothing."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=5), flags=("fire",))
    result = check_council(conn, council, PARAMS, [hook.channel()], dry_run=True)
    assert [(f.kind, f.subject) for f in result.opened] == [("bin_fire", bin_id)]
    assert hook.take() == []
    assert conn.execute("SELECT count(*) FROM alert WHERE council = %s", (council,)).fetchone() == (
        0,
    )


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greets, accepts every command, keeps each message."""

    def handle(self) -> None:
        server: Any = self.server
        self.wfile.write(b"220 localhost test SMTP\r\n")
        while line := self.rfile.readline():
            verb = line.strip().split(b" ")[0].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                server.messages.append(b"".join(data))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A local SMTP server, listening before the fixture returns."""
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_email_is_sent_when_smtp_is_configured(
    conn: psycopg.Connection, council: str, uid: str, smtp: Any
) -> None:
    """With SMTP set, each alert is mailed to the recipients, subject first."""
    settings = AlertSettings(
        smtp_host="127.0.0.1", smtp_port=smtp.server_address[1], smtp_to=["crew@example.org"]
    )
    targets = channels(settings)
    assert [type(t) for t in targets] == [Email]
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=5), flags=("fire",))
    assert _check(conn, council, targets).sent == 1
    [raw] = smtp.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "crew@example.org"
    assert mail["Subject"] == f"[smartstreets {council}] FIRING: bin {bin_id} reports a fire"
    assert "kind:     bin_fire" in mail.get_payload()


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook URLs and recipients are comma-separated; secrets are masked in the log line."""
    monkeypatch.setenv("SMARTSTREETS_ALERTS_WEBHOOK_URLS", "https://h.example/t/abc, http://x.test")
    monkeypatch.setenv("SMARTSTREETS_ALERTS_SMTP_TO", "a@example.org,b@example.org")
    monkeypatch.setenv("SMARTSTREETS_ALERTS_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("SMARTSTREETS_ALERTS_SILENT_AFTER_H", "2")
    settings = AlertSettings()
    assert settings.webhook_urls == ["https://h.example/t/abc", "http://x.test"]
    assert settings.smtp_to == ["a@example.org", "b@example.org"]
    assert settings.params().silent_after_h == 2
    shown = json.dumps(settings.masked())
    assert "abc" not in shown and "hunter2" not in shown and "h.example" in shown
    assert not settings.email  # recipients but no server


def test_bad_webhook_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook that is not http(s) is refused, as is an unknown setting."""
    monkeypatch.setenv("SMARTSTREETS_ALERTS_WEBHOOK_URLS", "ftp://h.example/x")
    with pytest.raises(ValueError, match="http"):
        AlertSettings()
    monkeypatch.delenv("SMARTSTREETS_ALERTS_WEBHOOK_URLS")
    with pytest.raises(ValueError, match="Extra inputs"):
        AlertSettings(webhook_url="http://h.example")  # type: ignore[call-arg]


def test_cli_check(
    conn: psycopg.Connection,
    database_url: str,
    council: str,
    uid: str,
    hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'smartstreets alerts check' dry-runs, then opens and sends, one council at a time."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=5), flags=("fire",))
    monkeypatch.setenv("SMARTSTREETS_ALERTS_WEBHOOK_URLS", hook.url)
    args = ["alerts", "check", "--council", council, "--database-url", database_url]
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would open bin_fire {bin_id}" in dry.output and hook.take() == []
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "1 opened, 0 resolved, 1 notification(s) sent, 0 failed" in done.output
    assert hook.take() == [("firing", "bin_fire", bin_id)]
    unknown = CliRunner().invoke(
        app, ["alerts", "check", "--council", f"no-{uid}", "--database-url", database_url]
    )
    assert unknown.exit_code == 1


def test_concurrent_check_of_a_council_is_skipped(
    conn: psycopg.Connection, database_url: str, council: str, uid: str, hook: Hook
) -> None:
    """While one check holds a council, another skips it instead of sending twice."""
    bin_id = _bin(conn, council, f"bin-{uid}")
    _reading(conn, council, bin_id, timedelta(minutes=5), flags=("fire",))
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (0x414C_5254, council))
        assert _check(conn, council, [hook.channel()]).skipped
    assert hook.take() == []
    assert _check(conn, council, [hook.channel()]).sent == 1
