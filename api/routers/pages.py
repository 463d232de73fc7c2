"""Plain HTML pages (``api.pages``): the index, and the crews' entry page."""

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.deps import Conn, Settings
from api.pages.entry import crew_entry_page
from api.pages.home import index_page
from api.queries import councils, zone_counts_now
from api.static_files import static_response

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(conn: Conn, settings: Settings) -> HTMLResponse:
    """Each council's zones and how busy they are now, with links for developers."""
    now = datetime.now(UTC)
    listed = [
        (council, zone_counts_now(conn, council["slug"], now, settings.stale_after_min))
        for council in councils(conn)
    ]
    return HTMLResponse(index_page(listed, now), headers={"Cache-Control": "public, max-age=60"})


@router.get("/crew", response_class=HTMLResponse)
def crew() -> HTMLResponse:
    """The crews' entry page: pick the shift, then a vehicle's printable route."""
    return HTMLResponse(crew_entry_page(), headers={"Cache-Control": "no-store"})


@router.get("/page-refresh.js")
def page_refresh() -> Response:
    """The script that refreshes the index and the residents' page in place."""
    return static_response("page-refresh.js")
