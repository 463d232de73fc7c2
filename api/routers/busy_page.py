"""The residents' page of a council (``api.pages.busy``): how busy each zone is now, the best
time to visit today, and a chart of today and tomorrow."""

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from analytics.forecasting.levels import CrowdThresholds
from api.busy_queries import local_days, zone_peaks
from api.deps import Conn, Settings, known_council
from api.map_queries import roads_credit, roads_in_bbox, zone_areas
from api.pages.busy import busy_page as render_busy_page
from api.pages.busy import hour_points
from api.pages.zone_map import zone_frame
from api.queries import zone_counts_now, zone_day_hours
from ingest.db.councils import council_name, council_timezone

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/councils/{council}", response_class=HTMLResponse)
def busy_page(
    council: Annotated[str, Depends(known_council)], conn: Conn, settings: Settings
) -> HTMLResponse:
    """How busy each zone of the council is now, the best time to visit today, and a chart of
    today and tomorrow."""
    now = datetime.now(UTC)
    tz = ZoneInfo(council_timezone(conn, council))
    local = now.astimezone(tz)
    peaks = zone_peaks(
        conn, council, now, settings.stale_after_min, CrowdThresholds().peak_quantile
    )
    zones = [
        {**row, **peaks.get(row["zone"], {})}
        for row in zone_counts_now(conn, council, now, settings.stale_after_min)
    ]
    areas = zone_areas(conn, council)
    frame = zone_frame(areas)
    page = render_busy_page(
        council_name(conn, council),
        council,
        zones,
        hour_points(zone_day_hours(conn, council, *local_days(local)), tz),
        local,
        areas,
        [] if frame is None else roads_in_bbox(conn, council, frame.bbox()),
        roads_credit(conn, council),
    )
    return HTMLResponse(page, headers={"Cache-Control": "public, max-age=60"})
