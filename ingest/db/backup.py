"""Backup and restore of a smartstreets database with ``pg_dump -Fc`` and ``pg_restore``.

On TimescaleDB the restore follows the extension's documented procedure: create the extension
at the dumped version in the empty target, ``SELECT timescaledb_pre_restore()``, pg_restore,
``SELECT timescaledb_post_restore()``. Compressed chunks, continuous aggregates and the policy
jobs travel in the dump as they are (nothing is decompressed). pg_dump dumps no roles, so the
restore creates the roles the schema grants to (migration 0011) before loading the dump.
"""

import logging
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest.db.connect import connect, server_version, timescaledb_version
from ingest.db.roles import TENANT_ROLE
from ingest.errors import PermanentError, first_line

log = logging.getLogger(__name__)

# The roles the schema grants to (migration 0011; api/tenancy.py sets it per request).
SCHEMA_ROLES = (TENANT_ROLE,)
# Where Debian and Ubuntu keep each major version's client tools.
PG_BIN_ROOT = Path("/usr/lib/postgresql")
_ARCHIVE_MAGIC = b"PGDMP"
_PROGRESS_EVERY = 5.0


class BackupError(PermanentError):
    """A backup or restore that cannot be done (missing tool, bad file, target not empty)."""


@dataclass(frozen=True)
class Outcome:
    """What a backup or restore did: the file, its size, the time taken, the storage path."""

    path: Path
    size_bytes: int
    seconds: float
    timescaledb: str | None


def pg_tool(name: str, major: str) -> str:
    """The ``pg_dump``/``pg_restore`` of the server's major version if installed, else the one
    on PATH (an older pg_dump refuses a newer server)."""
    versioned = PG_BIN_ROOT / major / "bin" / name
    if os.access(versioned, os.X_OK):
        return str(versioned)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"no {name} binary (looked in {versioned.parent} and on PATH); install the "
            f"PostgreSQL {major} client tools"
        )
    return found


def _libpq_args(url: str) -> tuple[str, dict[str, str]]:
    """The URL as a conninfo without its password, and an environment carrying the password,
    so it never shows in the process list."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise BackupError(f"bad database URL: {first_line(exc)}") from None
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


def _run(command: list[str], env: dict[str, str], watch: Path | None = None) -> str:
    """Run a client tool; log the size of ``watch`` every few seconds while it grows; return
    its stderr (warnings), or raise with its first error line."""
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        stderr: list[str] = []
        reader = threading.Thread(target=lambda: stderr.extend(proc.stderr or ()), daemon=True)
        reader.start()
        started = time.monotonic()
        while proc.poll() is None:
            try:
                proc.wait(_PROGRESS_EVERY)
            except subprocess.TimeoutExpired:
                size = watch.stat().st_size if watch is not None and watch.exists() else 0
                log.info(
                    "%s running for %.0f s%s",
                    Path(command[0]).name,
                    time.monotonic() - started,
                    f", {size / 1e6:.1f} MB written" if watch is not None else "",
                )
        reader.join()
    text = "".join(stderr).strip()
    if proc.returncode != 0:
        # The first "error:" line says what went wrong; the lines around it say where.
        errors = [line for line in text.splitlines() if "error:" in line]
        raise BackupError((errors or text.splitlines()[-1:] or ["no output"])[0].strip())
    return text


def backup(url: str, path: Path, *, overwrite: bool = False) -> Outcome:
    """Dump the database at ``url`` to ``path`` (``pg_dump -Fc``): written to a partial file
    and renamed at the end, so a failed dump never leaves a truncated backup under the name."""
    if path.exists() and not overwrite:
        raise BackupError(f"{path} exists (give --overwrite to replace it)")
    if not path.parent.is_dir():
        raise BackupError(f"no directory {path.parent}")
    with connect(url, autocommit=True) as conn:
        major = server_version(conn).split(".")[0]
        tsdb = timescaledb_version(conn)
    conninfo, env = _libpq_args(url)
    partial = path.with_name(path.name + ".partial")
    log.info(
        "backup of database %s (PostgreSQL %s%s) to %s starting",
        conninfo_to_dict(url).get("dbname", "?"),
        major,
        f", TimescaleDB {tsdb}" if tsdb else "",
        path,
    )
    started = time.monotonic()
    try:
        warnings = _run(
            [pg_tool("pg_dump", major), "-Fc", "--file", str(partial), "--dbname", conninfo],
            env,
            watch=partial,
        )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    for line in warnings.splitlines():
        # TimescaleDB's catalog has circular foreign keys; pg_dump warns, harmlessly.
        log.debug("pg_dump: %s", line)
    outcome = Outcome(path, path.stat().st_size, time.monotonic() - started, tsdb)
    log.info(
        "backup written: %s, %.1f MB in %.1f s", path, outcome.size_bytes / 1e6, outcome.seconds
    )
    return outcome


@dataclass(frozen=True)
class ArchiveInfo:
    """What a dump says about where it came from."""

    server_major: str
    timescaledb: bool


def read_archive(pg_restore: str, path: Path) -> ArchiveInfo:
    """Check ``path`` is a pg_dump custom-format archive and read its table of contents."""
    try:
        with path.open("rb") as f:
            magic = f.read(len(_ARCHIVE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if magic != _ARCHIVE_MAGIC:
        raise BackupError(f"{path} is not a pg_dump custom-format archive (pg_dump -Fc)")
    result = subprocess.run(
        [pg_restore, "--list", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{path}: {(result.stderr.strip().splitlines() or ['unreadable'])[0]}")
    toc = result.stdout
    dumped = re.search(r"Dumped from database version: (\d+)", toc)
    return ArchiveInfo(
        server_major=dumped[1] if dumped else "?",
        timescaledb=re.search(r"\bEXTENSION - timescaledb\b", toc) is not None,
    )


def _dumped_timescaledb_version(pg_restore: str, path: Path) -> str | None:
    """The TimescaleDB version recorded in the dump's copy of the extension's metadata."""
    result = subprocess.run(
        [
            pg_restore,
            "--data-only",
            "--schema",
            "_timescaledb_catalog",
            "--table",
            "metadata",
            "--file",
            "-",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"^timescaledb_version\t([^\t\n]+)", result.stdout, re.MULTILINE)
    return found[1] if found else None


def ensure_roles(conn: psycopg.Connection) -> list[str]:
    """Create the schema's roles where missing and make the current user a member (as
    migration 0011 does); return those created. Roles belong to the server, not the dump."""
    created = []
    for role in SCHEMA_ROLES:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        try:
            if exists is None:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
                created.append(role)
            member = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,))
            if not (row := member.fetchone()) or not row[0]:
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege:
            raise BackupError(
                f"role {role} is missing or not granted to this user; as a superuser run: "
                f"CREATE ROLE {role} NOLOGIN; GRANT {role} TO <restoring user>"
            ) from None
    return created


def _refuse_unless_empty(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm') AND (n.nspname = 'public' "
        "OR n.nspname = current_schema() OR n.nspname = %s)",
        (TENANT_ROLE,),
    ).fetchone()
    if row is not None and row[0] > 0:
        raise BackupError(
            f"database {conn.info.dbname} is not empty ({row[0]} tables or views); restore "
            "into a new database (createdb NAME)"
        )


def restore(url: str, path: Path) -> Outcome:
    """Restore the dump at ``path`` into the empty database at ``url``.

    One transaction (``pg_restore --single-transaction --exit-on-error``): a failed restore
    leaves the target as empty as it was. Objects are owned by the restoring user
    (``--no-owner``), who should be the user that migrates and runs the services.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    with connect(url, autocommit=True) as conn:
        major = server_version(conn).split(".")[0]
        pg_restore = pg_tool("pg_restore", major)
        archive = read_archive(pg_restore, path)
        _refuse_unless_empty(conn)
        if archive.server_major not in (major, "?"):
            log.warning(
                "the dump comes from PostgreSQL %s, this server is %s",
                archive.server_major,
                major,
            )
        created = ensure_roles(conn)
        if created:
            log.info("created role(s) %s (roles are not in a dump)", ", ".join(created))
        # Last: from here on the database is in restoring mode until post-restore.
        tsdb = _prepare_timescaledb(conn, pg_restore, path) if archive.timescaledb else None
    conninfo, env = _libpq_args(url)
    log.info(
        "restore of %s (%.1f MB) into database %s starting%s",
        path,
        size / 1e6,
        conninfo_to_dict(url).get("dbname", "?"),
        f" (TimescaleDB {tsdb}, in restoring mode)" if tsdb else "",
    )
    started = time.monotonic()
    try:
        warnings = _run(
            [
                pg_restore,
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                conninfo,
                str(path),
            ],
            env,
        )
    finally:
        if tsdb:
            with connect(url, autocommit=True) as conn:
                conn.execute("SELECT timescaledb_post_restore()")
    for line in warnings.splitlines():
        log.debug("pg_restore: %s", line)
    with connect(url, autocommit=True) as conn:
        # A restore brings no planner statistics.
        conn.execute("ANALYZE")
    outcome = Outcome(path, size, time.monotonic() - started, tsdb)
    log.info("restore done in %.1f s", outcome.seconds)
    return outcome


def _prepare_timescaledb(conn: psycopg.Connection, pg_restore: str, path: Path) -> str:
    """Create the extension at the dumped version and enter restoring mode."""
    dumped = _dumped_timescaledb_version(pg_restore, path)
    available = conn.execute(
        "SELECT 1 FROM pg_available_extension_versions WHERE name = 'timescaledb' "
        "AND (%s::text IS NULL OR version = %s)",
        (dumped, dumped),
    ).fetchone()
    if available is None:
        raise BackupError(
            f"the dump needs TimescaleDB {dumped or '(any version)'}, which this server does "
            "not have; restore on a server with the same TimescaleDB version, then upgrade"
        )
    installed = timescaledb_version(conn)
    preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    if installed is None and (preload is None or "timescaledb" not in str(preload[0])):
        raise BackupError(
            "the dump is of a TimescaleDB database but this server does not load timescaledb "
            "(shared_preload_libraries); restore on a TimescaleDB server"
        )
    if installed is None:
        if dumped:
            conn.execute(
                sql.SQL("CREATE EXTENSION timescaledb VERSION {}").format(sql.Literal(dumped))
            )
        else:
            conn.execute("CREATE EXTENSION timescaledb")
        installed = timescaledb_version(conn)
    if dumped and installed != dumped:
        raise BackupError(
            f"the target has TimescaleDB {installed} but the dump is of {dumped}; "
            "versions must match"
        )
    conn.execute("SELECT timescaledb_pre_restore()")
    return str(installed)
