"""Dependencies shared by the routers: database connections and token checks."""

from collections.abc import Callable, Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal, Scope, verify_token
from api.queries import council_exists
from api.settings import ApiSettings

_bearer = HTTPBearer(auto_error=False, description="A token from 'smartstreets tokens create'.")

CouncilPath = Annotated[
    str, Path(pattern=r"^[a-z0-9-]{1,40}$", description="Council slug, e.g. 'newtown'.")
]


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection for the length of a request; 503 if the database is down."""
    pool = request.app.state.pool
    try:
        with pool.connection(timeout=5) as conn:
            yield conn
    except psycopg.OperationalError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "database unavailable, try again shortly"
        ) from exc


def get_settings(request: Request) -> ApiSettings:
    """The API's settings."""
    settings: ApiSettings = request.app.state.settings
    return settings


Conn = Annotated[psycopg.Connection, Depends(get_conn)]
Settings = Annotated[ApiSettings, Depends(get_settings)]


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
