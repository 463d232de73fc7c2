"""Connections and pools, and what the server can do."""

import logging
from datetime import datetime

import psycopg
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

APPLICATION_NAME = "smartstreets"


def connect(url: str, *, autocommit: bool = False, timeout: float = 10) -> psycopg.Connection:
    """Open one connection; raises ``psycopg.OperationalError`` when the server is unreachable."""
    return psycopg.connect(
        url,
        autocommit=autocommit,
        connect_timeout=max(1, int(timeout)),
        application_name=APPLICATION_NAME,
    )


def open_pool(
    url: str, *, min_size: int = 1, max_size: int = 8, name: str = "pool"
) -> ConnectionPool:
    """Open a connection pool that checks connections before handing them out.

    The pool is opened without waiting, so a process can start while the database is still
    coming up; requests fail (and are retried by the caller) until it answers.
    """
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        check=ConnectionPool.check_connection,
        kwargs={"application_name": APPLICATION_NAME, "connect_timeout": 5},
        reconnect_timeout=0,
    )
    pool.open(wait=False)
    return pool


def timescaledb_version(conn: psycopg.Connection) -> str | None:
    """The installed TimescaleDB version in this database, or ``None`` on plain PostgreSQL."""
    row = conn.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    ).fetchone()
    return None if row is None else str(row[0])


def server_version(conn: psycopg.Connection) -> str:
    """The server's version string, e.g. ``16.4``."""
    row = conn.execute("SHOW server_version").fetchone()
    assert row is not None
    return str(row[0]).split(" ")[0]


def refresh_rollups(conn: psycopg.Connection, start: datetime, end: datetime) -> None:
    """Bring the hourly rollups up to date for ``[start, end)`` after a backfill.

    Needed on TimescaleDB for data older than the refresh policies' window; a no-op on plain
    PostgreSQL. Commits any open transaction first (the refresh cannot run inside one).
    """
    was_autocommit = conn.autocommit
    if not was_autocommit:
        conn.commit()
        conn.autocommit = True
    try:
        conn.execute("CALL refresh_rollups(%s, %s)", (start, end))
    finally:
        conn.autocommit = was_autocommit
