"""Rate limits, CORS and security headers, as one ASGI middleware in front of the whole API.

Public endpoints (the pages, zones, forecasts, open data) need no token, so the only thing
between them and a careless scraper is a per-address rate limit: a token bucket per client,
``rate_limit_burst`` requests at once refilled at ``rate_limit_per_min``, in this process or
shared by all of them (:mod:`api.shared_limiter`). Only those endpoints are limited and only
those answer cross-origin requests; every response carries the security headers. The middleware
is plain ASGI (no ``BaseHTTPMiddleware``) and does O(1) work per request (a shared limit: one
statement every few requests of a client) because it sits on the hot path of the public
endpoints.
"""

import base64
import hashlib
import ipaddress
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

from fastapi import FastAPI
from pydantic import IPvAnyNetwork
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.pages.entry import CREW_SCRIPT, HIGHWAYS_ENTRY_SCRIPT
from api.pages.route import ROUTE_SCRIPT
from api.settings import ApiSettings
from ingest.kernel.params import require_in

PUBLIC_PATH = re.compile(
    r"/(?:"
    r"|councils/[^/]+/?"
    r"|(?:v1/)?open-data(?:/.*)?"
    r"|v1/councils/[^/]+/zones/.*"
    r"|v1/councils/[^/]+/counters/[^/]+/forecast"
    r")"
)
"""Paths anyone may read without a token: rate-limited, and open to CORS."""

DRIVE_PATH = re.compile(r"/drive(?:/.*)?")
"""The drive app's page and files: it reads the phone's position and motion, so its
Permissions-Policy allows them for this origin (and only there)."""
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
DRIVE_PERMISSIONS = (
    "camera=(), microphone=(), geolocation=(self), accelerometer=(self), gyroscope=(self), "
    "payment=(), usb=()"
)

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
"""FastAPI's documentation pages, which load Swagger UI and ReDoc from a CDN."""

INLINE_SCRIPTS = (CREW_SCRIPT, HIGHWAYS_ENTRY_SCRIPT, ROUTE_SCRIPT)
"""Every inline script a page serves. The crew and highways pages ``document.write`` a route or
map page fetched with the user's token into themselves, and a written page runs under the policy
of the page that wrote it, so one policy allows all of them."""

MAX_CLIENTS = 100_000
"""Most client buckets kept; beyond it the oldest is dropped, so memory stays bounded."""


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script."""
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def tile_source(tile_url: str) -> str:
    """The CSP source of an XYZ tile template's host, ``{s}`` as the map drawing fills it."""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(tile_url: str | None = None) -> str:
    """The policy of every page but the API documentation.

    Styles may be inline ('unsafe-inline'): the pages and their server-drawn SVG maps use
    ``<style>`` blocks and ``style`` attributes, which hashes cannot cover, and CSS cannot run
    script. Scripts may only be the pages' own inline scripts, allowed by hash.
    """
    scripts = " ".join(script_hash(s) for s in INLINE_SCRIPTS)
    images = f"'self' data: {tile_source(tile_url)}" if tile_url else "'self' data:"
    return (
        f"default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""Swagger UI and ReDoc come from jsDelivr and start with an inline script."""


def security_headers(
    policy: str, hsts: bool, permissions: str = PERMISSIONS
) -> list[tuple[bytes, bytes]]:
    """The headers every response carries, encoded once."""
    headers = {
        "content-security-policy": policy,
        "x-content-type-options": "nosniff",
        # Not no-referrer: tile servers (OpenStreetMap's policy) want the site's origin.
        "referrer-policy": "strict-origin-when-cross-origin",
        "x-frame-options": "DENY",
        "permissions-policy": permissions,
    }
    if hsts:
        headers["strict-transport-security"] = "max-age=31536000"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class Limiter(Protocol):
    """What every rate limit of the API is: this process's buckets (:class:`RateLimiter`) or
    buckets shared by all processes (:class:`api.shared_limiter.SharedRateLimiter`)."""

    per_min: int
    burst: int

    async def spend(self, client: str) -> float:
        """Spend one of ``client``'s tokens: 0 if it had one, else seconds until it will."""


class RateLimiter:
    """Token buckets per client in this process: ``burst`` requests at once, refilled at
    ``per_min`` a minute.

    Single-threaded by design (the event loop): no lock, no await between read and update.
    """

    def __init__(
        self, per_min: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        require_in("per_min", per_min, 0, math.inf, lo_open=True)
        require_in("burst", burst, 1, math.inf)
        self.per_min, self.burst = per_min, burst
        self._rate = per_min / 60
        self._full_after = burst / self._rate  # an idle bucket is full again after this
        self._clock = clock
        self._buckets: dict[str, list[float]] = {}  # client -> [tokens, last update]
        self._next_prune = clock() + self._full_after

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str) -> float:
        """Spend one of ``client``'s tokens: 0 if it had one, else seconds until it will."""
        now = self._clock()
        if now >= self._next_prune:
            self._prune(now)
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                del self._buckets[next(iter(self._buckets))]
            self._buckets[client] = [self.burst - 1, now]
            return 0.0
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self._rate)
        bucket[1] = now
        if tokens >= 1:
            bucket[0] = tokens - 1
            return 0.0
        bucket[0] = tokens
        return (1 - tokens) / self._rate

    async def spend(self, client: str) -> float:
        """:meth:`take`, as a :class:`Limiter`."""
        return self.take(client)

    def _prune(self, now: float) -> None:
        """Forget clients whose buckets have refilled: they are indistinguishable from new ones."""
        cutoff = now - self._full_after
        self._buckets = {k: v for k, v in self._buckets.items() if v[1] > cutoff}
        self._next_prune = now + max(self._full_after, 1.0)


def client_key(address: str) -> str:
    """The bucket of an address: itself, or its /64 for IPv6 (one household or host)."""
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    except ValueError:
        return address


class ClientAddress:
    """The client's address: the TCP peer, or X-Forwarded-For's when the peer is a trusted proxy."""

    def __init__(self, trusted: Iterable[IPvAnyNetwork]) -> None:
        self._networks = tuple(trusted)
        self.trusted = lru_cache(maxsize=4096)(self._trusted)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._networks)

    def __call__(self, scope: Scope) -> str:
        peer = scope.get("client")
        address = peer[0] if peer else ""
        if not self._networks or not self.trusted(address):
            return address
        forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
        # Right to left: each trusted proxy appended the address it saw; the first one not a
        # trusted proxy is the client. Entries further left are the client's own claims.
        hops = [h.strip() for h in ",".join(forwarded).split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusted(hop):
                return hop
        return hops[0] if hops else address


class SecurityMiddleware:
    """Limits the public endpoints, answers their CORS, and adds the security headers."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter | None,
        client: ClientAddress,
        cors_origins: list[str],
        headers: list[tuple[bytes, bytes]],
        docs_headers: list[tuple[bytes, bytes]],
        drive_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.app = app
        self.limiter, self.client = limiter, client
        self.public_app: ASGIApp = (
            CORSMiddleware(app, allow_origins=cors_origins, allow_methods=["GET"], max_age=600)
            if cors_origins
            else app
        )
        self.headers, self.docs_headers = headers, docs_headers
        self.drive_headers = drive_headers or headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        public = PUBLIC_PATH.fullmatch(path) is not None
        extra = (
            self.docs_headers
            if path in DOCS_PATHS
            else self.drive_headers
            if DRIVE_PATH.fullmatch(path)
            else self.headers
        )
        if public and self.limiter is not None:
            wait = await self.limiter.spend(client_key(self.client(scope)))
            if wait:
                await self._too_many(send, wait, extra)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await (self.public_app if public else self.app)(scope, receive, send_with_headers)

    async def _too_many(self, send: Send, wait: float, extra: list[tuple[bytes, bytes]]) -> None:
        assert self.limiter is not None
        seconds = max(1, math.ceil(wait))
        body = json.dumps(
            {
                "detail": f"too many requests: at most {self.limiter.per_min} a minute from one "
                f"address; retry after {seconds} s"
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(seconds).encode()),
            (b"cache-control", b"no-store"),
            *extra,
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def install_security(
    app: FastAPI, settings: ApiSettings, limiter: Limiter | None, tile_url: str | None = None
) -> None:
    """Put ``limiter`` (the public endpoints' rate limit; None: off), CORS and the security
    headers in front of ``app``.

    ``tile_url`` is the map tile template the pages draw from, which the policy must allow.
    """
    policy = content_security_policy(tile_url)
    app.add_middleware(
        SecurityMiddleware,
        limiter=limiter,
        client=ClientAddress(settings.trusted_proxies),
        cors_origins=settings.cors_origins,
        headers=security_headers(policy, settings.behind_https),
        docs_headers=security_headers(DOCS_POLICY, settings.behind_https),
        drive_headers=security_headers(policy, settings.behind_https, DRIVE_PERMISSIONS),
    )
