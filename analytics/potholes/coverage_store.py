"""Stored road segments and their coverage: import, refresh from trip tracks, read back."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from analytics.potholes.coverage import (
    CoverageParams,
    Segment,
    Track,
    match_passes,
)
from analytics.potholes.segment_roughness import (
    RoughStretch,
    SegmentRoughness,
    segment_roughness,
)
from ingest.db.councils import require_council

COVERAGE_DAYS = 30
"""Coverage counts the passes of this many days."""


def store_segments(
    conn: psycopg.Connection,
    council: str,
    segments: Sequence[Segment],
    attribution: str | None = None,
) -> int:
    """Replace the council's road segments (and so their coverage) with ``segments``, whose
    map data is credited as ``attribution`` wherever the roads are drawn.

    Raises
    ------
    LookupError
        An unknown council.
    ValueError
        Two segments with the same id.
    """
    ids = [s.segment_id for s in segments]
    if len(set(ids)) != len(ids):
        raise ValueError("segment ids must be unique")
    with conn.transaction():
        require_council(conn, council)
        conn.execute("DELETE FROM road_segment WHERE council = %s", (council,))
        # Street names are cached per council until its roads change (analytics.places).
        conn.execute(
            "UPDATE council SET roads_updated_at = now(), roads_attribution = %s WHERE slug = %s",
            (attribution, council),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO road_segment (council, segment_id, name, road_class, lats, lons, "
                "length_m) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        council,
                        s.segment_id,
                        s.name,
                        s.road_class,
                        [p[0] for p in s.points],
                        [p[1] for p in s.points],
                        s.length_m,
                    )
                    for s in segments
                ],
            )
    return len(segments)


def load_segments(conn: psycopg.Connection, council: str) -> list[Segment]:
    """The council's road segments, by id."""
    rows = conn.execute(
        "SELECT segment_id, name, road_class, lats, lons FROM road_segment "
        "WHERE council = %s ORDER BY segment_id",
        (council,),
    ).fetchall()
    return [
        Segment(sid, name, cls, tuple(zip(lats, lons, strict=True)))
        for sid, name, cls, lats, lons in rows
    ]


def load_trips(
    conn: psycopg.Connection, council: str, since: datetime, until: datetime
) -> tuple[list[Track], list[RoughStretch]]:
    """The council's trip tracks that ended in (``since``, ``until``], and their roughness
    stretches, in one read."""
    rows = conn.execute(
        "SELECT device_id, ts_start, ts_end, lats, lons, rough_lats, rough_lons, rough_iri "
        "FROM trip_coverage WHERE council = %s AND ts_start > %s - INTERVAL '1 day' "
        "AND ts_end > %s AND ts_end <= %s ORDER BY ts_start, device_id",
        (council, since, since, until),
    ).fetchall()
    tracks = [
        Track(d, a, b, tuple(zip(lats, lons, strict=True))) for d, a, b, lats, lons, *_ in rows
    ]
    stretches = [
        RoughStretch(device, lat, lon, iri)
        for device, *_, r_lats, r_lons, iris in rows
        if iris is not None
        for lat, lon, iri in zip(r_lats, r_lons, iris, strict=True)
    ]
    return tracks, stretches


def refresh_coverage(
    conn: psycopg.Connection,
    council: str,
    now: datetime | None = None,
    params: CoverageParams | None = None,
) -> dict[str, int]:
    """Count each segment's passes over the last ``COVERAGE_DAYS`` days, and its median
    roughness over the stretches phones measured on it, and store them.

    Returns
    -------
    dict[str, int]
        ``tracks`` read, ``segments`` counted, segments ``passed`` at least once and segments
        with a roughness (``rough``).
    """
    now = now or datetime.now(UTC)
    with conn.transaction():
        segments = load_segments(conn, council)
        tracks, stretches = load_trips(conn, council, now - timedelta(days=COVERAGE_DAYS), now)
        found = match_passes(segments, tracks, params)
        radius = (params or CoverageParams()).match_radius_m
        rough = {r.segment_id: r for r in segment_roughness(segments, stretches, radius)}
        conn.execute("DELETE FROM road_coverage WHERE council = %s", (council,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO road_coverage (council, segment_id, passes, phones, last_pass, "
                "refreshed_at, iri_m_per_km, iri_phones, iri_stretches) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        council,
                        c.segment_id,
                        c.passes,
                        c.phones,
                        c.last_pass,
                        now,
                        *_roughness_of(rough.get(c.segment_id)),
                    )
                    for c in found
                ],
            )
    return {
        "tracks": len(tracks),
        "segments": len(found),
        "passed": sum(1 for c in found if c.passes),
        "rough": len(rough),
    }


def _roughness_of(r: SegmentRoughness | None) -> tuple[float | None, int, int]:
    return (None, 0, 0) if r is None else (r.iri_m_per_km, r.phones, r.stretches)
