"""Commands of the api package: ``api`` and ``tokens …``."""

import psycopg
import typer
import uvicorn
from pydantic import ValidationError

from analytics.routing.settings import RoutingSettings
from api.app import create_app
from api.auth import Scope, create_token, revoke_token
from api.settings import ApiSettings
from deploy.cli_support import (
    DatabaseUrlOption,
    MqttUrlOption,
    database_url_or_fail,
    fail,
    service_settings,
)
from ingest.contract.decode import describe_validation_error
from ingest.db.connect import connect

tokens_app = typer.Typer(help="API tokens (scoped to one council).", no_args_is_help=True)


def api(
    host: str | None = typer.Option(None, help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (default 8000)."),
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
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


@tokens_app.command("create")
def tokens_create(
    council: str = typer.Option(..., help="Council slug the token belongs to."),
    scope: Scope = typer.Option(..., help="crew, highways or admin."),
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
        fail(str(exc).strip().splitlines()[0])
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
        fail(str(exc).strip().splitlines()[0])
    if not done:
        fail(f"no live token with id {token_id}")
    print(f"revoked {token_id}")
