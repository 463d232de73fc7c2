"""Pothole heatmap for highways teams (scope ``highways``): H3 hexagons as GeoJSON.

Each bump report of the last ``REPORT_DAYS`` days is placed in the H3 cell holding it, at a
resolution that follows the map's zoom (``resolution_for_zoom``). A cell is published only when
at least ``MIN_PHONES`` distinct phones reported in it (k-anonymity, the rule of
:mod:`analytics.potholes.heatmap`); phone ids are never returned. Cells are assigned from the
reports inside the bounding box, so a hexagon straddling its edge counts only the reports
inside it.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Conn, CouncilPath, Highways
from api.features import heatmap_features
from api.params import RequiredBBox
from api.schemas import TOKEN_ERRORS

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["highways"],
    responses=TOKEN_ERRORS,
)


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
    principal: Highways,
    box: RequiredBBox,
    zoom: Annotated[int, Query(ge=0, le=22, description="Web-map zoom; sets the H3 resolution.")],
) -> dict[str, Any]:
    """GeoJSON FeatureCollection of H3 hexagons with reports, distinct phones, roughness (mean
    peak vertical jolt, g) and open potholes; cells with fewer than 3 phones are left out."""
    features = heatmap_features(conn, council, box, resolution_for_zoom(zoom))
    return {"type": "FeatureCollection", "features": features}
