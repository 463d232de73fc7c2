"""Backup and restore: ``smartstreets db backup`` of a migrated, filled database and ``db restore``
into an empty one give the same rows and rollups and a schema that still works; on TimescaleDB
compressed chunks, continuous aggregates and policy jobs come back as they were."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from deploy.cli import app
from ingest.db import backup
from ingest.db.connect import connect, refresh_rollups
from ingest.db.migrate import migrate, storage_of
from tests.services import scratch_database

runner = CliRunner()
ROLLUPS = ("footfall_hourly_device", "footfall_hourly_zone")
COUNCILS = ("bak-a", "bak-b")
# Old enough to be compressed on TimescaleDB, recent enough for the 90-day bump retention.
DAYS = 45
Snapshot = dict[str, tuple[int, str]]


@dataclass(frozen=True)
class RoundTrip:
    """A filled database, its dump, the database restored from it, and what each held."""

    source: str
    target: str
    dump: Path
    timescaledb: bool
    before: Snapshot
    after: Snapshot
    chunks_before: list[tuple[object, ...]]
    chunks_after: list[tuple[object, ...]]


def _fill(conn: psycopg.Connection, now: datetime) -> None:
    """Two councils with bins, counters and phones: readings every 15 minutes for DAYS days."""
    for council in COUNCILS:
        conn.execute("INSERT INTO council (slug, name) VALUES (%s, %s)", (council, council))
        for i in range(3):
            conn.execute(
                "INSERT INTO device (device_id, council, kind, lat, lon, capacity_litres) "
                "VALUES (%s, %s, 'bin', 52.6, -0.7, 1100)",
                (f"{council}-bin-{i}", council),
            )
            conn.execute(
                "INSERT INTO device (device_id, council, kind, lat, lon, zone) "
                "VALUES (%s, %s, 'counter', 52.6, -0.7, 'market')",
                (f"{council}-ctr-{i}", council),
            )
        conn.execute(
            "INSERT INTO bin_fill (council, device_id, ts, fill_pct, seq, battery_v, flags) "
            "SELECT %(c)s, %(c)s || '-bin-' || d, %(now)s - q * INTERVAL '15 minutes', "
            "(q * 7 + d) %% 100, q, 3.6, CASE WHEN q %% 97 = 0 THEN '{tilt}'::text[] "
            "ELSE '{}' END FROM generate_series(0, 2) d, generate_series(1, %(n)s) q",
            {"c": council, "now": now, "n": DAYS * 96},
        )
        conn.execute(
            "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, "
            "count, count_in, count_out) "
            "SELECT %(c)s, %(c)s || '-ctr-' || d, 'market', s, s + INTERVAL '15 minutes', "
            "(q * 13 + d) %% 60, 0, 0 FROM generate_series(0, 2) d, generate_series(1, %(n)s) q, "
            "LATERAL (SELECT %(now)s - q * INTERVAL '15 minutes' AS s) p",
            {"c": council, "now": now, "n": DAYS * 96},
        )
        conn.execute(
            "INSERT INTO bump_report (council, device_id, ts, lat, lon, speed_mps, peak_z_g) "
            "SELECT %(c)s, 'phone-' || (q %% 4), %(now)s - q * INTERVAL '1 hour', "
            "52.6 + q / 1e5, -0.7, 9, 1.2 + q %% 5 FROM generate_series(1, %(n)s) q",
            {"c": council, "now": now, "n": DAYS * 24},
        )


def _compress(conn: psycopg.Connection) -> None:
    """Compress old chunks: bin_fill by running its policy job, footfall_count by hand."""
    row = conn.execute(
        "SELECT job_id FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_compression' AND hypertable_name = 'bin_fill'"
    ).fetchone()
    assert row is not None
    conn.execute("CALL run_job(%s)", (row[0],))
    conn.execute(
        "SELECT compress_chunk(c, if_not_compressed => true) "
        "FROM show_chunks('footfall_count', older_than => INTERVAL '7 days') c"
    )


def _snapshot(conn: psycopg.Connection) -> Snapshot:
    """Row count and a digest of the sorted rows of every table of the schema and each rollup."""
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    ]
    found: Snapshot = {}
    for name in [*tables, *ROLLUPS]:
        query = sql.SQL(
            "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
            "FROM {} t"
        ).format(sql.Identifier(name))
        row = conn.execute(query).fetchone()
        assert row is not None
        found[name] = (int(row[0]), str(row[1]))
    return found


def _chunks(conn: psycopg.Connection) -> list[tuple[object, ...]]:
    if storage_of(conn) != "timescaledb":
        return []
    return conn.execute(
        "SELECT hypertable_name, chunk_name, range_start, range_end, is_compressed "
        "FROM timescaledb_information.chunks ORDER BY 1, 3"
    ).fetchall()


@pytest.fixture(scope="module")
def round_trip(
    database_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RoundTrip]:
    """Fill a fresh database, compress and refresh on TimescaleDB, back it up with the command
    and restore the dump with the command into another fresh, unmigrated database."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    dump = tmp_path_factory.mktemp("backup") / "smartstreets.dump"
    with (
        scratch_database(database_server_url, "sst_bak_src") as source,
        scratch_database(database_server_url, "sst_bak_dst", migrated=False) as target,
    ):
        with connect(source, autocommit=True) as conn:
            _fill(conn, now)
            refresh_rollups(conn, now - timedelta(days=DAYS + 1), now)
            timescaledb = storage_of(conn) == "timescaledb"
            if timescaledb:
                _compress(conn)
            before, chunks_before = _snapshot(conn), _chunks(conn)
        made = runner.invoke(app, ["db", "backup", str(dump), "--database-url", source])
        assert made.exit_code == 0, made.output
        restored = runner.invoke(app, ["db", "restore", str(dump), "--database-url", target])
        assert restored.exit_code == 0, restored.output
        with connect(target, autocommit=True) as conn:
            after, chunks_after = _snapshot(conn), _chunks(conn)
        yield RoundTrip(
            source, target, dump, timescaledb, before, after, chunks_before, chunks_after
        )


def test_restore_gives_the_same_rows_and_rollups(round_trip: RoundTrip) -> None:
    """Every table and both hourly footfall rollups hold the same rows after the round trip."""
    before, after = round_trip.before, round_trip.after
    assert before["bin_fill"][0] == len(COUNCILS) * 3 * DAYS * 96
    assert before["footfall_count"][0] == len(COUNCILS) * 3 * DAYS * 96
    assert before["bump_report"][0] == len(COUNCILS) * DAYS * 24
    assert before["footfall_hourly_zone"][0] >= len(COUNCILS) * DAYS * 24
    assert after == before


def test_migrate_after_restore_is_a_no_op(round_trip: RoundTrip) -> None:
    """The restored migration ledger is current: migrating applies nothing."""
    assert migrate(round_trip.target) == []
    with connect(round_trip.target) as conn:
        assert storage_of(conn) == ("timescaledb" if round_trip.timescaledb else "postgres")


def test_tenant_role_keeps_its_grants_and_policies(round_trip: RoundTrip) -> None:
    """Roles are not in a dump; the restore provides smartstreets_tenant, and its grants and
    row-level security come back: a tenant sees its own council's rows only."""
    with connect(round_trip.target) as conn:
        conn.execute("SET LOCAL ROLE smartstreets_tenant")
        conn.execute("SELECT set_config('smartstreets.council', %s, true)", (COUNCILS[0],))
        councils = conn.execute("SELECT slug FROM council").fetchall()
        fills = conn.execute("SELECT DISTINCT council FROM smartstreets_tenant.bin_fill").fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM public.bin_fill LIMIT 1")
    assert councils == [(COUNCILS[0],)]
    assert fills == [(COUNCILS[0],)]


def test_new_readings_are_stored_after_restore(round_trip: RoundTrip) -> None:
    """The restored database takes new readings, old (into compressed chunks) and current,
    and the rollups pick them up."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    old = now - timedelta(days=DAYS - 2, minutes=7)
    council = COUNCILS[1]
    with connect(round_trip.target, autocommit=True) as conn:
        for ts in (old, now + timedelta(minutes=1)):
            conn.execute(
                "INSERT INTO bin_fill (council, device_id, ts, fill_pct) VALUES (%s, %s, %s, 42)",
                (council, f"{council}-bin-0", ts),
            )
            conn.execute(
                "INSERT INTO footfall_count (council, device_id, zone, period_start, "
                "period_end, count) VALUES (%s, %s, 'market', %s, %s, 1000)",
                (council, f"{council}-ctr-0", ts, ts + timedelta(minutes=15)),
            )
        refresh_rollups(conn, old - timedelta(hours=1), old + timedelta(hours=1))
        fills = conn.execute(
            "SELECT count(*) FROM bin_fill WHERE device_id = %s AND fill_pct = 42 "
            "AND ts IN (%s, %s)",
            (f"{council}-bin-0", old, now + timedelta(minutes=1)),
        ).fetchone()
        hour = conn.execute(
            "SELECT count FROM footfall_hourly_device WHERE device_id = %s "
            "AND bucket = date_trunc('hour', %s::timestamptz)",
            (f"{council}-ctr-0", old),
        ).fetchone()
    assert fills == (2,)
    assert hour is not None and hour[0] >= 1000


@pytest.fixture
def tsdb_trip(round_trip: RoundTrip) -> RoundTrip:
    """The round trip, when the server runs TimescaleDB."""
    if not round_trip.timescaledb:
        pytest.skip("needs a TimescaleDB server (set SMARTSTREETS_TEST_DATABASE_URL to one)")
    return round_trip


def test_compressed_chunks_stay_compressed(tsdb_trip: RoundTrip) -> None:
    """The same chunks, with the same ranges, are compressed after the restore.

    The restored database's own compression policies start with its background jobs and may
    compress a chunk the source's had not reached yet, so "after" may hold more compressed
    chunks, never fewer."""
    compressed = [c for c in tsdb_trip.chunks_before if c[4]]
    assert {c[0] for c in compressed} == {"bin_fill", "footfall_count"}
    assert [c[:4] for c in tsdb_trip.chunks_after] == [c[:4] for c in tsdb_trip.chunks_before]
    still = {c[:4] for c in tsdb_trip.chunks_after if c[4]}
    assert {c[:4] for c in compressed} <= still


def test_aggregates_and_jobs_come_back(tsdb_trip: RoundTrip) -> None:
    """Continuous aggregates and policy jobs exist and are scheduled; restoring mode is off."""
    query = (
        "SELECT proc_name, hypertable_name, schedule_interval, config::text, scheduled "
        "FROM timescaledb_information.jobs WHERE job_id >= 1000 ORDER BY 1, 2"
    )
    caggs = "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
    found = []
    for url in (tsdb_trip.source, tsdb_trip.target):
        with connect(url) as conn:
            found.append(
                (
                    conn.execute(query).fetchall(),
                    sorted(conn.execute(caggs).fetchall()),
                    conn.execute("SHOW timescaledb.restoring").fetchone(),
                )
            )
    assert found[1] == found[0]
    jobs, aggregates, restoring = found[1]
    assert len(jobs) == 10 and all(scheduled for *_, scheduled in jobs)
    assert aggregates == [("footfall_hourly_device", False), ("footfall_hourly_zone", False)]
    assert restoring == ("off",)


def test_restore_refuses_a_database_that_is_not_empty(round_trip: RoundTrip) -> None:
    """Restoring over a database with tables is refused with one line, changing nothing."""
    result = runner.invoke(
        app, ["db", "restore", str(round_trip.dump), "--database-url", round_trip.target]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith("error: database sst_bak_dst_")
    assert "not empty" in result.stderr


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing-file", "cannot read"),
        ("not-an-archive", "not a pg_dump custom-format archive"),
        ("unreachable", "error: "),
        ("bad-url", "error: "),
        ("backup-exists", "exists (give --overwrite"),
        ("no-pg-dump", "no pg_dump binary"),
    ],
)
def test_failures_are_one_line(
    case: str,
    expected: str,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing or foreign file, a bad URL, an existing backup or no pg_dump: one error line
    and a non-zero exit, never a traceback."""
    file, url, command = tmp_path / "x.dump", database_url, "restore"
    if case == "not-an-archive":
        file.write_text("SELECT 1;\n")
    elif case == "unreachable":
        url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    elif case == "bad-url":
        url = "postgresql://127.0.0.1:notaport/x"
    elif case == "backup-exists":
        file.write_bytes(b"keep me")
        command = "backup"
    elif case == "no-pg-dump":
        monkeypatch.setattr(backup, "PG_BIN_ROOT", tmp_path / "none")
        monkeypatch.setenv("PATH", str(tmp_path))
        command = "backup"
    result = runner.invoke(app, ["db", command, str(file), "--database-url", url])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in last, result.stderr
    if case == "backup-exists":
        assert file.read_bytes() == b"keep me"
    if case == "no-pg-dump":
        assert not file.exists() and not list(tmp_path.glob("*.partial"))


def test_missing_roles_are_created_or_named(
    database_server_url: str, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role the schema needs is created and granted to the restoring user; a user who may not
    create roles is told, in one line, what a superuser has to run."""
    role, weak = f"sst_bak_role_{uid}", f"sst_bak_user_{uid}"
    monkeypatch.setattr(backup, "SCHEMA_ROLES", (role,))
    with connect(database_server_url, autocommit=True) as admin:
        try:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(weak)))
            weak_url = make_conninfo(database_server_url, user=weak)
            with (
                connect(weak_url, autocommit=True) as conn,
                pytest.raises(backup.BackupError, match=f"CREATE ROLE {role} NOLOGIN; GRANT"),
            ):
                backup.ensure_roles(conn)
            assert backup.ensure_roles(admin) == [role]
            assert backup.ensure_roles(admin) == []
            member = admin.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,))
            assert member.fetchone() == (True,)
        finally:
            for name in (role, weak):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
