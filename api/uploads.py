"""What the endpoints that take uploads over HTTP share: a body read in chunks up to a size cap,
work on a pooled service connection in the thread pool, and a request body schema for the
OpenAPI document when the route reads the body itself.

Residents' drives (``POST …/drives``) and devices' readings (``POST …/devices/{id}/readings``)
both read their bodies by hand, so they can refuse a large one early, and both write as the
service's own user, like ingest: the writer needs the salts and the quarantine that the
tenant-scoped connection may not touch.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from fastapi import HTTPException, Request, status
from psycopg_pool import ConnectionPool
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.schemas import ErrorPublic

T = TypeVar("T")


async def on_pool(request: Request, work: Callable[[psycopg.Connection], T]) -> T:
    """Run ``work`` in the thread pool on a pooled connection; 503 if the database is down."""
    pool: ConnectionPool = request.app.state.pool

    def run() -> T:
        with pool.connection(timeout=5) as conn:
            return work(conn)

    try:
        return await run_in_threadpool(run)
    except psycopg.OperationalError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "database unavailable, try again shortly"
        ) from exc


def too_large(cap: int, what: str) -> HTTPException:
    """The 413 of a body over ``cap`` bytes; ``what`` names it (``"a drive"``)."""
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"{what} may be at most {cap} bytes")


def refuse_declared(request: Request, cap: int, what: str) -> None:
    """413 for a body whose Content-Length is over ``cap``, before anything else is done."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_large(cap, what)


async def read_capped(request: Request, cap: int, what: str) -> bytes:
    """The body, refused once more than ``cap`` bytes of it have come (whatever it declared)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise too_large(cap, what)
        chunks.append(chunk)
    return b"".join(chunks)


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``#/$defs/…`` reference replaced by its definition, so it can sit
    in the operation itself (the body is read by hand, so FastAPI does not register it)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its definitions inlined, for ``openapi_extra``."""
    schema = model.model_json_schema()
    return dict(_inline(schema, schema.get("$defs", {})))


def error_response(description: str) -> dict[str, Any]:
    """A documented error answer (``{"detail": …}``) for a route's ``responses``."""
    return {"model": ErrorPublic, "description": description}
