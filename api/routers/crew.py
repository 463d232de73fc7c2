"""Waste crews (scope ``crew``)."""

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal, Scope
from api.deps import Conn, CouncilPath, Settings, require
from api.queries import latest_fill_by_bin
from api.schemas import BinFillPublic, ErrorPublic

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["crew"],
    responses={401: {"model": ErrorPublic}, 403: {"model": ErrorPublic}},
)


@router.get("/bins/latest", response_model=list[BinFillPublic])
def bins_latest(
    council: CouncilPath,
    conn: Conn,
    settings: Settings,
    principal: Annotated[Principal, Depends(require(Scope.CREW))],
) -> list[BinFillPublic]:
    """Every bin of the council with its latest fill level, flags and battery."""
    rows = latest_fill_by_bin(conn, council, settings.stale_after_min)
    return [BinFillPublic.model_validate(r) for r in rows]
