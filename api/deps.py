"""Dependencies shared by the routers: database connections, settings and token checks.

A request whose path has a ``{council}`` gets its connection already confined to that council
in the database (``api.tenancy``): its token check, its queries and its writes all run in one
transaction as the tenant role, committed before the response is sent.
"""

from collections.abc import Callable, Iterator
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


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection for the length of a request; 503 if the database is down.

    When the path names a council, the connection is confined to it for the whole request, in
    one transaction (committed if the route succeeds, rolled back if it raises); a route that
    forgets its ``WHERE council = ...`` still sees only its council's rows.
    """
    pool = request.app.state.pool
    council = request.path_params.get("council")
    try:
        with pool.connection(timeout=5) as conn:
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
