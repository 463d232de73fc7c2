"""Named SQL queries of the pages' maps: the council's roads in a frame, and its zones."""

import psycopg

from analytics.geo.bbox import BBox, widened
from api.pages.road_layer import Road
from api.pages.zone_map import ZoneArea


def roads_in_bbox(conn: psycopg.Connection, council: str, bbox: BBox) -> list[Road]:
    """The council's road segments that may cross ``bbox`` (min lon, min lat, max lon,
    max lat): those starting within the council's longest segment of it, by segment id."""
    row = conn.execute(
        "SELECT coalesce(max(length_m), 0) FROM road_segment WHERE council = %s", (council,)
    ).fetchone()
    box = widened(bbox, float(row[0]) if row else 0.0)
    rows = conn.execute(
        """
        SELECT name, road_class, lats, lons FROM road_segment
        WHERE council = %(council)s
          AND lats[1] BETWEEN %(min_lat)s AND %(max_lat)s
          AND lons[1] BETWEEN %(min_lon)s AND %(max_lon)s
        ORDER BY segment_id
        """,
        {"council": council, **box._asdict()},
    ).fetchall()
    return [
        Road(name, road_class, tuple(zip(lats, lons, strict=True)))
        for name, road_class, lats, lons in rows
    ]


def roads_credit(conn: psycopg.Connection, council: str) -> str | None:
    """Whose map data the council's roads are (``smartstreets potholes roads --attribution``),
    to show under every map that draws them."""
    row = conn.execute(
        "SELECT roads_attribution FROM council WHERE slug = %s", (council,)
    ).fetchone()
    return None if row is None else row[0]


def zone_areas(conn: psycopg.Connection, council: str) -> list[ZoneArea]:
    """Each zone of the council that has counters or a ``council_zone`` row: its name for
    people (the slug when it has none), its boundary if drawn, its counters' positions; by
    zone."""
    rows = conn.execute(
        """
        SELECT zone, coalesce(n.display_name, zone), n.boundary,
               coalesce(c.lats, '{}'), coalesce(c.lons, '{}')
        FROM (
            SELECT zone, array_agg(lat ORDER BY device_id) AS lats,
                   array_agg(lon ORDER BY device_id) AS lons
            FROM device WHERE council = %(council)s AND kind = 'counter'
            GROUP BY zone
        ) AS c
        FULL JOIN (
            SELECT zone, display_name, boundary FROM council_zone WHERE council = %(council)s
        ) AS n USING (zone)
        ORDER BY zone
        """,
        {"council": council},
    ).fetchall()
    return [
        ZoneArea(zone, name, boundary, tuple(zip(lats, lons, strict=True)))
        for zone, name, boundary, lats, lons in rows
    ]
