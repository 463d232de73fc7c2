"""Bump reports written straight into ``bump_report``, for the stored-pothole tests."""

from datetime import datetime

import psycopg

from analytics.geo.geometry import moved

LAT, LON = 52.67, -0.72
JOLT = [0.0, 0.05, -0.1, -1.4, 1.6, -0.6, 0.2, 0.05, 0.0, 0.0, 0.0]


def insert_bumps(
    conn: psycopg.Connection,
    council: str,
    devices: list[str],
    ts: datetime,
    *,
    east_m: float = 0.0,
    heading: float = 90.0,
) -> None:
    """One sharp, well-measured jolt per device at the same spot and time."""
    lat, lon = moved(LAT, LON, east_m, 0.0)
    conn.cursor().executemany(
        "INSERT INTO bump_report (council, device_id, ts, lat, lon, speed_mps, peak_z_g, "
        "accuracy_m, heading_deg, sample_hz, samples_z_g) "
        "VALUES (%s, %s, %s, %s, %s, 10, 1.6, 4, %s, 20, %s)",
        [(council, d, ts, lat, lon, heading, JOLT) for d in devices],
    )


def asset_lonlat(east_m: float = 0.0) -> tuple[float, float]:
    """Longitude and latitude ``east_m`` metres east of the test spot."""
    lat, lon = moved(LAT, LON, east_m, 0.0)
    return lon, lat
