"""The FastAPI application factory."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from analytics.routing.settings import RoutingSettings
from api.errors import VALIDATION_RESPONSE, install_error_handlers
from api.metrics import install_metrics
from api.open_data_settings import OpenDataSettings
from api.rate_limit import DriveLimits, limiter
from api.routers import (
    busy_page,
    council_profile,
    coverage,
    crew,
    device_readings,
    drive_page,
    drives,
    health,
    heatmap,
    highways,
    highways_page,
    open_data,
    pages,
    potholes,
    public,
    quarantine,
    routes,
    uplinks,
)
from api.security import install_security
from api.settings import ApiSettings
from api.shared_limiter import SharedBuckets
from ingest.db.connect import open_pool
from ingest.settings import ServiceSettings

log = logging.getLogger(__name__)


def create_app(
    settings: ApiSettings, services: ServiceSettings, routing: RoutingSettings | None = None
) -> FastAPI:
    """Build the API; the database pool opens with the app and closes with it."""
    database_url = services.require_database()
    shared = SharedBuckets(database_url) if settings.rate_limit_shared else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = open_pool(database_url, max_size=settings.pool_size, name="api")
        app.state.db_slots = asyncio.Semaphore(settings.pool_size)
        app.state.open_data = OpenDataSettings()
        log.info(
            "API ready with %s, %s, open data %s",
            services.masked(),
            settings.model_dump(),
            app.state.open_data.model_dump(),
        )
        try:
            yield
        finally:
            app.state.pool.close()
            if shared is not None:
                await shared.close()

    app = FastAPI(
        title="smartstreets",
        version=version("smartstreets"),
        summary="Bins to empty, how busy the town centre is, and potholes to fix.",
        lifespan=lifespan,
        responses=VALIDATION_RESPONSE,
    )
    app.state.settings = settings
    app.state.mqtt_url = services.mqtt_url
    app.state.mqtt_prefix = services.mqtt_prefix
    app.state.rate_buckets = shared
    app.state.drive_limits = DriveLimits(settings, shared)
    app.state.routing = routing or RoutingSettings()
    for module in (
        health,
        public,
        crew,
        routes,
        highways,
        potholes,
        drives,
        device_readings,
        uplinks,
        drive_page,
        heatmap,
        coverage,
        highways_page,
        pages,
        busy_page,
        open_data,
        quarantine,
        council_profile,
    ):
        app.include_router(module.router)
    health.install_probes(app, settings.health_cache_s)
    install_error_handlers(app)
    public_limit = limiter("public", settings.rate_limit_per_min, settings.rate_limit_burst, shared)
    install_security(app, settings, public_limit, tile_url=app.state.routing.tile_url)
    install_metrics(app)
    return app
