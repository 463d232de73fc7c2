"""``/health``: is the platform able to take and serve data?

Both dependencies are probed at most once per ``health_cache_s`` seconds, whatever the number of
callers (load balancers, uptime checks, orchestrators): a result is reused for that long, a
failure too, so a database that is down is not hammered and every caller hears 503 at once.
"""

import threading
import time
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from typing import Generic, TypeVar

import psycopg
from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import ConnectionPool, PoolTimeout

from api.queries import database_facts
from api.schemas import DatabaseHealth, HealthPublic, ServiceHealth
from ingest.errors import first_line
from ingest.mqtt import probe_broker

router = APIRouter(tags=["health"])

T = TypeVar("T")

DATABASE_TIMEOUT_S = 2.0
"""Longest wait for a pooled connection: a database that is down answers 503 after this, not
after the pool's default 30 s."""


class CachedProbe(Generic[T]):
    """The result of ``probe()``, reused for ``ttl`` seconds (0: never), failures included.

    Thread-safe: while one caller probes (in a thread), the others wait for its result
    instead of probing too.
    """

    def __init__(
        self, probe: Callable[[], T], ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._probe, self.ttl, self._clock = probe, ttl, clock
        self._lock = threading.Lock()
        self._last: tuple[float, T] | None = None
        self.probes = 0
        """Probes made so far."""

    async def get(self) -> T:
        """The result: the cached one without leaving the event loop, or a new probe's, made
        in a thread (a probe blocks)."""
        last = self._last
        if last is not None and self._clock() - last[0] < self.ttl:
            return last[1]
        return await run_in_threadpool(self)

    def __call__(self) -> T:
        with self._lock:
            last = self._last
            if last is not None and self._clock() - last[0] < self.ttl:
                return last[1]
            result = self._probe()
            self.probes += 1
            self._last = (self._clock(), result)  # from the end: a slow failure still counts
            return result


@cache
def _version() -> str:
    return version("smartstreets")  # a third of a millisecond: a scan of the installed packages


def probe_database(pool: ConnectionPool) -> DatabaseHealth:
    """Whether a pooled connection answers, with the server's facts."""
    try:
        with pool.connection(timeout=DATABASE_TIMEOUT_S) as conn:
            facts = database_facts(conn)
    except PoolTimeout:
        return DatabaseHealth(
            ok=False, detail=f"unreachable: no connection within {DATABASE_TIMEOUT_S:g} s"
        )
    except psycopg.Error as exc:
        return DatabaseHealth(ok=False, detail=first_line(exc))
    return DatabaseHealth(ok=True, detail="ok", **facts)


def _probe_broker(url: str | None) -> ServiceHealth:
    if url is None:
        return ServiceHealth(ok=False, detail="no broker configured")
    ok, detail = probe_broker(url)
    return ServiceHealth(ok=ok, detail=detail)


def install_probes(app: FastAPI, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
    """Give ``app`` its cached database and broker probes (the pool opens with the app)."""
    state = app.state
    state.database_probe = CachedProbe(lambda: probe_database(state.pool), ttl, clock)
    state.broker_probe = CachedProbe(lambda: _probe_broker(state.mqtt_url), ttl, clock)


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "A dependency is down."}},
)
async def health(request: Request, response: Response) -> HealthPublic:
    """Database and broker reachable, with versions; 503 when either is down."""
    state = request.app.state
    database: DatabaseHealth = await state.database_probe.get()
    broker: ServiceHealth = await state.broker_probe.get()
    healthy = database.ok and broker.ok
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    response.headers["Cache-Control"] = "no-store"
    return HealthPublic(
        status="ok" if healthy else "degraded",
        version=_version(),
        database=database,
        broker=broker,
    )
