"""Devices' readings over HTTP: ``POST /v1/councils/{council}/devices/{device_id}/readings``.

For cellular devices that cannot speak MQTT. Like the drive uploads, the route is ``async``
because it reads the body itself, in chunks, up to the size cap; the per-device rate limit is
checked on the event loop, everything that blocks (the password check, decoding, the database)
runs in the thread pool, and it writes as the service's own user on a pooled connection.
"""

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from api.deps import CouncilPath
from api.device_readings import (
    MAX_REASONS,
    NDJSON,
    PAYLOAD_MODELS,
    Batch,
    DevicePasswords,
    DeviceRefused,
    ReadingsPublic,
    ReadingsRefused,
    TooManyReadings,
    authenticate,
    parse_readings,
    quarantine_body,
    store_readings,
)
from api.rate_limit import DeviceLimits
from api.settings import ApiSettings
from api.uploads import body_schema, error_response, on_pool, read_capped, refuse_declared
from ingest.contract.topics import DEVICE_ID_PATTERN

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/councils/{council}", tags=["devices"])

_basic = HTTPBasic(
    auto_error=False,
    scheme_name="DeviceLogin",
    description="The device's broker login: its id and the password from "
    "'smartstreets devices credentials'.",
)
DevicePath = Annotated[
    str, Path(pattern=f"^{DEVICE_ID_PATTERN}$", description="The registered device's id.")
]
WHAT = "a device's readings"

DESCRIPTION = f"""\
A bin or people counter that cannot speak MQTT posts what it would have published: one reading
(`application/json`, exactly the MQTT payload of its stream: `bin-fill` for a bin, `footfall`
for a counter) or a batch of them, one a line (`{NDJSON}`). Each reading is checked by the same
decoder, registry checks and writer as MQTT ingest, all in one transaction: 202 is answered only
after the commit, with how many readings were written, were already stored (retrying is
harmless: a reading's natural key stores it once) and went to quarantine, with the first
{MAX_REASONS} reasons. As on MQTT, a reading that breaks the contract is quarantined (its raw
line and the reason) and does not stop the others; a body that is not JSON at all is refused
whole (422) and kept in quarantine.

Log in with HTTP Basic: the device id and its broker password (`smartstreets devices
credentials`); a wrong or missing login is 401, a device of another council 403. Requests are
limited per device (429 with `Retry-After`), in size and in readings (413).
"""

READING = {"oneOf": [body_schema(m) for m in PAYLOAD_MODELS]}
"""One reading of either registered kind of device: its MQTT payload."""

_UNAUTHORIZED = {
    **error_response("No login, or not this device's id and broker password."),
    "headers": {"WWW-Authenticate": {"description": "Basic", "schema": {"type": "string"}}},
}


def _state(request: Request) -> tuple[DeviceLimits, DevicePasswords]:
    """The app's device rate limits and broker logins, made on first use (event loop only)."""
    state = request.app.state
    if not hasattr(state, "device_readings"):
        settings: ApiSettings = state.settings
        state.device_readings = (
            DeviceLimits(settings, state.rate_buckets),
            DevicePasswords(settings.device_passwords_file),
        )
    found: tuple[DeviceLimits, DevicePasswords] = state.device_readings
    return found


def _refused(exc: DeviceRefused) -> HTTPException:
    headers = {"WWW-Authenticate": 'Basic realm="devices"'} if exc.status == 401 else None
    return HTTPException(exc.status, exc.detail, headers=headers)


def _is_ndjson(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media in (NDJSON, "application/ndjson")


@router.post(
    "/devices/{device_id}/readings",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReadingsPublic,
    summary="Post a device's readings over HTTP",
    description=DESCRIPTION,
    responses={
        401: _UNAUTHORIZED,
        403: error_response("The device belongs to another council."),
        413: error_response("The body is over the size cap or holds too many readings."),
        422: error_response("The body is not JSON at all; it went to quarantine."),
        429: error_response("Too many requests from this device; see Retry-After."),
        503: error_response("The database is unavailable; retry later."),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": READING},
                NDJSON: {
                    "schema": {
                        "type": "array",
                        "items": READING,
                        "description": "Readings, each a JSON object as for application/json, "
                        "sent one a line (shown here as an array).",
                    }
                },
            },
        }
    },
)
async def post_readings(
    council: CouncilPath,
    device_id: DevicePath,
    request: Request,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> ReadingsPublic:
    """Store a device's readings (see the description)."""
    settings: ApiSettings = request.app.state.settings
    prefix: str = request.app.state.mqtt_prefix
    limits, passwords = _state(request)
    cap = settings.device_readings_max_bytes
    refuse_declared(request, cap, WHAT)
    login = None if credentials is None else (credentials.username, credentials.password)
    try:
        device = await on_pool(
            request, lambda conn: authenticate(conn, passwords, council, device_id, login)
        )
    except DeviceRefused as exc:
        raise _refused(exc) from None
    await limits.check_device(device_id)
    body = await read_capped(request, cap, WHAT)
    received_at = datetime.now(UTC)
    max_lines = settings.device_readings_max_lines
    try:
        batch: Batch = await run_in_threadpool(
            parse_readings, prefix, device, body, _is_ndjson(request), max_lines, received_at
        )
    except TooManyReadings as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except ReadingsRefused as refused:
        reason = refused.reason
        await on_pool(
            request, lambda conn: quarantine_body(conn, prefix, device, body, reason, received_at)
        )
        log.info("readings refused device=%s bytes=%d: %s", device_id, len(body), reason)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, reason) from None
    stored = await on_pool(request, lambda conn: store_readings(conn, device, batch))
    log.info(
        "readings stored device=%s council=%s readings=%d written=%d duplicates=%d quarantined=%d",
        device_id,
        council,
        stored.readings,
        stored.written,
        stored.duplicates,
        stored.quarantined,
    )
    return stored
