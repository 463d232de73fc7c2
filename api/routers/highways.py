"""Highways teams (scope ``highways``)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Conn, CouncilPath, Highways
from api.params import RequiredBBox, unprocessable
from api.queries import bumps_in_bbox
from api.schemas import TOKEN_ERRORS, BumpPublic
from ingest.kernel.params import require

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["highways"],
    responses=TOKEN_ERRORS,
)


@router.get("/bumps", response_model=list[BumpPublic])
def bumps(
    council: CouncilPath,
    conn: Conn,
    principal: Highways,
    box: RequiredBBox,
    since: Annotated[datetime | None, Query(description="From (default: 7 days ago).")] = None,
    until: Annotated[datetime | None, Query(description="Until (default: now).")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[BumpPublic]:
    """Bump reports inside a bounding box, newest first; phone ids are never returned."""
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=7)
    with unprocessable():
        require(
            start.tzinfo is not None and end.tzinfo is not None,
            "since and until need a time-zone offset",
        )
        require(start < end, "since must be before until")
    rows = bumps_in_bbox(conn, council, box, start, end, limit)
    return [BumpPublic.model_validate(r) for r in rows]
