"""Residents' drives: ``POST /v1/councils/{council}/drives``, anonymous, for opted-in councils.

The route is ``async`` because it reads the body itself, in chunks, refusing it once it passes
the size cap; the rate limits are checked on the event loop, and everything that blocks
(decoding, the database) runs in the thread pool. It writes as the service's own user, like
ingest, on a connection of its own from the pool: not the tenant-scoped ``Conn``, since the
writer needs the salts and the quarantine that the tenant role may not touch.
"""

import logging
from datetime import UTC, datetime

import psycopg
from fastapi import APIRouter, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from api.deps import CouncilPath
from api.drive_upload import (
    Drive,
    DriveCreate,
    DrivePublic,
    DriveRefused,
    parse_drive,
    quarantine_drive,
    store_drive,
)
from api.rate_limit import DriveLimits
from api.settings import ApiSettings
from api.uploads import (
    body_schema,
    error_response,
    on_pool,
    read_capped,
    refuse_declared,
)
from ingest.db.councils import UnknownCouncil, drives_enabled

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/councils/{council}", tags=["drives"])


DESCRIPTION = """\
A resident's phone uploads one finished drive: its bump reports and coverage track, exactly as
the phone would publish them on MQTT (`bump` and `coverage` streams, with `phone` as the device
id). They are checked by the same decoder and stored by the same writer as MQTT ingest, with the
phone's id pseudonymised, together with the drive's trip token, in one transaction: 202 is
answered only after the commit.

Uploading the same `trip` again stores nothing and answers 202 with `"already stored"`, so the
app may retry until it sees a 202. No token is needed, but the council must have enabled drives
(`smartstreets councils set C --drives`). A drive with anything wrong is refused whole (422,
naming the first fault, e.g. `reports[3]: out of range: peak_z_g: …`) and its body is kept in
quarantine for the council's operators. Uploads are limited per client address and per trip
(429 with `Retry-After`) and in size (413).
"""


def _require_drives(conn: psycopg.Connection, council: str) -> None:
    try:
        enabled = drives_enabled(conn, council)
    except UnknownCouncil:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown council {council!r}") from None
    if not enabled:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"drives are not enabled for council {council}; a council admin enables them with "
            f"'smartstreets councils set {council} --drives'",
        )


async def _quarantine(
    request: Request, council: str, body: bytes, refused: DriveRefused, at: datetime
) -> None:
    await on_pool(request, lambda conn: quarantine_drive(conn, council, body, refused, at))
    log.info("drive refused council=%s bytes=%d: %s", council, len(body), refused.reason)


@router.post(
    "/drives",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DrivePublic,
    summary="Upload a finished drive",
    description=DESCRIPTION,
    responses={
        403: error_response("The council has not enabled drives."),
        404: error_response("Unknown council."),
        413: error_response("The body is over the size cap."),
        422: error_response("The drive breaks the contract; its body went to quarantine."),
        429: error_response("Too many uploads from this address or of this trip; see Retry-After."),
        503: error_response("The database is unavailable; retry later."),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body_schema(DriveCreate)}},
        }
    },
)
async def upload_drive(council: CouncilPath, request: Request) -> DrivePublic:
    """Store one drive of a resident's phone (see the description)."""
    settings: ApiSettings = request.app.state.settings
    limits: DriveLimits = request.app.state.drive_limits
    prefix: str = request.app.state.mqtt_prefix
    cap = settings.drive_max_bytes
    refuse_declared(request, cap, "a drive")
    await limits.check_client(limits.address(request.scope))
    await on_pool(request, lambda conn: _require_drives(conn, council))
    body = await read_capped(request, cap, "a drive")
    received_at = datetime.now(UTC)
    try:
        drive: Drive = await run_in_threadpool(parse_drive, prefix, council, body, received_at)
    except DriveRefused as refused:
        await _quarantine(request, council, body, refused, received_at)
        reason = refused.reason.replace("\x00", "\\x00")
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, reason) from None
    await limits.check_trip(council, drive.trip)
    stored = await on_pool(request, lambda conn: store_drive(conn, council, drive))
    log.info(
        "drive %s council=%s reports=%d duplicates=%d coverage=%d",
        stored.status,
        council,
        stored.reports,
        stored.duplicates,
        stored.coverage,
    )
    return stored
