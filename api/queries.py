"""Named SQL queries of the API; routes call these and never hold SQL themselves."""

from datetime import UTC, datetime, timedelta
from typing import Any, LiteralString

import psycopg
from psycopg.abc import Params
from psycopg.rows import dict_row

from ingest.db.connect import server_version, timescaledb_version
from ingest.db.migrate import storage_of

MAX_PERIOD_H = 24
"""Longest counting period the device contract accepts (ingest.contract.payloads)."""
PAST_WEEKS = range(1, 5)
"""The weeks before now whose same hour makes a zone's usual count."""
LATEST_WITHIN = timedelta(days=2)
"""How far back a bin's latest reading is looked for first. Under row-level security the raw
streams are security-barrier views, through which ``ORDER BY ts DESC LIMIT 1`` reads and sorts a
bin's whole history (a year: 35,000 rows a bin); bounded by a constant time, the index reads a
couple of days. Bins silent for longer are looked up unbounded, as before."""


def all_rows(
    conn: psycopg.Connection, query: LiteralString, params: Params | None = None
) -> list[dict[str, Any]]:
    """Every row of ``query`` as a dict of column name to value."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def database_facts(conn: psycopg.Connection) -> dict[str, str | None]:
    """Server version, TimescaleDB version and the storage path the schema was built for."""
    return {
        "server_version": server_version(conn),
        "timescaledb": timescaledb_version(conn),
        "storage": storage_of(conn),
    }


LATEST_BIN_READING: LiteralString = """
        LEFT JOIN LATERAL (
            SELECT fill_pct, ts, battery_v, temperature_c, flags FROM bin_fill b
            WHERE b.device_id = d.device_id AND b.ts > %(recent)s ORDER BY ts DESC LIMIT 1
        ) r ON true
        LEFT JOIN LATERAL (
            SELECT fill_pct, ts, battery_v, temperature_c, flags FROM bin_fill b
            WHERE r.ts IS NULL AND b.device_id = d.device_id ORDER BY ts DESC LIMIT 1
        ) o ON true
        LEFT JOIN LATERAL (
            SELECT r.fill_pct, r.ts, r.battery_v, r.temperature_c, r.flags WHERE r.ts IS NOT NULL
            UNION ALL
            SELECT o.fill_pct, o.ts, o.battery_v, o.temperature_c, o.flags WHERE o.ts IS NOT NULL
        ) f ON true
"""
"""The latest reading of bin ``d`` as ``f``: within ``LATEST_WITHIN`` (``%(recent)s``, from
:func:`latest_since`) first, else unbounded (see ``LATEST_WITHIN``); none if never heard from."""


def latest_since() -> datetime:
    """The ``%(recent)s`` bound of :data:`LATEST_BIN_READING`."""
    return datetime.now(UTC) - LATEST_WITHIN


def latest_fill_by_bin(
    conn: psycopg.Connection, council: str, stale_after_min: int
) -> list[dict[str, Any]]:
    """Every bin of a council with its latest reading (bins never heard from included)."""
    return all_rows(
        conn,
        """
        SELECT d.device_id, d.lat, d.lon, d.zone, d.capacity_litres,
               f.fill_pct, f.ts, f.battery_v, coalesce(f.flags, '{}') AS flags,
               (f.ts IS NULL OR f.ts < now() - make_interval(mins => %(stale)s)) AS stale
        FROM device d
        """  # noqa: S608 (a constant fragment, no value)
        + LATEST_BIN_READING
        + """
        WHERE d.council = %(council)s AND d.kind = 'bin'
        ORDER BY d.device_id
        """,
        {"council": council, "stale": stale_after_min, "recent": latest_since()},
    )


def zone_counts_now(
    conn: psycopg.Connection, council: str, now: datetime, stale_after_min: int
) -> list[dict[str, Any]]:
    """Per zone: people counted in the last hour and, from the same counters, the mean for the
    same hour of the week over the previous four weeks.

    Only counters that reported within ``stale_after_min`` count as reporting; comparing the
    same counters now and before keeps a counter outage from looking like a quiet street.

    Periods are found by ``period_start`` (the indexed column): the contract caps a period at
    24 hours, so a period ending in an hour-long window started at most 25 hours before the
    window's end. Each past week is one lookup on (device_id, period_start) per counter. Every
    bound is a plain timestamp computed here, not SQL arithmetic: under row-level security the
    raw streams are security-barrier views, and only leakproof conditions (comparisons of
    values, not ``now - interval``) reach the index below them.
    """
    hour, longest = timedelta(hours=1), timedelta(hours=1 + MAX_PERIOD_H)
    ends = [now - timedelta(weeks=w) for w in PAST_WEEKS]
    return all_rows(
        conn,
        """
        WITH counters AS (
            SELECT zone, device_id FROM device
            WHERE council = %(council)s AND kind = 'counter'
        ),
        recent AS (
            SELECT f.device_id, sum(f.count) AS count, max(f.period_end) AS last_end
            FROM footfall_count f JOIN counters c USING (device_id)
            WHERE f.council = %(council)s
              AND f.period_end > %(hour_ago)s AND f.period_end <= %(now)s
              AND f.period_start > %(longest_ago)s AND f.period_start < %(now)s
            GROUP BY f.device_id
        ),
        reporting AS (
            SELECT device_id, count FROM recent WHERE last_end > %(stale_since)s
        ),
        past AS (
            SELECT c.zone, w.weeks, sum(f.count) AS count
            FROM reporting r
            JOIN counters c USING (device_id)
            CROSS JOIN unnest(%(weeks)s::int[], %(starts_after)s::timestamptz[],
                              %(ends_after)s::timestamptz[], %(ends_by)s::timestamptz[])
                AS w(weeks, starts_after, ends_after, ends_by)
            CROSS JOIN LATERAL (
                SELECT sum(p.count) AS count FROM footfall_count p
                WHERE p.device_id = r.device_id AND p.council = %(council)s
                  AND p.period_start > w.starts_after AND p.period_start < w.ends_by
                  AND p.period_end > w.ends_after AND p.period_end <= w.ends_by
            ) f
            GROUP BY c.zone, w.weeks
        ),
        usual AS (
            SELECT zone, avg(count)::float8 AS usual_count FROM past GROUP BY zone
        )
        SELECT c.zone,
               count(*) AS counters_total,
               count(r.device_id) AS counters_reporting,
               sum(r.count)::bigint AS count_last_hour,
               min(u.usual_count) AS usual_count
        FROM counters c LEFT JOIN reporting r USING (device_id)
        LEFT JOIN usual u USING (zone)
        GROUP BY c.zone
        ORDER BY c.zone
        """,
        {
            "council": council,
            "now": now,
            "hour_ago": now - hour,
            "longest_ago": now - longest,
            "stale_since": now - timedelta(minutes=stale_after_min),
            "weeks": list(PAST_WEEKS),
            "starts_after": [end - longest for end in ends],
            "ends_after": [end - hour for end in ends],
            "ends_by": ends,
        },
    )


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
    return all_rows(
        conn,
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


def councils(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every council with its device counts."""
    return all_rows(
        conn,
        """
        SELECT c.slug, c.name,
               count(d.*) FILTER (WHERE d.kind = 'bin') AS bins,
               count(d.*) FILTER (WHERE d.kind = 'counter') AS counters
        FROM council c LEFT JOIN device d ON d.council = c.slug
        GROUP BY c.slug, c.name ORDER BY c.slug
        """,
    )


def stored_forecasts(conn: psycopg.Connection, council: str, series: str) -> list[dict[str, Any]]:
    """Stored forecast hours of a series (``zone:…`` or ``counter:…``), from now on."""
    return all_rows(
        conn,
        "SELECT series, ts, forecast, lo80, hi80, usual, made_at FROM footfall_forecast "
        "WHERE council = %s AND series LIKE %s AND ts >= date_trunc('hour', now()) "
        "ORDER BY series, ts",
        (council, series),
    )


def forecast_series_status(
    conn: psycopg.Connection, council: str, series: str
) -> list[dict[str, Any]]:
    """What the latest forecast of each series knew (``footfall_forecast_series``): when it was
    made, the end of the last counted hour, today's counts over usual, and why it was withheld
    (``unknown``, null when it was not)."""
    return all_rows(
        conn,
        "SELECT series, made_at, counted_until, today_ratio, unknown "
        "FROM footfall_forecast_series WHERE council = %s AND series LIKE %s ORDER BY series",
        (council, series),
    )


def counter_publication(
    conn: psycopg.Connection, council: str, device_id: str
) -> dict[str, Any] | None:
    """A counter's zone, how many counters that zone has, and whether the council publishes
    per-counter figures anyway; ``None`` for an unknown counter."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT d.zone, c.publish_counters, "
            "(SELECT count(*) FROM device z WHERE z.council = d.council AND z.kind = 'counter' "
            " AND z.zone = d.zone) AS zone_counters "
            "FROM device d JOIN council c ON c.slug = d.council "
            "WHERE d.council = %s AND d.device_id = %s AND d.kind = 'counter'",
            (council, device_id),
        )
        return cur.fetchone()


def zone_day_hours(
    conn: psycopg.Connection, council: str, start: datetime, hours: int
) -> list[dict[str, Any]]:
    """Per zone and hour from ``start``: people counted (complete hours only), the stored
    forecast and its 80% band, and the usual count (mean of the same hour over four weeks)."""
    return all_rows(
        conn,
        """
        WITH zones AS (
            SELECT DISTINCT zone FROM device
            WHERE council = %(council)s AND kind = 'counter' AND zone IS NOT NULL
        ),
        slots AS (
            SELECT z.zone, g.ts
            FROM zones z,
                 generate_series(%(start)s::timestamptz,
                                 %(start)s::timestamptz + make_interval(hours => %(n)s - 1),
                                 INTERVAL '1 hour') AS g(ts)
        ),
        counted AS (
            SELECT zone, bucket, count FROM footfall_hourly_zone
            WHERE council = %(council)s
              AND bucket >= %(since)s AND bucket < %(until)s
        )
        SELECT s.zone, s.ts,
               a.count::float8 AS actual,
               f.forecast, f.lo80, f.hi80,
               coalesce(f.usual, (
                   SELECT avg(p.count)::float8 FROM counted p
                   WHERE p.zone = s.zone AND p.bucket IN (
                       s.ts - INTERVAL '1 week', s.ts - INTERVAL '2 weeks',
                       s.ts - INTERVAL '3 weeks', s.ts - INTERVAL '4 weeks')
               )) AS usual
        FROM slots s
        LEFT JOIN counted a ON a.zone = s.zone AND a.bucket = s.ts
        LEFT JOIN footfall_forecast f
          ON f.council = %(council)s AND f.series = 'zone:' || s.zone AND f.ts = s.ts
        ORDER BY s.zone, s.ts
        """,
        {
            "council": council,
            "start": start,
            "n": hours,
            # Bounds as plain values, so that they reach the index through the tenant's
            # filtering views (whose security barrier keeps expressions above them).
            "since": start - timedelta(weeks=4),
            "until": min(_this_hour(), start + timedelta(hours=hours)),
        },
    )


def _this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
