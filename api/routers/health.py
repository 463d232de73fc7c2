"""``/health``: is the platform able to take and serve data?"""

import time
from importlib.metadata import version

import psycopg
from fastapi import APIRouter, Request, Response, status

from api.queries import database_facts
from api.schemas import DatabaseHealth, HealthPublic, ServiceHealth
from ingest.errors import first_line
from ingest.mqtt import probe_broker

router = APIRouter(tags=["health"])


def _broker(request: Request) -> ServiceHealth:
    state = request.app.state
    url: str | None = state.mqtt_url
    if url is None:
        return ServiceHealth(ok=False, detail="no broker configured")
    cached = getattr(state, "broker_probe", None)
    if cached is not None and time.monotonic() - cached[0] < state.settings.health_cache_s:
        result: ServiceHealth = cached[1]
        return result
    ok, detail = probe_broker(url)
    result = ServiceHealth(ok=ok, detail=detail)
    state.broker_probe = (time.monotonic(), result)
    return result


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "A dependency is down."}},
)
def health(request: Request, response: Response) -> HealthPublic:
    """Database and broker reachable, with versions; 503 when either is down."""
    try:
        with request.app.state.pool.connection(timeout=3) as conn:
            facts = database_facts(conn)
        database = DatabaseHealth(ok=True, detail="ok", **facts)
    except psycopg.Error as exc:
        database = DatabaseHealth(ok=False, detail=first_line(exc))
    broker = _broker(request)
    healthy = database.ok and broker.ok
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    response.headers["Cache-Control"] = "no-store"
    return HealthPublic(
        status="ok" if healthy else "degraded",
        version=version("smartstreets"),
        database=database,
        broker=broker,
    )
