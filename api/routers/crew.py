"""Waste crews (scope ``crew``)."""

from fastapi import APIRouter

from analytics.places import device_streets
from api.deps import Conn, CouncilPath, Crew, Settings
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
    principal: Crew,
) -> list[BinFillPublic]:
    """Every bin of the council with its latest fill level, flags and battery."""
    rows = latest_fill_by_bin(conn, council, settings.stale_after_min)
    streets = device_streets(conn, council, "bin")
    return [BinFillPublic.model_validate(r | {"street": streets.get(r["device_id"])}) for r in rows]
