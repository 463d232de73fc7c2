"""The command line: --help everywhere, one-line errors for bad input, real effects."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from deploy.cli import app
from tests.conftest import REPO

runner = CliRunner()


def _paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, asked of click as it asks (subcommands load when named)."""
    found = [prefix]
    if isinstance(command, TyperGroup):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            found += _paths(command.get_command(ctx, name), (*prefix, name))
    return found


COMMANDS = _paths(typer.main.get_command(app))


def test_every_expected_command_exists() -> None:
    """The issue's commands are all present."""
    names = {" ".join(p) for p in COMMANDS}
    assert names >= {
        "demo",
        "ingest",
        "api",
        "simulate",
        "db migrate",
        "db prune",
        "devices import",
        "tokens create",
        "tokens revoke",
        "contract asyncapi",
        "devices credentials",
        "dashboards push",
        "alerts check",
        "potholes roads",
    }


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "smartstreets" for p in COMMANDS])
def test_help_on_every_command(path: tuple[str, ...]) -> None:
    """Every command and group answers --help with a usage line."""
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--duration", "-5"],
        ["api", "--port", "70000"],
        ["tokens", "create", "--council", "x", "--scope", "superuser"],
        ["simulate", "--bins", "-1"],
        ["--log-level", "LOUD", "db", "migrate"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_exit_2_without_traceback(args: list[str]) -> None:
    """A bad argument is a usage error (exit 2), never a traceback."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_missing_database_url_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a database URL, db migrate says which variable to set, in one line."""
    monkeypatch.delenv("SMARTSTREETS_DATABASE_URL", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "deploy", "db", "migrate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: SMARTSTREETS_DATABASE_URL must be set (or use --database-url)."
    ]


def test_unreachable_database_is_one_line() -> None:
    """A database that does not answer is a one-line error and exit 1, not a traceback."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy",
            "db",
            "migrate",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_devices_import_registers_and_updates(
    tmp_path: Path, database_url: str, conn: psycopg.Connection, uid: str
) -> None:
    """Importing a registry CSV creates the council and devices; importing again updates."""
    csv = tmp_path / "devices.csv"
    council = f"imp-{uid}"
    csv.write_text(
        "council,kind,device_id,lat,lon,zone,capacity_litres\n"
        f"{council},bin,b1-{uid},52.6,-0.7,,240\n"
        f"{council},counter,c1-{uid},52.61,-0.71,market,\n"
    )
    result = runner.invoke(app, ["devices", "import", str(csv), "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "imported 2 device(s)" in result.output
    csv.write_text(csv.read_text().replace(",240", ",1100"))
    assert (
        runner.invoke(
            app, ["devices", "import", str(csv), "--database-url", database_url]
        ).exit_code
        == 0
    )
    rows = conn.execute(
        "SELECT device_id, kind, capacity_litres, zone FROM device "
        "WHERE council = %s ORDER BY device_id",
        (council,),
    ).fetchall()
    assert rows == [(f"b1-{uid}", "bin", 1100, None), (f"c1-{uid}", "counter", None, "market")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("council,kind,device_id\nx,bin,b\n", "missing column(s) lat, lon, zone"),
        (
            "council,kind,device_id,lat,lon,zone,capacity_litres\nBad!,bin,b1,52,0,,240\n",
            ":2: invalid value: council",
        ),
        (
            "council,kind,device_id,lat,lon,zone,capacity_litres\nok,bin,b1,52,0,,\n",
            "a bin needs capacity_litres",
        ),
        ("council,kind,device_id,lat,lon,zone,capacity_litres\nok,lamp,b1,52,0,,\n", "kind"),
        (
            "council,kind,device_id,lat,lon,zone,capacity_litres\nok,bin,b1,95,0,,240\n",
            "out of range: lat",
        ),
        (
            "council,kind,device_id,lat,lon,zone,capacity_litres\nok,bin,b1,52,0,,240\n"
            "ok,bin,b1,52,0,,240\n",
            "already listed on line 2",
        ),
    ],
)
def test_bad_registry_files_import_nothing(
    tmp_path: Path, database_url: str, conn: psycopg.Connection, uid: str, body: str, message: str
) -> None:
    """A bad registry file is refused whole, with the line and the problem."""
    csv = tmp_path / "bad.csv"
    csv.write_text(body.replace("ok,", f"ok-{uid},"))
    before = conn.execute("SELECT count(*) FROM device").fetchone()
    result = runner.invoke(app, ["devices", "import", str(csv), "--database-url", database_url])
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert conn.execute("SELECT count(*) FROM device").fetchone() == before


def test_device_cannot_move_between_councils(tmp_path: Path, database_url: str, uid: str) -> None:
    """Re-registering a device under another council is refused."""
    csv = tmp_path / "d.csv"
    head = "council,kind,device_id,lat,lon,zone,capacity_litres\n"
    csv.write_text(head + f"a-{uid},bin,mv-{uid},52,0,,240\n")
    assert (
        runner.invoke(
            app, ["devices", "import", str(csv), "--database-url", database_url]
        ).exit_code
        == 0
    )
    csv.write_text(head + f"b-{uid},bin,mv-{uid},52,0,,240\n")
    result = runner.invoke(app, ["devices", "import", str(csv), "--database-url", database_url])
    assert result.exit_code == 1 and f"registered to a-{uid}" in result.output


def test_retention_can_be_shown_and_changed(database_url: str) -> None:
    """db retention lists each stream's period and changes one when asked."""
    base = ["db", "retention", "--database-url", database_url]
    result = runner.invoke(app, base)
    assert result.exit_code == 0 and "bump_report: 90 days" in result.output
    try:
        result = runner.invoke(app, [*base, "--stream", "bump", "--days", "30"])
        assert result.exit_code == 0 and "bump_report: 30 days" in result.output
    finally:
        runner.invoke(app, [*base, "--stream", "bump", "--days", "90"])
    assert runner.invoke(app, [*base, "--stream", "bump"]).exit_code == 2


def test_tokens_create_prints_a_token_stored_hashed(
    database_url: str, conn: psycopg.Connection, council: str
) -> None:
    """tokens create prints the token once; the database holds only its hash."""
    result = runner.invoke(
        app,
        [
            "tokens",
            "create",
            "--council",
            council,
            "--scope",
            "crew",
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("sst_")
    token_id, secret = token.split("_", 2)[1:]
    stored = conn.execute(
        "SELECT secret_sha256 FROM api_token WHERE token_id = %s", (token_id,)
    ).fetchone()
    assert stored is not None and secret.encode() not in bytes(stored[0])


def test_tokens_for_unknown_council_fail(database_url: str, uid: str) -> None:
    """A token for a council that does not exist is refused with a one-line error."""
    result = runner.invoke(
        app,
        [
            "tokens",
            "create",
            "--council",
            f"none-{uid}",
            "--scope",
            "crew",
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 1 and f"unknown council 'none-{uid}'" in result.output


def test_asyncapi_check_detects_drift(tmp_path: Path) -> None:
    """--check passes on the committed document and fails on an edited one."""
    committed = REPO / "docs" / "asyncapi.yaml"
    assert (
        runner.invoke(app, ["contract", "asyncapi", "--check", "--out", str(committed)]).exit_code
        == 0
    )
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text(committed.read_text().replace("fill_pct", "fill_percent"))
    result = runner.invoke(app, ["contract", "asyncapi", "--check", "--out", str(stale)])
    assert result.exit_code == 1 and "out of date" in result.output


def test_log_format_reaches_processes_started_later(database_url: str) -> None:
    """SMARTSTREETS_LOG_FORMAT, which the root options export to the processes a command
    starts (ingest workers, the demo's services), makes their logs JSON lines."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy",
            "alerts",
            "check",
            "--dry-run",
            "--database-url",
            database_url,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SMARTSTREETS_LOG_FORMAT": "json"},
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(json.loads(line)["level"] for line in lines)
