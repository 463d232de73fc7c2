"""Highways teams (scope ``highways``)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.auth import Principal, Scope
from api.deps import Conn, CouncilPath, require
from api.queries import bumps_in_bbox
from api.schemas import TOKEN_ERRORS, BumpPublic

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["highways"],
    responses=TOKEN_ERRORS,
)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse ``min_lon,min_lat,max_lon,max_lat``; raise ``ValueError`` with the problem."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError("bbox must be min_lon,min_lat,max_lon,max_lat")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise ValueError("bbox values must be numbers") from None
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise ValueError(
            "bbox must have min < max, longitudes in [-180, 180] and latitudes in [-90, 90]"
        )
    return min_lon, min_lat, max_lon, max_lat


@router.get("/bumps", response_model=list[BumpPublic])
def bumps(
    council: CouncilPath,
    conn: Conn,
    principal: Annotated[Principal, Depends(require(Scope.HIGHWAYS))],
    bbox: Annotated[str, Query(description="min_lon,min_lat,max_lon,max_lat (WGS 84).")],
    since: Annotated[datetime | None, Query(description="From (default: 7 days ago).")] = None,
    until: Annotated[datetime | None, Query(description="Until (default: now).")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[BumpPublic]:
    """Bump reports inside a bounding box, newest first; phone ids are never returned."""
    try:
        box = parse_bbox(bbox)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "since and until need a time-zone offset"
        )
    if start >= end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must be before until")
    rows = bumps_in_bbox(conn, council, box, start, end, limit)
    return [BumpPublic.model_validate(r) for r in rows]
