"""Rate limits of drive uploads (per client address and per trip token), of devices' readings
over HTTP (per device) and of network servers' uplink webhooks (per ingest token), and the one
way every limit of the API (these and the public endpoints') is made: :func:`limiter`.

Drives need no token, so two token buckets stand between the endpoint and a phone (or a script)
gone wrong: one per client address (``drive_uploads_per_min`` at once, refilled at that rate a
minute) and one per drive (``drive_uploads_per_trip`` at once, refilled at that rate a minute),
so a retry loop on one drive cannot spend the address's whole allowance. With one API process
the buckets are kept in its memory (:class:`~api.security.RateLimiter`); with several
(``rate_limit_shared``, on by default with ``api --workers N``) they are shared through the
database (:class:`~api.shared_limiter.SharedRateLimiter`), so the limits hold across processes.
"""

import math

from fastapi import HTTPException, status

from api.security import ClientAddress, Limiter, RateLimiter, client_key
from api.settings import ApiSettings
from api.shared_limiter import SharedBuckets, SharedRateLimiter


def limiter(name: str, per_min: int, burst: int, shared: SharedBuckets | None) -> Limiter | None:
    """The limit ``name``: none when ``per_min`` is 0, buckets shared through ``shared`` when
    given, else this process's own."""
    if not per_min:
        return None
    if shared is None:
        return RateLimiter(per_min, burst)
    return SharedRateLimiter(name, per_min, burst, shared)


class DriveLimits:
    """Both buckets of the drive endpoint; call from the event loop only (no lock)."""

    def __init__(self, settings: ApiSettings, shared: SharedBuckets | None = None) -> None:
        per_client, per_trip = settings.drive_uploads_per_min, settings.drive_uploads_per_trip
        self.clients = limiter("drive-address", per_client, per_client, shared)
        self.trips = limiter("drive-trip", per_trip, per_trip, shared)
        self.address = ClientAddress(settings.trusted_proxies)

    async def check_client(self, address: str) -> None:
        """Spend one upload of ``address``'s allowance, or raise 429."""
        if self.clients is not None:
            _refuse(
                await self.clients.spend(client_key(address)),
                f"{self.clients.per_min} drive uploads a minute from one address",
            )

    async def check_trip(self, council: str, trip: str) -> None:
        """Spend one upload of the trip's allowance, or raise 429."""
        if self.trips is not None:
            _refuse(
                await self.trips.spend(f"{council}/{trip}"),
                f"{self.trips.per_min} uploads a minute of one drive",
            )


class DeviceLimits:
    """The bucket of each device posting readings over HTTP (``device_posts_per_min`` at once,
    refilled at that rate a minute), spent only once the device has authenticated, so nobody
    else can use up a device's allowance; call from the event loop only (no lock)."""

    def __init__(self, settings: ApiSettings, shared: SharedBuckets | None = None) -> None:
        per_device = settings.device_posts_per_min
        self.devices = limiter("device", per_device, per_device, shared)

    async def check_device(self, device_id: str) -> None:
        """Spend one request of the device's allowance, or raise 429."""
        if self.devices is not None:
            _refuse(
                await self.devices.spend(device_id),
                f"{self.devices.per_min} readings requests a minute from one device",
            )


class UplinkLimits:
    """The bucket of each ingest token posting network servers' uplinks by webhook
    (``uplink_posts_per_min`` at once, refilled at that rate a minute), spent only once the token
    has been checked; call from the event loop only (no lock)."""

    def __init__(self, settings: ApiSettings, shared: SharedBuckets | None = None) -> None:
        per_token = settings.uplink_posts_per_min
        self.tokens = limiter("uplink", per_token, per_token, shared)

    async def check_token(self, token_id: str) -> None:
        """Spend one request of the token's allowance, or raise 429."""
        if self.tokens is not None:
            _refuse(
                await self.tokens.spend(token_id),
                f"{self.tokens.per_min} uplinks a minute with one token",
            )


def _refuse(wait: float, what: str) -> None:
    if not wait:
        return
    seconds = max(1, math.ceil(wait))
    raise HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many requests: at most {what}; retry after {seconds} s",
        headers={"Retry-After": str(seconds), "Cache-Control": "no-store"},
    )
