"""Road coverage for highways teams (scope ``highways``): passes per road segment as GeoJSON.

A road without bump reports is smooth only if phones drive it. Each segment carries its passes
over the last 30 days and a level: ``unseen`` (no pass), ``rare`` (fewer than 3 distinct
phones; the count itself is withheld, as on the heatmap), ``low`` (under ``WELL_COVERED``
passes) or ``covered`` (``analytics.potholes.heatmap.coverage_level``). Segments measured by
at least 3 phones also carry their median roughness (``iri_m_per_km``, estimated International
Roughness Index) and its class (good, fair, poor, very poor).
"""

from typing import Any

from fastapi import APIRouter

from api.deps import Conn, CouncilPath, Highways
from api.features import coverage_features
from api.params import OptionalBBox
from api.pothole_queries import coverage_in_bbox
from api.schemas import TOKEN_ERRORS

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["highways"],
    responses=TOKEN_ERRORS,
)


@router.get("/coverage", responses={200: {"content": {"application/geo+json": {}}}})
def coverage(
    council: CouncilPath, conn: Conn, principal: Highways, box: OptionalBBox
) -> dict[str, Any]:
    """GeoJSON FeatureCollection of road segments with passes over the last 30 days and a
    coverage level (unseen, rare, low, covered) and, from 3 phones, the median roughness
    (``iri_m_per_km``) and its class; passes and roughness are withheld below 3 phones."""
    rows = coverage_in_bbox(conn, council, box)
    refreshed = max((r["refreshed_at"] for r in rows if r["refreshed_at"]), default=None)
    return {
        "type": "FeatureCollection",
        "refreshed_at": refreshed.isoformat() if refreshed else None,
        "features": coverage_features(rows),
    }
