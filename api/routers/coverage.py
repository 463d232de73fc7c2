"""Road coverage for highways teams (scope ``highways``): passes per road segment as GeoJSON.

A road without bump reports is smooth only if phones drive it. Each segment carries its passes
over the last 30 days and a level: ``unseen`` (no pass), ``rare`` (fewer than 3 distinct
phones; the count itself is withheld, as on the heatmap), ``low`` (under ``WELL_COVERED``
passes) or ``covered``.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.auth import Principal, Scope
from api.deps import Conn, CouncilPath, require
from api.pothole_queries import coverage_in_bbox
from api.routers.heatmap import MIN_PHONES
from api.routers.highways import parse_bbox
from api.schemas import TOKEN_ERRORS

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["highways"],
    responses=TOKEN_ERRORS,
)

WELL_COVERED = 10
"""Passes in 30 days from which a segment's lack of reports means a smooth road."""

Level = Literal["unseen", "rare", "low", "covered"]


def coverage_level(passes: int, phones: int) -> Level:
    """How well phones cover a segment (see the module's description)."""
    if passes == 0:
        return "unseen"
    if phones < MIN_PHONES:
        return "rare"
    return "low" if passes < WELL_COVERED else "covered"


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
                },
            }
        )
    return features


@router.get("/coverage", responses={200: {"content": {"application/geo+json": {}}}})
def coverage(
    council: CouncilPath,
    conn: Conn,
    principal: Annotated[Principal, Depends(require(Scope.HIGHWAYS))],
    bbox: Annotated[
        str | None, Query(description="min_lon,min_lat,max_lon,max_lat (WGS 84); default all.")
    ] = None,
) -> dict[str, Any]:
    """GeoJSON FeatureCollection of road segments with passes over the last 30 days and a
    coverage level (unseen, rare, low, covered); passes are withheld below 3 phones."""
    try:
        box = parse_bbox(bbox) if bbox is not None else None
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    rows = coverage_in_bbox(conn, council, box)
    refreshed = max((r["refreshed_at"] for r in rows if r["refreshed_at"]), default=None)
    return {
        "type": "FeatureCollection",
        "refreshed_at": refreshed.isoformat() if refreshed else None,
        "features": coverage_features(rows),
    }
