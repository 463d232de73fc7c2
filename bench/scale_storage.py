"""Storage of ``bench/scale.py``: sizes of the stream tables, TimescaleDB's compression run by
its own policies' jobs, bytes per device-year and their extrapolation to a national service."""

import time
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from ingest.db.connect import refresh_rollups

STREAMS = (
    # table, the devices it is counted per, the national count of those devices
    ("bin_fill", "bin", 1_000_000),
    ("footfall_count", "counter", 10_000),
    ("bump_report", "phone", 100_000),
    ("trip_coverage", "phone", 100_000),
)
"""Each stream's table, what a device-year of it is, and how many of those a national service
has (10^6 bins, 10^4 counters, 10^5 phones)."""


@dataclass(frozen=True)
class Size:
    """One table's rows and bytes (heap, indexes and TOAST; all chunks on TimescaleDB)."""

    rows: int
    bytes: int


def is_timescale(conn: psycopg.Connection) -> bool:
    """Whether the stream tables are hypertables."""
    row = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    return bool(row and row[0])


def sizes(conn: psycopg.Connection) -> dict[str, Size]:
    """Every stream table's rows and total bytes."""
    out: dict[str, Size] = {}
    timescale = is_timescale(conn)
    for table, _, _ in STREAMS:
        ident = sql.Identifier(table)
        rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()
        if timescale:
            total = conn.execute(
                "SELECT total_bytes FROM hypertable_detailed_size(%s::regclass)", (table,)
            ).fetchone()
        else:
            total = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (table,)).fetchone()
        out[table] = Size(int(rows[0]) if rows else 0, int(total[0] or 0) if total else 0)
    return out


def pause_jobs(conn: psycopg.Connection) -> int:
    """Stop TimescaleDB's policy jobs from running on their own: retention would drop the
    year's old bump reports (kept 90 days) during the load, compression and refreshes would
    run in the middle of it. The bench runs compression and refreshes itself. Returns the jobs
    paused; none on plain PostgreSQL."""
    if not is_timescale(conn):
        return 0
    rows = conn.execute(
        "SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs "
        "WHERE proc_name IN ('policy_retention', 'policy_compression', "
        "'policy_refresh_continuous_aggregate')"
    ).fetchall()
    return len(rows)


def compress(conn: psycopg.Connection) -> tuple[int, float]:
    """Run every compression policy's job now, as the scheduler would; the chunks compressed
    and the seconds it took. ``conn`` must be in autocommit mode (``CALL run_job``)."""
    started = time.perf_counter()
    jobs = conn.execute(
        "SELECT job_id FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_compression' ORDER BY job_id"
    ).fetchall()
    for (job,) in jobs:
        conn.execute("CALL run_job(%s)", (job,))
    done = conn.execute(
        "SELECT count(*) FROM timescaledb_information.chunks WHERE is_compressed"
    ).fetchone()
    return int(done[0]) if done else 0, time.perf_counter() - started


def refresh(conn: psycopg.Connection, start: datetime, end: datetime) -> float:
    """Refresh the continuous aggregates over ``[start, end)`` (a no-op on plain PostgreSQL,
    whose rollups are views); the seconds it took."""
    started = time.perf_counter()
    refresh_rollups(conn, start, end)
    return time.perf_counter() - started


@dataclass(frozen=True)
class PerDevice:
    """One stream's bytes per device-year, raw and compressed."""

    table: str
    kind: str
    national: int
    device_years: float
    plain: float | None
    raw: float | None
    compressed: float | None

    @property
    def ratio(self) -> float | None:
        if self.raw is None or not self.compressed:
            return None
        return self.raw / self.compressed


def per_device_year(
    device_years: dict[str, float],
    plain: dict[str, Size] | None,
    raw: dict[str, Size] | None,
    compressed: dict[str, Size] | None,
) -> list[PerDevice]:
    """Bytes per device-year of every stream, from the sizes measured (``None``: not run)."""

    def per(s: dict[str, Size] | None, table: str, years: float) -> float | None:
        return None if s is None or not years else s[table].bytes / years

    out = []
    for table, kind, national in STREAMS:
        years = device_years[kind]
        out.append(
            PerDevice(
                table,
                kind,
                national,
                years,
                per(plain, table, years),
                per(raw, table, years),
                per(compressed, table, years),
            )
        )
    return out


def national(rows: list[PerDevice], pick: str) -> tuple[float, list[str]]:
    """The national service's bytes for the figure ``pick`` (``plain``, ``raw`` or
    ``compressed``) and the calculation, one line per stream."""
    total, lines = 0.0, []
    for r in rows:
        b = getattr(r, pick)
        if b is None:
            continue
        total += b * r.national
        lines.append(
            f"{r.table}: {human(b)}/{r.kind}-year x {r.national:,} = {human(b * r.national)}"
        )
    return total, lines


def human(n: float) -> str:
    """Bytes for people: B, kB, MB, GB, TB (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000:
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.2f} TB"
