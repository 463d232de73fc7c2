"""The drive app: its page, script, service worker, manifest and the detector's parameters.

Everything is served from this server (no CDN), so the app installs and works offline after the
first visit. The service worker lives at ``/drive-sw.js`` so that its scope, ``/drive``, covers
the page (``/drive?council=C``) and its files (``/drive/...``).
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from analytics.potholes.phone_upload import phone_params
from api.deps import Conn
from api.pages.drive import drive_page, manifest
from api.static_files import REVALIDATE, static_response
from ingest.db.councils import drives_enabled, find_council

router = APIRouter(tags=["pages"], include_in_schema=False)

CouncilQuery = Annotated[
    str, Query(pattern=r"^[a-z0-9-]{1,40}$", description="Council slug, e.g. 'newtown'.")
]


def _council(conn: Conn, council: str) -> tuple[str, bool]:
    found = find_council(conn, council)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown council {council!r}")
    return found.name, drives_enabled(conn, council)


@router.get("/drive", response_class=HTMLResponse)
def drive(council: CouncilQuery, conn: Conn) -> HTMLResponse:
    """The drive app of a council."""
    name, enabled = _council(conn, council)
    return HTMLResponse(drive_page(council, name, enabled), headers=REVALIDATE)


@router.get("/drive/manifest.webmanifest")
def drive_manifest(council: CouncilQuery, conn: Conn) -> JSONResponse:
    """The web app manifest, so the app can be added to a phone's home screen."""
    name, _ = _council(conn, council)
    return JSONResponse(
        manifest(council, name), media_type="application/manifest+json", headers=REVALIDATE
    )


@router.get("/drive/params.json")
def drive_params() -> JSONResponse:
    """The detector's and roughness measure's parameters, from the server's reference code."""
    return JSONResponse(phone_params(), headers=REVALIDATE)


@router.get("/drive/app.js")
def drive_app() -> Response:
    """The app's script."""
    return static_response("drive.js")


@router.get("/drive/streetbump.js")
def drive_detector() -> Response:
    """The detector and roughness measure, ported from the server's reference code."""
    return static_response("streetbump.js")


@router.get("/drive/icon.svg")
def drive_icon() -> Response:
    """The app's icon."""
    return static_response("drive-icon.svg")


@router.get("/drive-sw.js")
def drive_worker() -> Response:
    """The service worker that keeps the app working offline."""
    return static_response("drive-sw.js")
