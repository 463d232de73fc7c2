"""``/metrics``: request counts and latencies in the Prometheus text format.

Requests are labelled by route template (``/councils/{council}/bins/latest``), never by raw
path, so one series exists per route and the labels carry no council slugs, device or pothole
ids. Paths that match no route share the label ``unmatched``.

``/metrics`` needs no token: it is what a Prometheus server scrapes, it exposes only route
templates, methods, status codes and timings (no council data), and it is served from the same
port as the API; a deployment that must hide even those keeps the path off its public ingress.
Each app has a registry of its own, so several apps (tests) live in one process.
"""

import time
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class ApiMetrics:
    """The API's request counter and latency histogram, in a registry of their own."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram

    @classmethod
    def create(cls) -> "ApiMetrics":
        """A fresh set of metrics (one per app)."""
        reg = CollectorRegistry()
        return cls(
            registry=reg,
            requests=Counter(
                "smartstreets_api_requests",
                "HTTP requests answered, by route template, method and status",
                ["route", "method", "status"],
                registry=reg,
            ),
            latency=Histogram(
                "smartstreets_api_request_seconds",
                "Time to answer an HTTP request, by route template, method and status",
                ["route", "method", "status"],
                buckets=_BUCKETS,
                registry=reg,
            ),
        )


def route_template(scope: Scope) -> str:
    """The template of the route that served the request, or ``unmatched``."""
    route: BaseRoute | None = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP request where it is answered (a plain ASGI middleware, so
    streamed responses are timed to their last byte)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # an exception before the response started is answered with a 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            labels = (route_template(scope), scope["method"], str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - start)


router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """The app's metrics in the Prometheus text format (no token: no council data)."""
    api_metrics: ApiMetrics = request.app.state.metrics
    return Response(generate_latest(api_metrics.registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI) -> None:
    """Give ``app`` its own metrics, the middleware that updates them and ``/metrics``."""
    app.state.metrics = ApiMetrics.create()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.include_router(router)
