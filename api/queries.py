"""Named SQL queries of the API; routes call these and never hold SQL themselves."""

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.db.connect import server_version, timescaledb_version
from ingest.db.migrate import storage_of


def council_exists(conn: psycopg.Connection, council: str) -> bool:
    """Whether ``council`` is registered."""
    return conn.execute("SELECT 1 FROM council WHERE slug = %s", (council,)).fetchone() is not None


def database_facts(conn: psycopg.Connection) -> dict[str, str | None]:
    """Server version, TimescaleDB version and the storage path the schema was built for."""
    return {
        "server_version": server_version(conn),
        "timescaledb": timescaledb_version(conn),
        "storage": storage_of(conn),
    }


def latest_fill_by_bin(
    conn: psycopg.Connection, council: str, stale_after_min: int
) -> list[dict[str, Any]]:
    """Every bin of a council with its latest reading (bins never heard from included)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT d.device_id, d.lat, d.lon, d.zone, d.capacity_litres,
                   f.fill_pct, f.ts, f.battery_v, coalesce(f.flags, '{}') AS flags,
                   (f.ts IS NULL OR f.ts < now() - make_interval(mins => %(stale)s)) AS stale
            FROM device d
            LEFT JOIN LATERAL (
                SELECT fill_pct, ts, battery_v, flags FROM bin_fill b
                WHERE b.device_id = d.device_id ORDER BY ts DESC LIMIT 1
            ) f ON true
            WHERE d.council = %(council)s AND d.kind = 'bin'
            ORDER BY d.device_id
            """,
            {"council": council, "stale": stale_after_min},
        )
        return cur.fetchall()


def zone_counts_now(
    conn: psycopg.Connection, council: str, now: datetime, stale_after_min: int
) -> list[dict[str, Any]]:
    """Per zone: people counted in the last hour and, from the same counters, the mean for the
    same hour of the week over the previous four weeks.

    Only counters that reported within ``stale_after_min`` count as reporting; comparing the
    same counters now and before keeps a counter outage from looking like a quiet street.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            WITH counters AS (
                SELECT zone, device_id FROM device
                WHERE council = %(council)s AND kind = 'counter'
            ),
            recent AS (
                SELECT f.device_id, sum(f.count) AS count, max(f.period_end) AS last_end
                FROM footfall_count f JOIN counters c USING (device_id)
                WHERE f.council = %(council)s
                  AND f.period_end > %(now)s - INTERVAL '1 hour' AND f.period_end <= %(now)s
                GROUP BY f.device_id
            ),
            reporting AS (
                SELECT device_id, count FROM recent
                WHERE last_end > %(now)s - make_interval(mins => %(stale)s)
            ),
            past AS (
                SELECT c.zone, w.weeks, sum(f.count) AS count
                FROM generate_series(1, 4) AS w(weeks)
                JOIN footfall_count f
                  ON f.period_end > %(now)s - make_interval(weeks => w.weeks) - INTERVAL '1 hour'
                 AND f.period_end <= %(now)s - make_interval(weeks => w.weeks)
                JOIN counters c USING (device_id)
                WHERE f.council = %(council)s
                  AND f.device_id IN (SELECT device_id FROM reporting)
                GROUP BY c.zone, w.weeks
            )
            SELECT c.zone,
                   count(*) AS counters_total,
                   count(r.device_id) AS counters_reporting,
                   sum(r.count)::bigint AS count_last_hour,
                   (SELECT avg(p.count)::float8 FROM past p WHERE p.zone = c.zone) AS usual_count
            FROM counters c LEFT JOIN reporting r USING (device_id)
            GROUP BY c.zone
            ORDER BY c.zone
            """,
            {"council": council, "now": now, "stale": stale_after_min},
        )
        return cur.fetchall()


def bumps_in_bbox(
    conn: psycopg.Connection,
    council: str,
    bbox: tuple[float, float, float, float],
    since: datetime,
    until: datetime,
    limit: int,
) -> list[dict[str, Any]]:
    """Bump reports inside a bounding box (min lon, min lat, max lon, max lat), newest first."""
    min_lon, min_lat, max_lon, max_lat = bbox
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT ts, lat, lon, speed_mps, peak_z_g, heading_deg, accuracy_m
            FROM bump_report
            WHERE council = %s AND ts >= %s AND ts < %s
              AND lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s
            ORDER BY ts DESC
            LIMIT %s
            """,
            (council, since, until, min_lon, max_lon, min_lat, max_lat, limit),
        )
        return cur.fetchall()


def councils(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every council with its device counts."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """
            SELECT c.slug, c.name,
                   count(d.*) FILTER (WHERE d.kind = 'bin') AS bins,
                   count(d.*) FILTER (WHERE d.kind = 'counter') AS counters
            FROM council c LEFT JOIN device d ON d.council = c.slug
            GROUP BY c.slug, c.name ORDER BY c.slug
            """
        )
        return cur.fetchall()
