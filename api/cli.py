"""Commands of the api package: ``api`` and ``tokens …``."""

import asyncio
import os
import socket

import psycopg
import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from analytics.routing.settings import RoutingSettings
from api.app import create_app
from api.auth import Scope, create_token, revoke_token
from api.settings import ApiSettings
from ingest.contract.decode import describe_validation_error
from ingest.db.connect import connect
from ingest.errors import first_line
from ingest.kernel.cli import (
    DatabaseUrlOption,
    MqttUrlOption,
    database_url_or_fail,
    fail,
    service_settings,
)
from ingest.kernel.logs import LogFormat, configure_logging

try:  # the faster parser when uvicorn[standard] brought it
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Http
except ImportError:
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Http  # type: ignore[assignment]

tokens_app = typer.Typer(help="API tokens (scoped to one council).", no_args_is_help=True)


class NoDelayHttp(_Http):
    """uvicorn's HTTP protocol with Nagle's algorithm off on every TCP connection.

    asyncio turns it off only on sockets created with an explicit IPPROTO_TCP, which the
    listening socket uvicorn binds for ``--workers`` is not; with it on, a response written as
    headers then body waits for the client's delayed ACK, about 40 ms per request.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def app_from_environment() -> FastAPI:
    """The app of one worker process, from ``SMARTSTREETS_*`` variables (``api --workers``)."""
    # A spawned worker starts with logging unconfigured; it logs as the parent does.
    fmt: LogFormat = "json" if os.environ.get("SMARTSTREETS_LOG_FORMAT") == "json" else "text"
    configure_logging(os.environ.get("SMARTSTREETS_LOG_LEVEL", "INFO"), fmt)
    return create_app(ApiSettings(), service_settings(), RoutingSettings())


def api(
    host: str | None = typer.Option(None, help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (default 8000)."),
    workers: int = typer.Option(
        1,
        min=1,
        max=64,
        help="Worker processes sharing the port (about one per CPU core); each has its own "
        "database pool of SMARTSTREETS_API_POOL_SIZE connections. With more than one the rate "
        "limits are shared through the database (SMARTSTREETS_API_RATE_LIMIT_SHARED).",
    ),
    database_url: str | None = DatabaseUrlOption,
    mqtt_url: str | None = MqttUrlOption,
) -> None:
    """Serve the HTTP API and pages."""
    services = service_settings(database_url, mqtt_url)
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    try:
        settings = ApiSettings(**overrides)  # type: ignore[arg-type]
        app = create_app(settings, services, RoutingSettings())
    except ValidationError as exc:
        fail(f"bad setting: {describe_validation_error(exc)}", 2)
    except ValueError as exc:
        fail(str(exc), 2)
    if workers == 1:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            http=NoDelayHttp,
            log_config=None,
            proxy_headers=False,  # SMARTSTREETS_API_TRUSTED_PROXIES alone decides (api.security)
        )
        return
    # Worker processes build their own app (an app object cannot cross a process boundary)
    # from the environment, so the options checked above go there first.
    chosen = {
        "DATABASE_URL": database_url,
        "MQTT_URL": mqtt_url,
        "API_HOST": host,
        "API_PORT": port,
    }
    for name, value in chosen.items():
        if value:
            os.environ[f"SMARTSTREETS_{name}"] = str(value)
    if settings.rate_limit_shared is None:  # one limit across the workers, not one per worker
        os.environ["SMARTSTREETS_API_RATE_LIMIT_SHARED"] = "true"
    uvicorn.run(
        "api.cli:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        http=NoDelayHttp,
        log_config=None,
        proxy_headers=False,
    )


@tokens_app.command("create")
def tokens_create(
    council: str = typer.Option(..., help="Council slug the token belongs to."),
    scope: Scope = typer.Option(..., help="crew, highways, admin or ingest."),
    name: str = typer.Option("", help="A note saying who holds it."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Create a token and print it once (only its hash is kept)."""
    url = database_url_or_fail(database_url)
    try:
        with connect(url) as conn:
            token = create_token(conn, council, scope, name)
    except LookupError as exc:
        fail(str(exc.args[0]))
    except psycopg.Error as exc:
        fail(first_line(exc))
    print(token)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: str = typer.Argument(..., help="The 12 hex digits after 'sst_'."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Revoke a token."""
    url = database_url_or_fail(database_url)
    try:
        with connect(url) as conn:
            done = revoke_token(conn, token_id)
    except psycopg.Error as exc:
        fail(first_line(exc))
    if not done:
        fail(f"no live token with id {token_id}")
    print(f"revoked {token_id}")
