"""Real services for the tests: the PostgreSQL and MQTT broker named by the environment
(``SMARTSTREETS_TEST_DATABASE_URL``, ``SMARTSTREETS_TEST_MQTT_URL``) or embedded ones.

Each session gets a fresh database on the server; each test isolates itself with its own
council, device ids and topic prefix.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from deploy.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from ingest.db.connect import connect
from tests.services import scratch_database


@pytest.fixture(scope="session")
def database_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server: the configured one, or an embedded one for this session."""
    url = os.environ.get("SMARTSTREETS_TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", database="postgres")
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def database_url(database_server_url: str) -> Iterator[str]:
    """A freshly migrated database of this session, dropped at the end."""
    with scratch_database(database_server_url, "sst_test") as url:
        yield url


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """An MQTT broker: the configured one, or an embedded amqtt broker for this session."""
    url = os.environ.get("SMARTSTREETS_TEST_MQTT_URL")
    if url:
        yield url
        return
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    yield broker.url
    broker.stop()


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection to the session's database."""
    with connect(database_url, autocommit=True) as c:
        yield c


@pytest.fixture
def uid() -> str:
    """A short id unique to this test, for council slugs, device ids and topic prefixes."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def council(conn: psycopg.Connection, uid: str) -> str:
    """A council of this test's own."""
    slug = f"c-{uid}"
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, %s)", (slug, f"Council {uid}"))
    return slug


@pytest.fixture
def prefix(uid: str) -> str:
    """A topic prefix of this test's own, so parallel and earlier tests never interfere."""
    return f"sst-test-{uid}"


def database_name(url: str) -> str:
    """The database a URL points at."""
    return str(conninfo_to_dict(url).get("dbname", ""))


REPO = Path(__file__).resolve().parents[1]


def shared_data(relative: str) -> Path | None:
    """A path in the shared reference data (beside the checkout, or where
    ``SMARTSTREETS_SHARED_DATA`` points), or ``None`` when it is not on this machine."""
    roots = [Path(p) for p in (os.environ.get("SMARTSTREETS_SHARED_DATA"),) if p]
    for root in [*roots, REPO.parent / "shared" / "data"]:
        if (root / relative).exists():
            return root / relative
    return None
