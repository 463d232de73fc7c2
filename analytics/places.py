"""Places in words for a council's things: each bin, counter and pothole gets its street from the
council's imported roads (``smartstreets potholes roads``), and a device's registry address,
when it has one, wins.

The council's street index is built once and kept until its roads are imported again
(``council.roads_updated_at``), so naming a page's hundred stops costs one small query.
"""

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime

import psycopg

from analytics.geo.streets import NamedRoad, StreetNamer
from analytics.potholes.coverage_store import load_segments

_CACHE: dict[tuple[str, str], tuple[datetime | None, StreetNamer]] = {}
_LOCK = threading.Lock()


def street_namer(conn: psycopg.Connection, council: str) -> StreetNamer:
    """The council's street index (empty if it has no roads or is unknown)."""
    row = conn.execute(
        "SELECT roads_updated_at FROM council WHERE slug = %s", (council,)
    ).fetchone()
    stamp = None if row is None else row[0]
    key = (conn.info.dsn, council)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp and stamp is not None:
        return cached[1]
    roads = (NamedRoad(s.name, s.road_class, s.points) for s in load_segments(conn, council))
    namer = StreetNamer(roads)
    with _LOCK:
        _CACHE[key] = (stamp, namer)
    return namer


def describe_points(
    conn: psycopg.Connection, council: str, points: Iterable[tuple[float, float]]
) -> list[str | None]:
    """Each (lat, lon) in words ("High Street, near Church Street"), or None far from roads."""
    namer = street_namer(conn, council)
    return [namer.describe(lat, lon) for lat, lon in points]


def device_streets(
    conn: psycopg.Connection, council: str, kind: str | None = None
) -> Mapping[str, str]:
    """Each device's street: its registry address if it has one, else where it stands."""
    rows = conn.execute(
        "SELECT device_id, lat, lon, address FROM device WHERE council = %s "
        "AND (%s::text IS NULL OR kind = %s)",
        (council, kind, kind),
    ).fetchall()
    namer = street_namer(conn, council)
    found = {}
    for device_id, lat, lon, address in rows:
        street = address or namer.describe(lat, lon)
        if street:
            found[str(device_id)] = street
    return found
