"""Plain HTML pages (``api.pages``): the index, and the crews' entry page."""

from datetime import UTC, datetime
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import thread_conn
from api.pages.entry import crew_entry_page
from api.pages.home import index_page
from api.queries import councils, zone_counts_now
from api.response_cache import cached_body
from api.settings import ApiSettings
from api.static_files import static_response

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    """Each council's zones and how busy they are now, with links for developers.

    The same for everyone and one query per council (50 on a shared service: 70 ms), so it is
    rendered once per ``SMARTSTREETS_API_PUBLIC_CACHE_S`` in each process, like the public
    answers.
    """
    body = await cached_body(request, ("index", ""), partial(_render_index, request))
    return HTMLResponse(body, headers={"Cache-Control": "public, max-age=60"})


def _render_index(request: Request) -> bytes:
    settings: ApiSettings = request.app.state.settings
    now = datetime.now(UTC)
    with thread_conn(request) as conn:
        listed = [
            (council, zone_counts_now(conn, council["slug"], now, settings.stale_after_min))
            for council in councils(conn)
        ]
    return index_page(listed, now).encode()


@router.get("/crew", response_class=HTMLResponse)
def crew() -> HTMLResponse:
    """The crews' entry page: pick the shift, then a vehicle's printable route."""
    return HTMLResponse(crew_entry_page(), headers={"Cache-Control": "no-store"})


@router.get("/page-refresh.js")
def page_refresh() -> Response:
    """The script that refreshes the index and the residents' page in place."""
    return static_response("page-refresh.js")
