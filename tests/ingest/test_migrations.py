"""The schema: migrations are idempotent, both storage paths expose the same names, and the
TimescaleDB path really has hypertables, policies and continuous aggregates."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.db.connect import refresh_rollups
from ingest.db.migrate import load_migrations, migrate, storage_of
from tests.services import scratch_database

TABLES = {
    "council",
    "device",
    "bin_fill",
    "bump_report",
    "footfall_count",
    "quarantine",
    "api_token",
    "retention_setting",
    "schema_migration",
    "alert",
    "alert_delivery",
    "phone_salt",
    "trip_coverage",
    "road_segment",
    "road_coverage",
    "pothole_state_change",
}
ROLLUPS = {
    "footfall_hourly_device": ["council", "device_id", "zone", "bucket", "count", "readings"],
    "footfall_hourly_zone": ["council", "zone", "bucket", "count", "counters"],
}


def _timescaledb(conn: psycopg.Connection) -> bool:
    return storage_of(conn) == "timescaledb"


def test_migrate_twice_applies_nothing_the_second_time(database_url: str) -> None:
    """Running migrations on an up-to-date database is a no-op."""
    assert migrate(database_url) == []


def test_every_migration_is_recorded(conn: psycopg.Connection) -> None:
    """Each shipped migration has a ledger row with the storage path it was applied for."""
    rows = conn.execute("SELECT version, storage FROM schema_migration ORDER BY version").fetchall()
    assert [v for v, _ in rows] == [m.version for m in load_migrations()]
    assert {s for _, s in rows} == {storage_of(conn)}


def test_tables_and_rollups_exist_under_their_names(conn: psycopg.Connection) -> None:
    """The same table and view names, with the same columns, exist on either storage path."""
    names = {
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    }
    assert names >= TABLES
    for view, columns in ROLLUPS.items():
        cur = conn.execute(f"SELECT * FROM {view} LIMIT 0")  # noqa: S608 (fixed names)
        assert [d.name for d in cur.description or []] == columns


def test_hourly_rollups_sum_counts(conn: psycopg.Connection, council: str, uid: str) -> None:
    """Quarter-hour counts roll up into hourly per-device and per-zone totals."""
    hour = datetime(2026, 11, 2, 9, tzinfo=UTC)
    rows = [
        (
            council,
            f"ctr-a-{uid}",
            "market",
            hour + timedelta(minutes=15 * i),
            hour + timedelta(minutes=15 * (i + 1)),
            10 + i,
        )
        for i in range(4)
    ]
    rows.append((council, f"ctr-b-{uid}", "market", hour, hour + timedelta(minutes=15), 100))
    conn.cursor().executemany(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        rows,
    )
    # Late data in an already-materialised region shows once the rollups are refreshed (on
    # TimescaleDB by its policy or, outside the policy's window, by refresh_rollups).
    refresh_rollups(conn, hour, hour + timedelta(hours=1))
    device = conn.execute(
        "SELECT device_id, count, readings FROM footfall_hourly_device WHERE council = %s "
        "AND bucket = %s ORDER BY device_id",
        (council, hour),
    ).fetchall()
    assert device == [(f"ctr-a-{uid}", 46, 4), (f"ctr-b-{uid}", 100, 1)]
    zone = conn.execute(
        "SELECT zone, count, counters FROM footfall_hourly_zone WHERE council = %s", (council,)
    ).fetchall()
    assert zone == [("market", 146, 2)]


def test_retention_setting_can_be_changed(conn: psycopg.Connection) -> None:
    """set_retention() records the new period (and moves the TimescaleDB job with it)."""
    try:
        conn.execute("SELECT set_retention('bump_report', INTERVAL '30 days')")
        keep = conn.execute(
            "SELECT keep FROM retention_setting WHERE table_name = 'bump_report'"
        ).fetchone()
        assert keep == (timedelta(days=30),)
        if _timescaledb(conn):
            job = conn.execute(
                "SELECT config->>'drop_after' FROM timescaledb_information.jobs "
                "WHERE proc_name = 'policy_retention' AND hypertable_name = 'bump_report'"
            ).fetchall()
            assert job == [("30 days",)]
    finally:
        conn.execute("SELECT set_retention('bump_report', INTERVAL '90 days')")


def test_unknown_retention_table_is_refused(conn: psycopg.Connection) -> None:
    """Asking to change the retention of a table that has none raises."""
    with pytest.raises(psycopg.errors.RaiseException, match="no retention setting"):
        conn.execute("SELECT set_retention('device', INTERVAL '1 day')")


def test_plain_retention_deletes_expired_rows(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """On plain PostgreSQL apply_retention() deletes raw bumps older than 90 days only."""
    if _timescaledb(conn):
        pytest.skip("TimescaleDB drops chunks with its own retention job (tested below)")
    now = datetime.now(UTC)
    for age_days, phone in ((100, f"old-{uid}"), (10, f"new-{uid}")):
        conn.execute(
            "INSERT INTO bump_report (council, device_id, ts, lat, lon, speed_mps, peak_z_g) "
            "VALUES (%s, %s, %s, 52.6, -0.7, 10, 1.5)",
            (council, phone, now - timedelta(days=age_days)),
        )
    deleted = conn.execute("SELECT apply_retention()").fetchone()
    assert deleted is not None and deleted[0] >= 1
    left = conn.execute(
        "SELECT device_id FROM bump_report WHERE council = %s", (council,)
    ).fetchall()
    assert left == [(f"new-{uid}",)]


@pytest.fixture
def tsdb(conn: psycopg.Connection) -> psycopg.Connection:
    """The connection, when the database runs on TimescaleDB."""
    if not _timescaledb(conn):
        pytest.skip("needs a TimescaleDB server (set SMARTSTREETS_TEST_DATABASE_URL to one)")
    return conn


def test_streams_are_compressed_hypertables(tsdb: psycopg.Connection) -> None:
    """Every stream table is a hypertable with compression enabled."""
    rows = tsdb.execute(
        "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables "
        "WHERE hypertable_schema = 'public' ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("bin_fill", True),
        ("bump_report", True),
        ("footfall_count", True),
        ("trip_coverage", True),
    ]


def test_policies_are_scheduled(tsdb: psycopg.Connection) -> None:
    """Compression and retention jobs exist per stream, refresh jobs per continuous aggregate."""
    jobs = tsdb.execute(
        "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs "
        "WHERE proc_name IN ('policy_compression', 'policy_retention') ORDER BY 1, 2"
    ).fetchall()
    streams = ["bin_fill", "bump_report", "footfall_count", "trip_coverage"]
    assert jobs == [("policy_compression", s) for s in streams] + [
        ("policy_retention", s) for s in streams
    ]
    bump_keep = tsdb.execute(
        "SELECT config->>'drop_after' FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_retention' AND hypertable_name = 'bump_report'"
    ).fetchone()
    assert bump_keep == ("90 days",)
    caggs = tsdb.execute(
        "SELECT view_name FROM timescaledb_information.continuous_aggregates ORDER BY 1"
    ).fetchall()
    assert caggs == [("footfall_hourly_device",), ("footfall_hourly_zone",)]
    refresh = tsdb.execute(
        "SELECT count(*) FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_refresh_continuous_aggregate'"
    ).fetchone()
    assert refresh == (2,)


@pytest.fixture
def own_tsdb(
    tsdb: psycopg.Connection, database_server_url: str, uid: str
) -> Iterator[psycopg.Connection]:
    """A freshly migrated TimescaleDB database of this test alone: what other tests stored in
    the session's database (and the rollups they materialised) cannot change what the jobs do."""
    with (
        scratch_database(database_server_url, "sst_jobs") as url,
        psycopg.connect(url, autocommit=True) as conn,
    ):
        conn.execute("INSERT INTO council (slug, name) VALUES (%s, %s)", (f"c-{uid}", f"c-{uid}"))
        yield conn


def test_refresh_and_compression_jobs_run(own_tsdb: psycopg.Connection, uid: str) -> None:
    """The refresh job materialises old counts, the compression job compresses old chunks and
    the retention job drops bumps past 90 days."""
    tsdb, council = own_tsdb, f"c-{uid}"
    old = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
    tsdb.execute(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, 'z', %s, %s, 7)",
        (council, f"ctr-{uid}", old, old + timedelta(hours=1)),
    )
    tsdb.execute(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct) VALUES (%s, %s, %s, 50)",
        (council, f"bin-{uid}", datetime.now(UTC) - timedelta(days=40)),
    )
    for age_days, phone in ((120, f"old-{uid}"), (10, f"new-{uid}")):
        tsdb.execute(
            "INSERT INTO bump_report (council, device_id, ts, lat, lon, speed_mps, peak_z_g) "
            "VALUES (%s, %s, %s, 52.6, -0.7, 10, 1.5)",
            (council, phone, datetime.now(UTC) - timedelta(days=age_days)),
        )
    for proc, table in (
        ("policy_refresh_continuous_aggregate", "footfall_hourly_device"),
        ("policy_compression", "bin_fill"),
        ("policy_retention", "bump_report"),
    ):
        row = tsdb.execute(
            "SELECT job_id FROM timescaledb_information.jobs "
            "WHERE proc_name = %s AND hypertable_name = %s",
            (proc, table),
        ).fetchone()
        assert row is not None
        tsdb.execute("CALL run_job(%s)", (row[0],))
    materialised = tsdb.execute(
        "SELECT count FROM footfall_hourly_device WHERE device_id = %s", (f"ctr-{uid}",)
    ).fetchall()
    assert materialised == [(7,)]
    compressed = tsdb.execute(
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'bin_fill' "
        "AND is_compressed"
    ).fetchone()
    assert compressed is not None and compressed[0] >= 1
    # A compressed chunk still refuses a duplicate reading and accepts a new one.
    tsdb.execute(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct) "
        "SELECT council, device_id, ts, 99 FROM bin_fill WHERE device_id = %s "
        "ON CONFLICT DO NOTHING",
        (f"bin-{uid}",),
    )
    fills = tsdb.execute(
        "SELECT fill_pct FROM bin_fill WHERE device_id = %s", (f"bin-{uid}",)
    ).fetchall()
    assert fills == [(50,)]
    phones = tsdb.execute(
        "SELECT device_id FROM bump_report WHERE council = %s", (council,)
    ).fetchall()
    assert phones == [(f"new-{uid}",)]
