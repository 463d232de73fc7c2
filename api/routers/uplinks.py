"""Network servers' uplinks by HTTP webhook: ``POST /v1/councils/{council}/uplinks/{network}``.

For a council whose The Things Stack or ChirpStack delivers uplinks by HTTP rather than by its
MQTT integration. As for devices' readings, the route is ``async`` because it reads the body
itself up to the size cap; the token check, decoding and the database run in the thread pool,
the per-token rate limit on the event loop. The token is checked on a council-scoped connection
given back before the writing one is taken (never two at once from the pool), and the uplink is
written as the service's own user, which may look devices up in every council's registry.
"""

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import Principal, Scope
from api.deps import CouncilPath, _bearer, require
from api.device_readings import MAX_REASONS
from api.rate_limit import UplinkLimits
from api.settings import ApiSettings
from api.tenancy import scope_to_council
from api.uplinks import ENVELOPE, UP_EVENT, UplinkRefused, UplinksPublic, store_uplink
from api.uploads import error_response, on_pool, read_capped, refuse_declared
from ingest.contract.lorawan import Network
from ingest.contract.payloads import MAX_PAYLOAD_BYTES

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/councils/{council}", tags=["devices"])

_check_ingest = require(Scope.INGEST)
NetworkPath = Annotated[
    Literal["ttn", "chirpstack"],
    Path(description="The network server posting: 'ttn' (The Things Stack v3) or 'chirpstack'."),
]
EventQuery = Annotated[
    str | None,
    Query(
        pattern="^[a-z]{1,20}$",
        description="ChirpStack's event (its HTTP integration adds ?event=…); any but 'up' is "
        "ignored (204).",
    ),
]
WHAT = "an uplink"

DESCRIPTION = f"""\
The Things Stack v3 (a webhook) or ChirpStack v4 (its HTTP integration) posts a device's uplink:
the body is exactly the JSON envelope it would publish on MQTT. The uplink takes the topic the
network server's MQTT integration would have used and goes through the same decoding as the
MQTT bridge (the registry's device by its DevEUI or network id, its model) and the same writer,
in one transaction: 202 is answered only after the commit, with how many readings were written,
were already stored (a retry is harmless) and were quarantined, with the first {MAX_REASONS}
reasons (an unknown device, an uplink without a measurement, a device registered to another
council: `council mismatch`, which is never stored). A body that is no envelope is refused
(422) and kept in quarantine. ChirpStack's other events (`?event=join`, `status`…) are ignored
(204).

Authenticate with a bearer token of this council of scope `ingest` (or `admin`): `smartstreets
tokens create --scope ingest`, set as the network server's `Authorization: Bearer …` header. No
or an unknown token is 401, another council's or another scope's 403. Requests are limited per
token (429 with `Retry-After`) and to {MAX_PAYLOAD_BYTES} bytes (413).
"""


def _limits(request: Request) -> UplinkLimits:
    """The app's per-token limits, made on first use (event loop only)."""
    state = request.app.state
    if not hasattr(state, "uplink_limits"):
        settings: ApiSettings = state.settings
        state.uplink_limits = UplinkLimits(settings, state.rate_buckets)
    found: UplinkLimits = state.uplink_limits
    return found


@router.post(
    "/uplinks/{network}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UplinksPublic,
    summary="Post a network server's uplink (TTN or ChirpStack webhook)",
    description=DESCRIPTION,
    responses={
        204: {"description": "An event other than an uplink: ignored."},
        401: {
            **error_response("No token, or an invalid or revoked one."),
            "headers": {
                "WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}
            },
        },
        403: error_response("The token is not an ingest or admin token of this council."),
        413: error_response(f"The body is over {MAX_PAYLOAD_BYTES} bytes."),
        422: error_response("The body is no uplink envelope; it went to quarantine."),
        429: error_response("Too many requests with this token; see Retry-After."),
        503: error_response("The database is unavailable; retry later."),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": ENVELOPE}}}
    },
)
async def post_uplink(
    council: CouncilPath,
    network: NetworkPath,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    event: EventQuery = None,
) -> UplinksPublic | Response:
    """Store a network server's uplink (see the description)."""
    prefix: str = request.app.state.mqtt_prefix
    refuse_declared(request, MAX_PAYLOAD_BYTES, WHAT)

    def check(conn: psycopg.Connection) -> Principal:
        with conn.transaction():
            scope_to_council(conn, council)
            return _check_ingest(council, conn, credentials)

    principal = await on_pool(request, check)
    if event is not None and event != UP_EVENT:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    await _limits(request).check_token(principal.token_id)
    body = await read_capped(request, MAX_PAYLOAD_BYTES, WHAT)
    received_at = datetime.now(UTC)
    net = Network(network)
    try:
        stored = await on_pool(
            request, lambda conn: store_uplink(conn, prefix, council, net, body, received_at)
        )
    except UplinkRefused as refused:
        log.info("uplink refused council=%s network=%s bytes=%d: %s", council, net, len(body),
                 refused.reason)  # fmt: skip
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, refused.reason) from None
    log.info(
        "uplink stored council=%s network=%s topic=%s written=%d duplicates=%d quarantined=%d",
        council,
        net,
        stored.topic,
        stored.written,
        stored.duplicates,
        stored.quarantined,
    )
    return stored
