"""``smartstreets devices credentials``: broker logins and ACLs for every registered device."""

import os
import re
from pathlib import Path

import psycopg
import typer

from ingest.contract.topics import PREFIX_PATTERN
from ingest.credentials import (
    assign_passwords,
    broker_users,
    parse_passwords_csv,
    render_acl,
    render_password_file,
    render_passwords_csv,
)
from ingest.db.connect import connect
from ingest.db.registry import load_devices
from ingest.errors import IngestError, first_line
from ingest.kernel.cli import DatabaseUrlOption, database_url_or_fail, fail, service_settings


def _write(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` atomically, created with ``mode`` so a secret is never briefly readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def devices_credentials(
    out: Path = typer.Option(
        Path("deploy/secrets/mosquitto"),
        help="Directory for Mosquitto's password file ('passwd') and ACL file ('acl').",
    ),
    passwords: Path | None = typer.Option(
        None,
        help="Provisioning CSV (username,password,role,topic), mode 0600; existing passwords in "
        "it are kept so reruns are stable (default: OUT/passwords.csv).",
    ),
    prefix: str | None = typer.Option(
        None, help="Topic prefix (default: $SMARTSTREETS_MQTT_PREFIX or smartstreets)."
    ),
    service_user: list[str] = typer.Option(
        ["ingest", "api"], help="Service logins that read every reading topic (repeatable)."
    ),
    gateway_user: str = typer.Option(
        "app-gateway", help="Login of the app gateway relaying phones' bump reports ('' for none)."
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Write Mosquitto's password and ACL files for every registered device and service."""
    url = database_url_or_fail(database_url)
    topic_prefix = prefix if prefix is not None else service_settings().mqtt_prefix
    if not re.fullmatch(PREFIX_PATTERN, topic_prefix):
        fail(f"--prefix {topic_prefix!r} does not match {PREFIX_PATTERN}", 2)
    csv_path = passwords if passwords is not None else out / "passwords.csv"
    try:
        known = (
            parse_passwords_csv(csv_path.read_text(encoding="utf-8"), str(csv_path))
            if csv_path.exists()
            else {}
        )
        with connect(url) as conn:
            devices = list(load_devices(conn).values())
        users = broker_users(topic_prefix, devices, service_user, gateway_user or None)
        chosen, fresh = assign_passwords(users, known)
        _write(csv_path, render_passwords_csv(users, chosen), 0o600)
        _write(out / "passwd", render_password_file(users, chosen), 0o600)
        _write(out / "acl", render_acl(topic_prefix, users), 0o644)
    except psycopg.errors.UndefinedTable:
        fail("the database has no device registry yet; run 'smartstreets db migrate' first")
    except (IngestError, psycopg.Error) as exc:
        fail(first_line(exc))
    except UnicodeDecodeError:
        fail(f"{csv_path} is not UTF-8 text")
    except OSError as exc:
        fail(f"cannot use {exc.filename}: {exc.strerror}")
    print(
        f"wrote {len(users)} broker user(s) ({len(devices)} device(s)) to {out / 'passwd'} and "
        f"{out / 'acl'}; {fresh} new and {len(users) - fresh} kept password(s) in {csv_path}"
    )
