"""Stored potholes: refreshed from bump reports in the database, matched across refreshes,
suppressed on known assets, reopened after a bad repair; asset files imported."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from analytics.potholes.assets import AssetError, import_assets
from analytics.potholes.store import apply_action, refresh_potholes
from tests.potholes_data import LAT, LON, asset_lonlat, insert_bumps

NOW = datetime.now(UTC).replace(microsecond=0)


def _potholes(conn: psycopg.Connection, council: str) -> list[tuple[int, str, int]]:
    return conn.execute(
        "SELECT pothole_id, state, devices FROM pothole WHERE council = %s ORDER BY pothole_id",
        (council,),
    ).fetchall()


def test_three_phones_at_one_spot_make_one_confirmed_pothole(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """Three distinct phones at one spot give one confirmed pothole, kept on a second refresh."""
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1))
    counts = refresh_potholes(conn, council, now=NOW)
    assert counts["inserted"] == 1
    ((pid, state, devices),) = _potholes(conn, council)
    assert (state, devices) == ("confirmed", 3)
    again = refresh_potholes(conn, council, now=NOW)
    assert (again["inserted"], again["updated"]) == (0, 1)
    assert _potholes(conn, council) == [(pid, "confirmed", 3)]


def test_reports_older_than_90_days_are_ignored(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """Reports from before the 90-day window make no pothole."""
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(days=91))
    assert refresh_potholes(conn, council, now=NOW)["reports"] == 0
    assert _potholes(conn, council) == []


def test_a_manhole_at_the_spot_suppresses_the_pothole(
    conn: psycopg.Connection, council: str, uid: str, tmp_path: Path
) -> None:
    """Jolts on a known manhole are not a pothole."""
    lon, lat = asset_lonlat(1.0)
    path = tmp_path / "assets.csv"
    path.write_text(f"asset_id,kind,lat,lon\nmh-1,manhole,{lat},{lon}\n", encoding="utf-8")
    assert import_assets(conn, council, path) == 1
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1))
    refresh_potholes(conn, council, now=NOW)
    assert _potholes(conn, council) == []


def test_repair_then_three_new_phones_reopens(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """A repaired pothole hit by three new phones after the repair is reopened, not confirmed."""
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(days=2))
    refresh_potholes(conn, council, now=NOW - timedelta(days=1))
    ((pid, _, _),) = _potholes(conn, council)
    assert apply_action(conn, council, pid, "repair", now=NOW - timedelta(days=1)) == "repaired"
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(2)], NOW - timedelta(hours=2))
    refresh_potholes(conn, council, now=NOW)
    assert _potholes(conn, council)[0][1] == "repaired"  # the same two phones are not enough
    insert_bumps(conn, council, [f"q{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1))
    refresh_potholes(conn, council, now=NOW)
    assert _potholes(conn, council) == [(pid, "reopened", 6)]
    history = conn.execute(
        "SELECT state FROM pothole_state_change WHERE pothole_id = %s ORDER BY changed_at",
        (pid,),
    ).fetchall()
    assert history == [("confirmed",), ("repaired",), ("reopened",)]  # every state, in order


def test_opposite_direction_updates_the_same_pothole(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """Phones driving the other way over the stored pothole's spot add to it, not a second one."""
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1))
    refresh_potholes(conn, council, now=NOW)
    ((pid, _, _),) = _potholes(conn, council)
    insert_bumps(
        conn, council, [f"q{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1), heading=270.0
    )
    counts = refresh_potholes(conn, council, now=NOW)
    assert (counts["inserted"], counts["updated"]) == (0, 1)
    assert _potholes(conn, council) == [(pid, "confirmed", 6)]


def test_geojson_assets_are_imported(
    conn: psycopg.Connection, council: str, tmp_path: Path
) -> None:
    """Point features become assets; a second import replaces them by id."""
    path = tmp_path / "assets.geojson"
    feature = (
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [%s, %s]}, '
        '"properties": {"asset_id": "h1", "kind": "speed_hump", "radius_m": %s}}'
    )
    for radius in (6, 9):
        body = feature % (LON, LAT, radius)
        path.write_text(f'{{"type": "FeatureCollection", "features": [{body}]}}', encoding="utf-8")
        assert import_assets(conn, council, path) == 1
    rows = conn.execute(
        "SELECT asset_id, kind, radius_m FROM road_asset WHERE council = %s", (council,)
    ).fetchall()
    assert rows == [("h1", "speed_hump", 9.0)]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "asset_id,kind,lat,lon\nx,pothole,52,0\n", "a.csv, line 2: Expected kind"),
        ("a.csv", "asset_id,kind,lat,lon\nx,manhole,north,0\n", "line 2: lat, lon and radius_m"),
        ("a.csv", "asset_id,kind\n", "missing column(s) lat, lon"),
        ("a.geojson", '{"features": [{"geometry": {"type": "LineString"}}]}', "feature 1: "),
        ("a.geojson", "{", "cannot read"),
        ("a.txt", "", "expected a .csv"),
    ],
)
def test_bad_asset_files_are_one_clear_error(
    conn: psycopg.Connection, council: str, tmp_path: Path, name: str, text: str, message: str
) -> None:
    """A bad asset file raises one error naming the row, and imports nothing."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AssetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_assets(conn, council, path)
    assert conn.execute(
        "SELECT count(*) FROM road_asset WHERE council = %s", (council,)
    ).fetchone() == (0,)


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", "potholes", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_cli_imports_assets_and_refreshes(
    conn: psycopg.Connection, council: str, uid: str, database_url: str, tmp_path: Path
) -> None:
    """``potholes assets`` and ``potholes refresh`` store assets and potholes."""
    lon, lat = asset_lonlat(500.0)
    path = tmp_path / "assets.csv"
    path.write_text(f"asset_id,kind,lat,lon,radius_m\nh,speed_hump,{lat},{lon},6\n", "utf-8")
    done = _cli(database_url, "assets", str(path), "--council", council)
    assert (done.returncode, done.stdout.strip()) == (0, f"imported 1 assets for {council}")
    insert_bumps(conn, council, [f"p{i}-{uid}" for i in range(3)], NOW - timedelta(hours=1))
    done = _cli(database_url, "refresh", "--council", council)
    assert done.returncode == 0 and "inserted=1" in done.stdout
    assert [s for _, s, _ in _potholes(conn, council)] == ["confirmed"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["refresh", "--council", "no-such-council"], "unknown council 'no-such-council'"),
        (["assets", "missing.csv", "--council", "x"], "missing.csv: no such file"),
    ],
)
def test_cli_errors_are_one_line(database_url: str, args: list[str], message: str) -> None:
    """Bad arguments give one ``error:`` line and a non-zero exit."""
    done = _cli(database_url, *args)
    assert done.returncode != 0
    assert done.stderr.strip() == f"error: {message}"
