"""A council's quarantine, for its admins: list what ingest refused, and replay it.

Listing runs on the request's council-scoped connection (the tenant role may read quarantine,
and row-level security shows it only its council's rows). Replaying writes readings, salts and
quarantine rows that the tenant role may not touch, so, once the admin token has been checked,
it runs as the service's own user on a connection of its own from the pool (as drives do),
always confined to the path's council by its filter.

The replay route runs the same admin check itself, on a scoped connection it gives back before
the replay takes one (never two at once from the pool), and reads its optional body itself, so
that calling it with no body at all means "replay everything of this council".
"""

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import Admin, Conn, CouncilPath, _bearer, check_admin
from api.schemas import ErrorPublic
from api.tenancy import scope_to_council
from ingest.db.quarantine import (
    QuarantinedMessage,
    QuarantineFilter,
    list_quarantine,
    payload_text,
    replay,
)

router = APIRouter(prefix="/v1/councils/{council}/quarantine", tags=["quarantine"])

_NO_NUL = r"^[^\x00]*$"
QuarantineId = Annotated[int, Field(ge=1, le=2**63 - 1)]
"""A quarantine row's id (bigint)."""


class QuarantinedPublic(BaseModel):
    """One message ingest refused, as kept."""

    id: int
    council: str | None
    stream: str | None
    device_id: str | None = Field(description="A phone's is its pseudonym, never its own id.")
    topic: str
    reason: str
    copies: int = Field(description="Distinct deliveries of these exact bytes on this topic.")
    received_at: str
    last_received_at: str
    payload: str = Field(description="The raw payload: UTF-8 text, or hex if not UTF-8.")
    payload_encoding: str = Field(description="'utf-8' or 'hex'.")

    @classmethod
    def of(cls, row: QuarantinedMessage) -> "QuarantinedPublic":
        """The public form of a row."""
        payload, encoding = payload_text(row.payload)
        return cls(
            id=row.id,
            council=row.council,
            stream=row.stream,
            device_id=row.device_id,
            topic=row.topic,
            reason=row.reason,
            copies=row.copies,
            received_at=row.received_at.isoformat(),
            last_received_at=row.last_received_at.isoformat(),
            payload=payload,
            payload_encoding=encoding,
        )


class QuarantineReplayCreate(BaseModel):
    """Which of the council's quarantined messages to replay (every field narrows it)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[QuarantineId] | None = Field(default=None, min_length=1, max_length=10_000)
    reason: str | None = Field(
        default=None,
        max_length=200,
        pattern=_NO_NUL,
        description="Only messages whose reason contains this text (any case).",
    )
    device: str | None = Field(default=None, max_length=200, pattern=_NO_NUL)
    dry_run: bool = Field(default=False, description="Say what would happen, change nothing.")


class QuarantineReplayPublic(BaseModel):
    """What a replay did (or, dry, would do)."""

    stored: int = Field(description="Messages now stored (their quarantine rows deleted).")
    duplicates: int = Field(description="Of those, readings that were already stored.")
    failing: dict[str, int] = Field(description="Messages still refused, by kind of reason.")
    skipped: dict[str, int] = Field(description="Messages not replayed, by why.")
    dry_run: bool


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorPublic, "description": description}


_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("No token, or an invalid or revoked one."),
    403: _error("The token is not an admin token of this council."),
}


@router.get(
    "",
    response_model=list[QuarantinedPublic],
    summary="List the council's quarantined messages",
    responses=_AUTH_ERRORS,
)
def list_council_quarantine(
    council: CouncilPath,
    conn: Conn,
    _admin: Admin,
    reason: Annotated[
        str | None,
        Query(max_length=200, pattern=_NO_NUL, description="Reason contains (any case)."),
    ] = None,
    device: Annotated[str | None, Query(max_length=200, pattern=_NO_NUL)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[QuarantinedPublic]:
    """Messages of this council that ingest refused, most recently received first, with the
    raw payload and the reason. Messages whose topic named no council are not listed here."""
    f = QuarantineFilter(council=council, reason=reason, device=device, limit=limit)
    return [QuarantinedPublic.of(r) for r in list_quarantine(conn, f)]


REPLAY_DESCRIPTION = """\
Re-decode the council's quarantined messages (all of them, or those the body selects) with
today's device contract and registry. What now passes is stored exactly once (a reading already
stored is not stored twice) and its quarantine row is deleted in the same transaction; what
still fails stays, with its reason renewed and its copies unchanged. Replaying again changes
nothing. Phones' messages are skipped (their id was pseudonymised before it was kept), and so
are drives refused over HTTP. The body is optional; `dry_run` changes nothing.
"""


def _replay_body(raw: bytes) -> QuarantineReplayCreate:
    if not raw.strip():
        return QuarantineReplayCreate()
    try:
        return QuarantineReplayCreate.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


@router.post(
    "/replay",
    response_model=QuarantineReplayPublic,
    summary="Replay the council's quarantined messages",
    description=REPLAY_DESCRIPTION,
    responses={**_AUTH_ERRORS, 503: _error("The database is unavailable; retry later.")},
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": QuarantineReplayCreate.model_json_schema()}},
        }
    },
)
async def replay_council_quarantine(
    council: CouncilPath,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> QuarantineReplayPublic:
    """Replay this council's quarantine (see the description)."""
    pool: ConnectionPool = request.app.state.pool
    prefix: str = request.app.state.mqtt_prefix

    def check() -> None:
        # The admin check of every council route, on a scoped connection given back before
        # the replay takes one: holding both at once could exhaust a small pool.
        with pool.connection(timeout=5) as conn, conn.transaction():
            scope_to_council(conn, council)
            check_admin(council, conn, credentials)

    def run(body: QuarantineReplayCreate) -> QuarantineReplayPublic:
        f = QuarantineFilter(council=council, reason=body.reason, device=body.device, ids=body.ids)
        with pool.connection(timeout=5) as conn:
            result = replay(conn, prefix, f, dry_run=body.dry_run)
        return QuarantineReplayPublic(
            stored=result.stored,
            duplicates=result.duplicates,
            failing=result.failing,
            skipped=result.skipped,
            dry_run=result.dry_run,
        )

    try:
        await run_in_threadpool(check)
        body = _replay_body(await request.body())
        return await run_in_threadpool(run, body)
    except psycopg.OperationalError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "database unavailable, try again shortly"
        ) from exc
