"""``/health`` from cached probes: one database probe per interval, and a prompt 503 when the
database goes away."""

from collections.abc import Iterator

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from api.app import create_app
from api.routers.health import DATABASE_TIMEOUT_S, install_probes
from api.settings import ApiSettings
from ingest.settings import ServiceSettings
from tests.services import scratch_database


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def own_database(database_server_url: str) -> Iterator[str]:
    """A migrated database of this test alone, which it may close to connections."""
    with scratch_database(database_server_url, "sst_health") as url:
        yield url
        # Open again, so the drop at the end can connect to the server and force it.
        with psycopg.connect(database_server_url, autocommit=True) as admin:
            name = sql.Identifier(str(conninfo_to_dict(url)["dbname"]))
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))


def _app(database_url: str, mqtt_url: str, clock: Clock, ttl: float = 5) -> FastAPI:
    app = create_app(
        ApiSettings(health_cache_s=ttl),
        ServiceSettings(database_url=database_url, mqtt_url=mqtt_url),
    )
    install_probes(app, ttl, clock)
    return app


def _pool_requests(app: FastAPI) -> int:
    """Connections handed out by the app's pool so far: what each database probe takes."""
    return int(app.state.pool.get_stats().get("requests_num", 0))


def test_one_database_probe_per_interval(database_url: str, mqtt_url: str) -> None:
    """Calls within the interval share one probe (one pooled connection, one set of queries);
    the first call after it probes again."""
    clock = Clock()
    app = _app(database_url, mqtt_url, clock)
    with TestClient(app) as client:
        before = _pool_requests(app)
        first, second = client.get("/health"), client.get("/health")
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()
        assert first.json()["database"]["ok"] is True
        assert _pool_requests(app) - before == 1
        assert app.state.database_probe.probes == app.state.broker_probe.probes == 1
        clock.now += 4.9
        assert client.get("/health").status_code == 200
        assert _pool_requests(app) - before == 1
        clock.now += 0.2
        assert client.get("/health").status_code == 200
        assert _pool_requests(app) - before == 2
        assert app.state.database_probe.probes == app.state.broker_probe.probes == 2


def test_unreachable_database_is_503_with_one_line(
    own_database: str, database_server_url: str, mqtt_url: str
) -> None:
    """A database that stops taking connections turns /health into 503 with a one-line detail
    (no traceback), and that answer is reused for the interval instead of probing again."""
    clock = Clock()
    app = _app(own_database, mqtt_url, clock)
    name = str(conninfo_to_dict(own_database)["dbname"])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/health").status_code == 200
        with psycopg.connect(database_server_url, autocommit=True) as admin:
            ident = sql.Identifier(name)
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(ident))
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        clock.now += 5.1
        down = client.get("/health")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "degraded"
        assert body["database"]["ok"] is False
        detail = body["database"]["detail"]
        assert detail == f"unreachable: no connection within {DATABASE_TIMEOUT_S:g} s"
        assert "\n" not in detail and "Traceback" not in down.text
        probes = app.state.database_probe.probes
        again = client.get("/health")
        assert again.status_code == 503 and again.json() == body
        assert app.state.database_probe.probes == probes
