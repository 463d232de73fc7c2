"""Named SQL queries of the potholes API; the router calls these and never holds SQL itself."""

from typing import Any

import psycopg

from analytics.geo.bbox import WORLD, BBox, widened
from analytics.places import describe_points
from api.queries import all_rows

EXPORTED_STATES = ("confirmed", "reported", "repaired", "reopened")
"""States worth a highways team's attention: candidates are unproven, duplicates merged."""

_COLUMNS = """
    pothole_id, lat, lon, heading_deg, severity, confidence, reports, devices,
    first_seen, last_seen, state, state_changed_at, duplicate_of
"""


def _box(bbox: BBox | None) -> dict[str, float]:
    """The query parameters of a bounding box (everywhere when ``None``)."""
    box = bbox or WORLD
    return {
        "min_lon": box.min_lon,
        "max_lon": box.max_lon,
        "min_lat": box.min_lat,
        "max_lat": box.max_lat,
    }


def potholes_in_bbox(
    conn: psycopg.Connection,
    council: str,
    bbox: BBox | None,
    state: str | None,
    min_confidence: float,
) -> list[dict[str, Any]]:
    """A council's potholes, optionally inside a bounding box (min lon, min lat, max lon,
    max lat) and in one state, with at least ``min_confidence``; most confident first."""
    rows = all_rows(
        conn,
        "SELECT"
        + _COLUMNS
        + """
        FROM pothole
        WHERE council = %(council)s AND confidence >= %(min_confidence)s
          AND (%(state)s::text IS NULL OR state = %(state)s::text)
          AND lon BETWEEN %(min_lon)s AND %(max_lon)s
          AND lat BETWEEN %(min_lat)s AND %(max_lat)s
        ORDER BY confidence DESC, pothole_id
        """,
        {"council": council, "min_confidence": min_confidence, "state": state, **_box(bbox)},
    )
    return with_streets(conn, council, rows)


def potholes_for_export(conn: psycopg.Connection, council: str) -> list[dict[str, Any]]:
    """A council's confirmed potholes and those further along (``EXPORTED_STATES``), by id."""
    rows = all_rows(
        conn,
        "SELECT" + _COLUMNS + "FROM pothole WHERE council = %s AND state = ANY(%s) "
        "ORDER BY pothole_id",
        (council, list(EXPORTED_STATES)),
    )
    return with_streets(conn, council, rows)


def with_streets(
    conn: psycopg.Connection, council: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``rows`` (with ``lat`` and ``lon``), each given its ``street`` in words (or None)."""
    streets = describe_points(conn, council, ((r["lat"], r["lon"]) for r in rows))
    return [r | {"street": s} for r, s in zip(rows, streets, strict=True)]


HEATMAP_STATES = ("confirmed", "reported", "reopened")
"""Stored potholes counted on the heatmap: those still in the road."""


def bump_reports_in_bbox(
    conn: psycopg.Connection,
    council: str,
    bbox: BBox,
    days: int,
) -> list[dict[str, Any]]:
    """Position, phone and peak jolt of the council's bump reports of the last ``days`` days
    inside ``bbox`` (min lon, min lat, max lon, max lat)."""
    return all_rows(
        conn,
        """
        SELECT lat, lon, device_id, peak_z_g
        FROM bump_report
        WHERE council = %(council)s AND ts >= now() - make_interval(days => %(days)s)
          AND lon BETWEEN %(min_lon)s AND %(max_lon)s
          AND lat BETWEEN %(min_lat)s AND %(max_lat)s
        """,
        {"council": council, "days": days, **_box(bbox)},
    )


def open_pothole_positions(
    conn: psycopg.Connection, council: str, bbox: BBox
) -> list[tuple[float, float]]:
    """``(lat, lon)`` of the council's potholes in ``HEATMAP_STATES`` inside ``bbox``."""
    rows = all_rows(
        conn,
        """
        SELECT lat, lon FROM pothole
        WHERE council = %(council)s AND state = ANY(%(states)s)
          AND lon BETWEEN %(min_lon)s AND %(max_lon)s AND lat BETWEEN %(min_lat)s AND %(max_lat)s
        """,
        {"council": council, "states": list(HEATMAP_STATES), **_box(bbox)},
    )
    return [(float(r["lat"]), float(r["lon"])) for r in rows]


def coverage_in_bbox(
    conn: psycopg.Connection, council: str, bbox: BBox | None
) -> list[dict[str, Any]]:
    """The council's road segments with a point inside ``bbox`` (all when ``None``), with
    their passes and median roughness as of the last coverage refresh (0 passes when never
    refreshed)."""
    return all_rows(
        conn,
        """
        SELECT s.segment_id, s.name, s.road_class, s.lats, s.lons, s.length_m,
               coalesce(c.passes, 0) AS passes, coalesce(c.phones, 0) AS phones,
               c.last_pass, c.refreshed_at, c.iri_m_per_km,
               coalesce(c.iri_phones, 0) AS iri_phones
        FROM road_segment s
        LEFT JOIN road_coverage c USING (council, segment_id)
        WHERE s.council = %(council)s
          AND EXISTS (
              SELECT 1 FROM unnest(s.lats, s.lons) AS p(lat, lon)
              WHERE p.lon BETWEEN %(min_lon)s AND %(max_lon)s
                AND p.lat BETWEEN %(min_lat)s AND %(max_lat)s)
        ORDER BY s.segment_id
        """,
        {"council": council, **_box(bbox)},
    )


def council_extent(conn: psycopg.Connection, council: str, margin_m: float = 50.0) -> BBox | None:
    """The bounding box (min lon, min lat, max lon, max lat) of the council's road segments
    and potholes, widened by ``margin_m``; ``None`` when it has neither."""
    row = conn.execute(
        """
        SELECT min(lon), min(lat), max(lon), max(lat) FROM (
            SELECT p.lat, p.lon
            FROM road_segment s, unnest(s.lats, s.lons) AS p(lat, lon)
            WHERE s.council = %(council)s
            UNION ALL
            SELECT lat, lon FROM pothole WHERE council = %(council)s
        ) AS points
        """,
        {"council": council},
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return widened(BBox(*(float(v) for v in row)), margin_m)
