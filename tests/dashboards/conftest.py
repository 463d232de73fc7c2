"""One council filled with a month of simulated history, a plan, forecasts and potholes, shared
by the panel-SQL tests of this folder."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from analytics.potholes.store import refresh_potholes
from analytics.routing.io import save_plan
from analytics.routing.schema import Plan, Saving, SkippedBin, Stop, VehicleRoute
from ingest.db.connect import connect
from simulators.backfill import backfill
from simulators.world import build_world
from tests.potholes_data import insert_bumps

LONDON = ZoneInfo("Europe/London")


def _plan(council: str, now: datetime, bins: list[tuple[str, float, float]]) -> Plan:
    (a, alat, alon), (b, blat, blon), (c, clat, clon) = bins[:3]
    stop = {"street": "High Street", "zone": None, "load_litres": 600.0, "arrival": now}
    stops = [
        Stop(
            device_id=a,
            lat=alat,
            lon=alon,
            decision="must",
            reason="predicted 104%",
            fill_now_pct=80.0,
            predicted_fill_pct=104.0,
            distance_from_previous_m=900.0,
            **stop,
        ),
        Stop(
            device_id=b,
            lat=blat,
            lon=blon,
            decision="worth",
            reason="on the way",
            fill_now_pct=55.0,
            predicted_fill_pct=70.0,
            distance_from_previous_m=300.0,
            **stop,
        ),
    ]
    route = VehicleRoute(
        vehicle=1,
        stops=stops,
        distance_m=4200.0,
        duration_s=5400.0,
        load_litres=1200.0,
        path=[(alat, alon), (blat, blon)],
    )
    left = SkippedBin(
        device_id=c,
        lat=clat,
        lon=clon,
        decision="must",
        reason="did not fit",
        fill_now_pct=90.0,
        predicted_fill_pct=120.0,
    )
    saving = Saving(
        all_bins_distance_m=9000.0,
        all_bins_duration_s=9000.0,
        plan_distance_m=4200.0,
        plan_duration_s=5400.0,
        distance_saved_pct=53.3,
        bins_all=6,
        bins_planned=2,
    )
    return Plan(
        council=council,
        shift_date=now.astimezone(LONDON).date(),
        shift_start=now,
        shift_end=now + timedelta(hours=8),
        depot=(alat, alon),
        travel="haversine",
        routes=[route],
        skipped=[],
        left_out=[left],
        saving=saving,
        created_at=now,
    )


@pytest.fixture(scope="module")
def filled(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A council with 29 days of bins and counters up to today, one silent counter, one bin on
    a low battery, a quarantined message, today's plan, forecasts and a confirmed pothole."""
    council = f"dash-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)
    with connect(database_url, autocommit=True) as conn:
        town = build_world(council, seed=7, bins=6, counters=3).town
        backfill(
            town,
            start=now.date() - timedelta(days=28),
            days=29,
            seed=7,
            out=tmp_path_factory.mktemp("dash") / "backfill",
            prefix="smartstreets",
            conn=conn,
        )
        _extras(conn, council, now, town.counters[0].device.zone or "centre")
        bins = [(b.device.device_id, b.device.lat, b.device.lon) for b in town.bins]
        save_plan(conn, _plan(council, now, bins))
        insert_bumps(conn, council, [f"{council}-p{i}" for i in range(3)], now - timedelta(hours=2))
        refresh_potholes(conn, council, now=now)
        yield council


def _extras(conn: psycopg.Connection, council: str, now: datetime, zone: str) -> None:
    conn.execute(
        "INSERT INTO road_segment (council, segment_id, name, lats, lons, length_m) "
        "VALUES (%s, 'high-1', 'High Street', '{52.6,52.601,52.602}', '{-0.7,-0.7,-0.7}', 222)",
        (council,),
    )
    conn.execute(
        "INSERT INTO road_coverage (council, segment_id, passes, phones, refreshed_at, "
        "iri_m_per_km, iri_phones, iri_stretches) VALUES (%s, 'high-1', 12, 4, %s, 3.4, 4, 9)",
        (council, now),
    )
    conn.execute(
        "INSERT INTO device (device_id, council, kind, lat, lon, zone) "
        "VALUES (%s, %s, 'counter', 52.6, -0.7, %s)",
        (f"{council}-mute", council, zone),
    )
    conn.execute(
        "INSERT INTO device (device_id, council, kind, lat, lon, capacity_litres) "
        "VALUES (%s, %s, 'bin', 52.6, -0.7, 240)",
        (f"{council}-weak", council),
    )
    conn.execute(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct, battery_v) "
        "VALUES (%s, %s, %s, 40, 3.21)",
        (council, f"{council}-weak", now - timedelta(minutes=5)),
    )
    conn.execute(
        "INSERT INTO quarantine (fingerprint, topic, payload, reason, council, stream) "
        "VALUES (%s, %s, %s, %s, %s, 'bin_fill')",
        (
            uuid.uuid4().bytes,
            f"smartstreets/{council}/bin_fill/x",
            b"{",
            "invalid JSON: EOF",
            council,
        ),
    )
    hours = [now.replace(minute=0, second=0) + timedelta(hours=h) for h in range(-24, 24)]
    conn.cursor().executemany(
        "INSERT INTO footfall_forecast (council, series, ts, forecast, lo80, hi80, usual, "
        "made_at) VALUES (%s, %s, %s, 100, 80, 120, 95, %s)",
        [(council, f"zone:{zone}", ts, now) for ts in hours],
    )
