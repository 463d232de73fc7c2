"""Forecast refresh against a real database: history per zone and counter, outages as gaps,
48 hours stored per series with the usual count beside each."""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from analytics.forecasting.store import (
    HORIZON_H,
    council_calendar,
    hourly_history,
    refresh_forecasts,
)
from ingest.db.connect import refresh_rollups
from ingest.db.registry import DeviceCreate, import_devices

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


@pytest.fixture
def counters(conn: psycopg.Connection, council: str, uid: str) -> list[str]:
    """Two counters in zone 'market' with five weeks of hourly counts; the second is down for
    the six hours before 09:00 on the last day."""
    ids = [f"m1-{uid}", f"m2-{uid}"]
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="counter", device_id=d, lat=52.6, lon=-0.7, zone="market"
            )
            for d in ids
        ],
    )
    end = NOW.replace(minute=0)
    outage = {end - timedelta(hours=h) for h in range(2, 8)}
    with conn.cursor().copy(
        "COPY footfall_count (council, device_id, zone, period_start, period_end, count) FROM STDIN"
    ) as copy:
        for d in ids:
            for h in range(1, 24 * 35 + 1):
                start = end - timedelta(hours=h)
                if d == ids[1] and start in outage:
                    continue
                count = 40 + 60 * (9 <= start.hour <= 17) + 20 * (start.weekday() == 5)
                count += start.hour % 3 if start.hour != 13 else 0  # real counts vary
                copy.write_row((council, d, "market", start, start + timedelta(hours=1), count))
    # On TimescaleDB another test's refresh job may have moved the rollups' watermark past these
    # hours; the same call a backfill makes materialises them.
    refresh_rollups(conn, end - timedelta(days=36), end + timedelta(hours=1))
    return ids


def test_outage_hours_are_gaps_in_the_zone_series(
    conn: psycopg.Connection, council: str, counters: list[str]
) -> None:
    """A zone hour with a counter missing is left out, not summed as a quiet hour; each
    counter keeps its own series."""
    history = hourly_history(conn, council, NOW)
    zone = history.filter(history["series"] == "zone:market")
    first = history.filter(history["series"] == f"counter:{counters[0]}")
    second = history.filter(history["series"] == f"counter:{counters[1]}")
    assert first.height == 24 * 35
    assert second.height == 24 * 35 - 6
    assert zone.height == 24 * 35 - 6
    assert zone["count"].min() >= 80  # two counters' worth, never one


def test_refresh_stores_48_hours_per_series_with_usual(
    conn: psycopg.Connection, council: str, counters: list[str]
) -> None:
    """Every zone and counter gets 48 forecast hours from the next hour, an interval around
    each forecast and the usual count for that hour; a second refresh replaces the first."""
    stored = refresh_forecasts(conn, council, NOW)
    assert stored == 3 * HORIZON_H
    assert refresh_forecasts(conn, council, NOW) == stored
    rows = conn.execute(
        "SELECT series, count(*), min(ts), bool_and(lo80 <= forecast AND forecast <= hi80), "
        "bool_and(usual IS NOT NULL) FROM footfall_forecast WHERE council = %s GROUP BY series",
        (council,),
    ).fetchall()
    assert len(rows) == 3
    for _series, n, first, ordered, usual in rows:
        assert n == HORIZON_H and ordered and usual
        assert first == NOW.replace(minute=0)
    status = conn.execute(
        "SELECT series, counted_until, today_ratio, unknown FROM footfall_forecast_series "
        "WHERE council = %s ORDER BY series",
        (council,),
    ).fetchall()
    assert len(status) == 3
    for _series, until, ratio, unknown in status:
        assert unknown is None and until <= NOW.replace(minute=0)
        assert ratio == pytest.approx(1.0, abs=0.1)  # today is like the weeks before
    busy = conn.execute(
        "SELECT forecast, usual FROM footfall_forecast WHERE council = %s "
        "AND series = 'zone:market' AND ts = %s",
        (council, NOW.replace(hour=13, minute=0)),
    ).fetchone()
    assert busy is not None and busy[1] == pytest.approx(200, abs=1)
    assert busy[0] == pytest.approx(200, rel=0.2)


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", "forecast", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"SMARTSTREETS_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
    )


def test_council_calendar_and_events_reach_the_forecaster(
    database_url: str, conn: psycopg.Connection, council: str, tmp_path: Path
) -> None:
    """'forecast calendar' and 'forecast events' set what the council's forecasts know."""
    events = tmp_path / "events.csv"
    events.write_text("date,name,uplift\n2026-12-05,Christmas market,1.8\n2026-12-12,Parade,\n")
    assert _cli(database_url, "calendar", "--council", council, "--calendar", "vic").returncode == 0
    done = _cli(database_url, "events", "--council", council, str(events))
    assert done.returncode == 0, done.stderr
    calendar = council_calendar(conn, council)
    assert calendar.timezone == "Europe/London"  # the council's zone, not the calendar's
    assert date(2014, 11, 4) in calendar.public_holidays  # Melbourne Cup day, from 'vic'
    uplifts = {e.day: e.uplift for e in calendar.events}
    assert uplifts == {date(2026, 12, 5): pytest.approx(1.8), date(2026, 12, 12): None}


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["calendar", "--calendar", "mars"], None, "--calendar: expected one of"),
        (["events"], "date,name\nnot-a-date,Fair\n", ":2: expected a date"),
        (["events"], "day,what\n2026-01-01,x\n", "expected columns date,name"),
    ],
)
def test_bad_calendar_or_events_are_one_line(
    database_url: str,
    council: str,
    tmp_path: Path,
    args: list[str],
    content: str | None,
    message: str,
) -> None:
    """Bad input to the council commands gives a one-line error, no traceback."""
    extra = []
    if content is not None:
        path = tmp_path / "events.csv"
        path.write_text(content)
        extra = [str(path)]
    out = _cli(database_url, *args, "--council", council, *extra)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr


def test_too_little_history_stores_nothing_and_says_so(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """A council whose counters started yesterday gets no forecast rather than an error."""
    device = f"new-{uid}"
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="counter", device_id=device, lat=52.6, lon=-0.7, zone="market"
            )
        ],
    )
    start = NOW.replace(minute=0) - timedelta(hours=20)
    conn.execute(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, 'market', %s, %s, 10)",
        (council, device, start, start + timedelta(hours=1)),
    )
    assert refresh_forecasts(conn, council, NOW) == 0
