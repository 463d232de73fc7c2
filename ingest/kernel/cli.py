"""Helpers every subcommand shares: settings from the environment, one-line errors."""

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import NoReturn, TypeVar

import psycopg
import typer
from pydantic import ValidationError

from ingest.contract.decode import describe_validation_error
from ingest.db.connect import connect
from ingest.errors import first_line
from ingest.settings import ServiceSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (no traceback)."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def service_settings(
    database_url: str | None = None, mqtt_url: str | None = None
) -> ServiceSettings:
    """Settings from ``SMARTSTREETS_*`` variables, with command-line options taking precedence."""
    overrides = {k: v for k, v in (("database_url", database_url), ("mqtt_url", mqtt_url)) if v}
    try:
        return ServiceSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        fail(f"bad setting: {describe_validation_error(exc)}", 2)


DatabaseUrlOption = typer.Option(
    None, "--database-url", help="PostgreSQL URL (default: $SMARTSTREETS_DATABASE_URL)."
)
MqttUrlOption = typer.Option(
    None, "--mqtt-url", help="MQTT broker URL (default: $SMARTSTREETS_MQTT_URL)."
)


def database_url_or_fail(option: str | None) -> str:
    """The database URL from the option or the environment, or a one-line error."""
    try:
        return service_settings(database_url=option).require_database()
    except ValueError as exc:
        fail(str(exc), 2)


def repeat(every: float | None, once: Callable[[], None], what: str) -> None:
    """Run ``once``, then (with ``every``) again every ``every`` seconds until SIGTERM or SIGINT.

    A lost database connection fails a single run with a one-line error; a repeating run logs
    it and tries again at the next tick.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if every is not None:
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    while True:
        try:
            once()
        except psycopg.OperationalError as exc:
            if every is None:
                fail(first_line(exc))
            log.warning("%s failed, will retry: %s", what, str(exc).strip())
        if every is None or stop.wait(every):
            return


def on_database(
    database_url: str | None,
    work: Callable[[psycopg.Connection], T],
    refused: type[Exception] | tuple[type[Exception], ...] = (),
) -> T:
    """Run ``work`` on a connection to the database of the option (else the environment);
    the errors in ``refused`` and any database error end the command with a one-line error."""
    url = database_url_or_fail(database_url)
    try:
        with connect(url) as conn:
            return work(conn)
    except refused as exc:
        fail(str(exc))
    except psycopg.Error as exc:
        fail(first_line(exc))
