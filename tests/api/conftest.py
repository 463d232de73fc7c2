"""Fixtures shared by the API's tests: the app on the session's database, the same app served
over HTTP for a real browser, and a council's zones with history and forecasts."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from ingest.db.connect import refresh_rollups
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings
from tests.helpers import served


@pytest.fixture
def app(database_url: str, mqtt_url: str) -> object:
    """The API on the session's database."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    return create_app(ApiSettings(health_cache_s=0), services)


@pytest.fixture
def client(app: object) -> Iterator[TestClient]:
    """A test client of the app."""
    with TestClient(app) as c:  # type: ignore[arg-type]
        yield c


@pytest.fixture
def zones(conn: psycopg.Connection, council: str, uid: str) -> dict[str, list[str]]:
    """Zone 'high-street' with three counters and 'station' with one; five weeks of hourly
    counts and a stored 48-hour forecast for each zone and counter."""
    layout = {"high-street": [f"hs{i}-{uid}" for i in range(3)], "station": [f"st-{uid}"]}
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="counter", device_id=d, lat=52.67, lon=-0.72, zone=zone
            )
            for zone, ids in layout.items()
            for d in ids
        ],
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    counts = []
    for zone, ids in layout.items():
        for d in ids:
            for h in range(1, 24 * 35):
                start = now - timedelta(hours=h)
                people = 50 + 40 * (8 <= start.hour <= 18)
                counts.append((council, d, zone, start, start + timedelta(hours=1), people))
    with conn.cursor().copy(
        "COPY footfall_count (council, device_id, zone, period_start, period_end, count) FROM STDIN"
    ) as copy:
        for row in counts:
            copy.write_row(row)
    # On TimescaleDB the rollups may already be materialised over these hours (another test's
    # backfill); the same call a backfill makes brings them up to date.
    refresh_rollups(conn, now - timedelta(days=36), now + timedelta(hours=1))
    series = [f"zone:{z}" for z in layout] + [
        f"counter:{d}" for ids in layout.values() for d in ids
    ]
    forecasts = [
        (council, s, now + timedelta(hours=h), 120.0 + h, 90.0 + h, 150.0 + h, 100.0, now)
        for s in series
        for h in range(48)
    ]
    conn.cursor().executemany(
        "INSERT INTO footfall_forecast (council, series, ts, forecast, lo80, hi80, usual, "
        "made_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        forecasts,
    )
    return layout


@pytest.fixture
def server(app: object) -> Iterator[str]:
    """The app served over HTTP on a free loopback port, for a real browser."""
    with served(app) as url:
        yield url
