"""GeoJSON features of the highways endpoints, which the highways map page draws too.

Road coverage: each segment carries its passes over the last 30 days and a level: ``unseen``
(no pass), ``rare`` (fewer than ``MIN_PHONES`` distinct phones; the count itself is withheld,
as on the heatmap), ``low`` (under ``WELL_COVERED`` passes) or ``covered``. Heatmap: the
k-anonymous H3 cells of :mod:`analytics.potholes.heatmap` as polygons.
"""

from collections.abc import Iterable
from typing import Any

import h3
import psycopg

from analytics.geo.bbox import BBox
from analytics.potholes.heatmap import (
    MIN_PHONES,
    REPORT_DAYS,
    HeatCell,
    coverage_level,
    heat_cells,
)
from analytics.potholes.roughness import iri_class
from api.pothole_queries import bump_reports_in_bbox, open_pothole_positions


def coverage_features(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GeoJSON LineString features of segment rows from ``coverage_in_bbox``."""
    features = []
    for r in rows:
        level = coverage_level(r["passes"], r["phones"])
        shown = level in ("low", "covered")
        features.append(
            {
                "type": "Feature",
                "id": r["segment_id"],
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(lon, 6), round(lat, 6)]
                        for lat, lon in zip(r["lats"], r["lons"], strict=True)
                    ],
                },
                "properties": {
                    "segment_id": r["segment_id"],
                    "name": r["name"],
                    "road_class": r["road_class"],
                    "length_m": round(float(r["length_m"]), 1),
                    "level": level,
                    "passes": r["passes"] if shown else None,
                    "phones": r["phones"] if shown else None,
                    "last_pass": r["last_pass"].isoformat() if shown and r["last_pass"] else None,
                    **_roughness(r),
                },
            }
        )
    return features


def _roughness(row: dict[str, Any]) -> dict[str, Any]:
    """A segment's median roughness and its class, withheld below ``MIN_PHONES`` phones."""
    iri = row.get("iri_m_per_km")
    if iri is None or row.get("iri_phones", 0) < MIN_PHONES:
        return {"iri_m_per_km": None, "roughness": None}
    return {"iri_m_per_km": round(float(iri), 2), "roughness": iri_class(float(iri))}


def cell_features(cells: Iterable[HeatCell]) -> list[dict[str, Any]]:
    """GeoJSON Polygon features (closed rings, lon-lat) of heatmap cells."""
    return [_cell_feature(c) for c in cells]


def _cell_feature(cell: HeatCell) -> dict[str, Any]:
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell.cell)]
    ring.append(ring[0])
    return {
        "type": "Feature",
        "id": cell.cell,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "cell": cell.cell,
            "reports": cell.reports,
            "phones": cell.phones,
            "roughness": round(cell.roughness, 3),
            "potholes": cell.potholes,
        },
    }


def heatmap_features(
    conn: psycopg.Connection, council: str, box: BBox, resolution: int
) -> list[dict[str, Any]]:
    """The published H3 cells at ``resolution`` of the council's recent reports inside
    ``box``, as GeoJSON features. Cells come from the reports inside the box, so a hexagon
    straddling its edge counts only the reports inside it."""
    reports = bump_reports_in_bbox(conn, council, box, REPORT_DAYS)
    potholes = open_pothole_positions(conn, council, box)
    return cell_features(heat_cells(reports, potholes, resolution))
