"""Residents and open data: no token, aggregated counts only, cacheable."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from analytics.forecasting.levels import busy_level
from api.deps import Conn, Settings, known_council
from api.queries import zone_counts_now
from api.schemas import ErrorPublic, ZoneNowPublic

router = APIRouter(
    prefix="/v1/councils/{council}", tags=["public"], responses={404: {"model": ErrorPublic}}
)


@router.get("/zones/now", response_model=list[ZoneNowPublic])
def zones_now(
    council: Annotated[str, Depends(known_council)],
    conn: Conn,
    settings: Settings,
    response: Response,
) -> list[ZoneNowPublic]:
    """How busy each town-centre zone is now, compared with the same hour of the week."""
    now = datetime.now(UTC)
    zones = []
    for row in zone_counts_now(conn, council, now, settings.stale_after_min):
        level, reason = busy_level(
            row["count_last_hour"],
            row["usual_count"],
            row["counters_reporting"],
            row["counters_total"],
        )
        zones.append(ZoneNowPublic(as_of=now, level=level, reason=reason, **row))
    response.headers["Cache-Control"] = "public, max-age=60"
    return zones
