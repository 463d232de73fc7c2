"""Pothole heatmap for highways teams (scope ``highways``): H3 hexagons as GeoJSON.

Each bump report of the last ``REPORT_DAYS`` days is placed in the H3 cell holding it, at a
resolution that follows the map's zoom (``resolution_for_zoom``). A cell is published only when
at least ``MIN_PHONES`` distinct phones reported in it (k-anonymity: no cell reveals one or two
phones' trips); phone ids are never returned. Cells are assigned from the reports inside the
bounding box, so a hexagon straddling its edge counts only the reports inside it.
"""

from collections import defaultdict
from typing import Annotated, Any

import h3
import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.auth import Principal, Scope
from api.deps import Conn, CouncilPath, require
from api.pothole_queries import bump_reports_in_bbox, open_pothole_positions
from api.routers.highways import parse_bbox
from api.schemas import TOKEN_ERRORS
from ingest.db.pseudonyms import distinct_phones

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["highways"],
    responses=TOKEN_ERRORS,
)

MIN_PHONES = 3
"""Distinct phones a cell needs before it is published (k-anonymity, k = 3)."""
REPORT_DAYS = 90
"""Bump reports older than this are left off the heatmap."""


def resolution_for_zoom(zoom: int) -> int:
    """H3 resolution for a web-map zoom: ≤ 12 → 8 (~0.7 km² cells), 13 to 14 → 9 (~0.1 km²),
    ≥ 15 → 10 (~0.015 km²)."""
    if zoom <= 12:
        return 8
    return 9 if zoom <= 14 else 10


@router.get(
    "/heatmap",
    responses={200: {"content": {"application/geo+json": {}}}},
)
def heatmap(
    council: CouncilPath,
    conn: Conn,
    principal: Annotated[Principal, Depends(require(Scope.HIGHWAYS))],
    bbox: Annotated[str, Query(description="min_lon,min_lat,max_lon,max_lat (WGS 84).")],
    zoom: Annotated[int, Query(ge=0, le=22, description="Web-map zoom; sets the H3 resolution.")],
) -> dict[str, Any]:
    """GeoJSON FeatureCollection of H3 hexagons with reports, distinct phones, roughness (mean
    peak vertical jolt, g) and open potholes; cells with fewer than 3 phones are left out."""
    try:
        box = parse_bbox(bbox)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    features = heat_cells(conn, council, box, resolution_for_zoom(zoom))
    return {"type": "FeatureCollection", "features": features}


def heat_cells(
    conn: psycopg.Connection, council: str, box: tuple[float, float, float, float], res: int
) -> list[dict[str, Any]]:
    """The published H3 cells at resolution ``res`` of the council's reports inside ``box``,
    as GeoJSON features (cells with fewer than ``MIN_PHONES`` distinct phones left out)."""
    phones: dict[str, set[str]] = defaultdict(set)
    jolts: dict[str, list[float]] = defaultdict(list)
    for r in bump_reports_in_bbox(conn, council, box, REPORT_DAYS):
        cell = h3.latlng_to_cell(r["lat"], r["lon"], res)
        phones[cell].add(r["device_id"])
        jolts[cell].append(float(r["peak_z_g"]))
    potholes: dict[str, int] = defaultdict(int)
    for lat, lon in open_pothole_positions(conn, council, box):
        potholes[h3.latlng_to_cell(lat, lon, res)] += 1
    return [
        _feature(cell, len(jolts[cell]), distinct_phones(devices), jolts[cell], potholes[cell])
        for cell, devices in sorted(phones.items())
        if distinct_phones(devices) >= MIN_PHONES
    ]


def _feature(
    cell: str, reports: int, phones: int, jolts: list[float], holes: int
) -> dict[str, Any]:
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return {
        "type": "Feature",
        "id": cell,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "cell": cell,
            "reports": reports,
            "phones": phones,
            "roughness": round(sum(jolts) / len(jolts), 3),
            "potholes": holes,
        },
    }
