"""Numbered, forward-only SQL migrations.

Files are ``NNNN_name.sql`` (for every server) or ``NNNN_name.timescaledb.sql`` plus
``NNNN_name.postgres.sql`` (one per storage path, same table and view names). The storage path is
chosen once, when the first migration runs: TimescaleDB when the extension can be created, plain
PostgreSQL otherwise. Later runs keep the recorded choice, so a database never mixes the two.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import psycopg

from ingest.db.connect import timescaledb_version
from ingest.errors import MigrationError, first_line

log = logging.getLogger(__name__)

Storage = Literal["timescaledb", "postgres"]
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(timescaledb|postgres))?\.sql$")
# Any constant will do; it only has to be the same in every process that migrates.
_LOCK_KEY = 0x5353_4D49_4752


@dataclass(frozen=True)
class Migration:
    """One numbered migration, with the SQL for each storage path."""

    version: int
    name: str
    sql: dict[str | None, str]

    def for_storage(self, storage: Storage) -> str:
        """The SQL to run on ``storage``."""
        return self.sql.get(None) or self.sql[storage]


def load_migrations() -> list[Migration]:
    """Read the migrations shipped with the package, in version order."""
    found: dict[int, tuple[str, dict[str | None, str]]] = {}
    for entry in resources.files("ingest.db.migrations").iterdir():
        match = _FILE.match(entry.name)
        if match is None:
            continue
        version, name, variant = int(match[1]), match[2], match[3]
        seen_name, variants = found.setdefault(version, (name, {}))
        if seen_name != name:
            raise MigrationError(f"migration {version:04d} has two names: {seen_name}, {name}")
        variants[variant] = entry.read_text(encoding="utf-8")
    migrations = []
    for version in sorted(found):
        name, variants = found[version]
        if None not in variants and set(variants) != {"timescaledb", "postgres"}:
            raise MigrationError(
                f"migration {version:04d}_{name} needs both a .timescaledb.sql and a "
                ".postgres.sql file"
            )
        migrations.append(Migration(version, name, variants))
    return migrations


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def _ensure_ledger(conn: psycopg.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migration (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            storage     text NOT NULL,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def _choose_storage(conn: psycopg.Connection, want_timescaledb: bool) -> Storage:
    row = conn.execute("SELECT storage FROM schema_migration ORDER BY version LIMIT 1").fetchone()
    if row is not None:
        return "timescaledb" if row[0] == "timescaledb" else "postgres"
    if not want_timescaledb:
        return "postgres"
    if timescaledb_version(conn) is not None:
        return "timescaledb"
    available = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    if available is None:
        return "postgres"
    preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    if preload is None or "timescaledb" not in str(preload[0]):
        # Loading it now would end the session with a FATAL error; it needs a server restart.
        log.warning(
            "timescaledb is installed but not in shared_preload_libraries; using plain PostgreSQL"
        )
        return "postgres"
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error as exc:
        # Typically installed but not in shared_preload_libraries: usable only after a restart.
        log.warning(
            "timescaledb is installed but cannot be enabled (%s); using plain PostgreSQL",
            first_line(exc),
        )
        return "postgres"
    return "timescaledb"


def migrate(url: str, *, want_timescaledb: bool = True) -> list[str]:
    """Apply every migration not yet recorded; return the names of those applied.

    Safe to run from several processes at once: an advisory lock serialises them.
    """
    applied: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            _ensure_ledger(conn)
            storage = _choose_storage(conn, want_timescaledb)
            done = {
                int(v): str(c)
                for v, c in conn.execute("SELECT version, checksum FROM schema_migration")
            }
            for migration in load_migrations():
                sql = migration.for_storage(storage)
                label = f"{migration.version:04d}_{migration.name}"
                if migration.version in done:
                    if done[migration.version] != _checksum(sql):
                        log.warning(
                            "migration %s changed after it was applied; it is not "
                            "re-run (migrations are forward-only)",
                            label,
                        )
                    continue
                try:
                    with conn.transaction():
                        conn.execute(sql.encode())
                        conn.execute(
                            "INSERT INTO schema_migration (version, name, storage, checksum) "
                            "VALUES (%s, %s, %s, %s)",
                            (migration.version, migration.name, storage, _checksum(sql)),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {label} failed: {exc}") from exc
                log.info("applied migration %s (%s)", label, storage)
                applied.append(label)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def storage_of(conn: psycopg.Connection) -> Storage | None:
    """The storage path the database was migrated with, or ``None`` before any migration."""
    try:
        row = conn.execute(
            "SELECT storage FROM schema_migration ORDER BY version LIMIT 1"
        ).fetchone()
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        return None
    if row is None:
        return None
    return "timescaledb" if row[0] == "timescaledb" else "postgres"
