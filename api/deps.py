"""Dependencies shared by the routers: database connections, settings and token checks.

A request whose path has a ``{council}`` gets its connection already confined to that council
in the database (``api.tenancy``): its token check, its queries and its writes all run in one
transaction as the tenant role, committed before the response is sent.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from analytics.routing.settings import RoutingSettings
from api.auth import Principal, Scope, verify_token
from api.settings import ApiSettings
from api.tenancy import scope_to_council
from ingest.db.councils import council_exists

_bearer = HTTPBearer(auto_error=False, description="A token from 'smartstreets tokens create'.")

CouncilPath = Annotated[
    str, Path(pattern=r"^[a-z0-9-]{1,40}$", description="Council slug, e.g. 'newtown'.")
]


DB_WAIT_S = 5
"""Longest a request waits for its turn at the database (a slot, then a pooled connection)."""


async def _db_slot(request: Request) -> AsyncIterator[None]:
    """A turn at the database, awaited on the event loop.

    A route's connection is taken and given back in worker threads (``get_conn`` is
    synchronous), and so does the route's own work. Without a limit, a burst of requests could
    fill every worker thread with waits for a connection while the requests holding the
    connections waited for a thread to finish in, until the pool gave up after 5 s
    (``bench/scale.py`` saw 18 requests/s and 503s with 48 clients). At most ``pool_size``
    requests hold a turn; the rest wait here without taking a thread.
    """
    slots: asyncio.Semaphore = request.app.state.db_slots
    try:
        await asyncio.wait_for(slots.acquire(), DB_WAIT_S)
    except TimeoutError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "database busy, try again shortly"
        ) from None
    try:
        yield
    finally:
        slots.release()


def get_conn(
    request: Request, _turn: Annotated[None, Depends(_db_slot, scope="function")]
) -> Iterator[psycopg.Connection]:
    """A pooled connection for the length of a request; 503 if the database is down.

    When the path names a council, the connection is confined to it for the whole request, in
    one transaction (committed if the route succeeds, rolled back if it raises); a route that
    forgets its ``WHERE council = ...`` still sees only its council's rows.
    """
    pool = request.app.state.pool
    council = request.path_params.get("council")
    try:
        with pool.connection(timeout=DB_WAIT_S) as conn:
            if council is None:
                yield conn
                return
            with conn.transaction():
                scope_to_council(conn, str(council))
                yield conn
    except psycopg.OperationalError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "database unavailable, try again shortly"
        ) from exc


def thread_conn(request: Request) -> AbstractContextManager[psycopg.Connection]:
    """``get_conn``'s connection for code that takes and returns it in one worker thread (the
    cached renders): it needs no turn, since it never waits for a second thread."""
    return contextmanager(get_conn)(request, None)


def get_settings(request: Request) -> ApiSettings:
    """The API's settings."""
    settings: ApiSettings = request.app.state.settings
    return settings


def get_routing(request: Request) -> RoutingSettings:
    """The routing settings the app was made with (depot, fleet, map tiles)."""
    settings: RoutingSettings = request.app.state.routing
    return settings


# scope="function": the transaction commits before the response goes out, so a 201 is never
# sent for a write that then fails to commit.
Conn = Annotated[psycopg.Connection, Depends(get_conn, scope="function")]
Settings = Annotated[ApiSettings, Depends(get_settings)]
Routing = Annotated[RoutingSettings, Depends(get_routing)]


def known_council(council: CouncilPath, conn: Conn) -> str:
    """The council of the path, or 404."""
    if not council_exists(conn, council):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown council {council!r}")
    return council


def require(scope: Scope) -> Callable[..., Principal]:
    """A dependency admitting tokens of the path's council with ``scope`` (or ``admin``)."""

    def check(
        council: CouncilPath,
        conn: Conn,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = verify_token(conn, credentials.credentials)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid or revoked token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.allows(council, scope):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this token does not grant '{scope.value}' for council {council!r}",
            )
        return principal

    return check


Crew = Annotated[Principal, Depends(require(Scope.CREW))]
"""A token of the path's council for waste crews (or ``admin``)."""
Highways = Annotated[Principal, Depends(require(Scope.HIGHWAYS))]
"""A token of the path's council for highways teams (or ``admin``)."""
check_admin = require(Scope.ADMIN)
"""The admin check, for routes that run it themselves (outside a dependency)."""
Admin = Annotated[Principal, Depends(check_admin)]
"""An admin token of the path's council."""
