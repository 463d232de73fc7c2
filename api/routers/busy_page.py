"""The residents' page of a council (``api.pages.busy``): how busy each zone is now, the best
time to visit today, and a chart of today and tomorrow."""

from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from analytics.forecasting.levels import CrowdThresholds
from api.busy_queries import local_days, zone_peaks
from api.deps import CouncilPath, known_council, thread_conn
from api.map_queries import roads_credit, roads_in_bbox, zone_areas
from api.pages.busy import busy_page as render_busy_page
from api.pages.busy import hour_points
from api.pages.zone_map import zone_frame
from api.queries import zone_counts_now, zone_day_hours
from api.response_cache import cached_body
from api.settings import ApiSettings
from ingest.db.councils import council_name, council_timezone

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/councils/{council}", response_class=HTMLResponse)
async def busy_page(council: CouncilPath, request: Request) -> HTMLResponse:
    """How busy each zone of the council is now, the best time to visit today, and a chart of
    today and tomorrow.

    The same for every resident and a dozen queries (58 ms for a big council's year on
    TimescaleDB, ``bench/scale.py``), so it is rendered once per
    ``SMARTSTREETS_API_PUBLIC_CACHE_S`` and process, like the public answers.
    """
    body = await cached_body(request, ("busy-page", council), partial(_render, request, council))
    return HTMLResponse(body, headers={"Cache-Control": "public, max-age=60"})


def _render(request: Request, council: str) -> bytes:
    settings: ApiSettings = request.app.state.settings
    # The same connection, confined to the council, as the routes that take it as a dependency.
    with thread_conn(request) as conn:
        known_council(council, conn)
        return _page(conn, council, settings).encode()


def _page(conn: psycopg.Connection, council: str, settings: ApiSettings) -> str:
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
    return page
