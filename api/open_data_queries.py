"""Named SQL queries of the open-data exports: aggregates only, never a phone id."""

from dataclasses import asdict
from datetime import datetime
from typing import Any

import psycopg

from api.pothole_queries import EXPORTED_STATES
from api.queries import LATEST_BIN_READING, all_rows, latest_since
from ingest.db.councils import find_council


def open_data_council(conn: psycopg.Connection, council: str) -> dict[str, Any] | None:
    """A council's slug, name and time zone; ``None`` when it is not registered."""
    found = find_council(conn, council)
    return None if found is None else asdict(found)


def open_data_coverage(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every council with the first and last time of each published dataset (``None`` when
    there is no data); each bound is one index probe."""
    return all_rows(
        conn,
        """
        SELECT c.slug, c.name, c.timezone, c.open_data_licence,
            (SELECT period_start FROM footfall_count f WHERE f.council = c.slug
             ORDER BY period_start LIMIT 1) AS footfall_start,
            (SELECT period_start FROM footfall_count f WHERE f.council = c.slug
             ORDER BY period_start DESC LIMIT 1) AS footfall_end,
            (SELECT ts FROM bin_fill b WHERE b.council = c.slug ORDER BY ts LIMIT 1)
                AS bins_start,
            (SELECT ts FROM bin_fill b WHERE b.council = c.slug ORDER BY ts DESC LIMIT 1)
                AS bins_end,
            (SELECT min(first_seen) FROM pothole p
             WHERE p.council = c.slug AND p.state = ANY(%(states)s)) AS potholes_start,
            (SELECT max(last_seen) FROM pothole p
             WHERE p.council = c.slug AND p.state = ANY(%(states)s)) AS potholes_end,
            (SELECT min(refreshed_at) FROM road_coverage r
             WHERE r.council = c.slug AND r.iri_m_per_km IS NOT NULL) AS roughness_start,
            (SELECT max(refreshed_at) FROM road_coverage r
             WHERE r.council = c.slug AND r.iri_m_per_km IS NOT NULL) AS roughness_end
        FROM council c
        ORDER BY c.slug
        """,
        {"states": list(EXPORTED_STATES)},
    )


def footfall_hourly_by_zone(
    conn: psycopg.Connection, council: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """People counted per zone and hour starting in [start, end), with the counters that
    reported; by hour, then zone."""
    return all_rows(
        conn,
        """
        SELECT zone, bucket, count, counters
        FROM footfall_hourly_zone
        WHERE council = %(council)s AND bucket >= %(start)s AND bucket < %(end)s
        ORDER BY bucket, zone
        """,
        {"council": council, "start": start, "end": end},
    )


def bin_fill_daily_by_zone(
    conn: psycopg.Connection, council: str, start: datetime, end: datetime, timezone: str
) -> list[dict[str, Any]]:
    """Per local day (in ``timezone``) and bin zone, over readings in [start, end): bins
    reporting, readings, mean, median and 90th percentile fill, and bins reading 80% or more."""
    return all_rows(
        conn,
        """
        SELECT (b.ts AT TIME ZONE %(tz)s)::date AS day,
               d.zone,
               count(DISTINCT b.device_id) AS bins_reporting,
               count(*) AS readings,
               avg(b.fill_pct) AS mean_fill_pct,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY b.fill_pct) AS median_fill_pct,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY b.fill_pct) AS p90_fill_pct,
               count(DISTINCT b.device_id) FILTER (WHERE b.fill_pct >= 80)
                   AS bins_at_or_over_80
        FROM bin_fill b
        JOIN device d ON d.device_id = b.device_id AND d.council = b.council
        WHERE b.council = %(council)s AND b.ts >= %(start)s AND b.ts < %(end)s
        GROUP BY 1, 2
        ORDER BY 1, 2 NULLS LAST
        """,
        {"council": council, "start": start, "end": end, "tz": timezone},
    )


def public_potholes(
    conn: psycopg.Connection, council: str, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """A council's confirmed-or-later potholes (``EXPORTED_STATES``), optionally only those
    seen within [start, end); no phone counts, by id."""
    return all_rows(
        conn,
        """
        SELECT pothole_id, lat, lon, severity, confidence, first_seen, last_seen, state
        FROM pothole
        WHERE council = %(council)s AND state = ANY(%(states)s)
          AND (%(start)s::timestamptz IS NULL OR last_seen >= %(start)s::timestamptz)
          AND (%(end)s::timestamptz IS NULL OR first_seen < %(end)s::timestamptz)
        ORDER BY pothole_id
        """,
        {"council": council, "states": list(EXPORTED_STATES), "start": start, "end": end},
    )


def public_roughness(
    conn: psycopg.Connection, council: str, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """A council's road segments with a median roughness, optionally only those refreshed
    within [start, end); with how many phones measured each, for the caller to withhold."""
    return all_rows(
        conn,
        """
        SELECT s.segment_id, s.name, s.road_class, s.length_m, s.lats, s.lons,
               c.iri_m_per_km, c.iri_phones, c.refreshed_at
        FROM road_segment s JOIN road_coverage c USING (council, segment_id)
        WHERE s.council = %(council)s AND c.iri_m_per_km IS NOT NULL
          AND (%(start)s::timestamptz IS NULL OR c.refreshed_at >= %(start)s::timestamptz)
          AND (%(end)s::timestamptz IS NULL OR c.refreshed_at < %(end)s::timestamptz)
        ORDER BY s.segment_id
        """,
        {"council": council, "start": start, "end": end},
    )


def latest_bin_states(conn: psycopg.Connection, council: str) -> list[dict[str, Any]]:
    """Every bin of a council with its position, latest reading (fill, flags, temperature,
    time; ``None`` if never heard from) and last recorded emptying."""
    return all_rows(
        conn,
        """
        SELECT d.device_id, d.lat, d.lon, d.address, d.capacity_litres,
               f.fill_pct, f.ts, f.temperature_c, coalesce(f.flags, '{}') AS flags,
               (SELECT max(collected_at) FROM bin_collection c
                WHERE c.device_id = d.device_id) AS last_emptied
        FROM device d
        """  # noqa: S608 (a constant fragment, no value)
        + LATEST_BIN_READING
        + """
        WHERE d.council = %(council)s AND d.kind = 'bin'
        ORDER BY d.device_id
        """,
        {"council": council, "recent": latest_since()},
    )


def latest_zone_hours(
    conn: psycopg.Connection, council: str, before: datetime
) -> list[dict[str, Any]]:
    """Per zone, its latest hour ending by ``before`` (complete hours only) within the last
    week: people counted and counters reporting; by zone."""
    return all_rows(
        conn,
        """
        SELECT DISTINCT ON (zone) zone, bucket, count, counters
        FROM footfall_hourly_zone
        WHERE council = %(council)s
          AND bucket <= %(before)s - INTERVAL '1 hour'
          AND bucket > %(before)s - INTERVAL '7 days'
        ORDER BY zone, bucket DESC
        """,
        {"council": council, "before": before},
    )
