"""Rate limits of drive uploads (per client address and per trip token), of devices' readings
over HTTP (per device) and of network servers' uplink webhooks (per ingest token).

Drives need no token, so two token buckets stand between the endpoint and a phone (or a script)
gone wrong: one per client address (``drive_uploads_per_min`` at once, refilled at that rate a
minute) and one per drive (``drive_uploads_per_trip`` at once, refilled at that rate a minute),
so a retry loop on one drive cannot spend the address's whole allowance. The buckets are the
public endpoints' :class:`~api.security.RateLimiter`, kept in process memory: with several API
processes each keeps its own, so the limits hold per process.
"""

import math

from fastapi import HTTPException, status

from api.security import ClientAddress, RateLimiter, client_key
from api.settings import ApiSettings


class DriveLimits:
    """Both buckets of the drive endpoint; call from the event loop only (no lock)."""

    def __init__(self, settings: ApiSettings) -> None:
        per_client, per_trip = settings.drive_uploads_per_min, settings.drive_uploads_per_trip
        self.clients = RateLimiter(per_client, per_client) if per_client else None
        self.trips = RateLimiter(per_trip, per_trip) if per_trip else None
        self.address = ClientAddress(settings.trusted_proxies)

    def check_client(self, address: str) -> None:
        """Spend one upload of ``address``'s allowance, or raise 429."""
        if self.clients is not None:
            _refuse(
                self.clients.take(client_key(address)),
                f"{self.clients.per_min} drive uploads a minute from one address",
            )

    def check_trip(self, council: str, trip: str) -> None:
        """Spend one upload of the trip's allowance, or raise 429."""
        if self.trips is not None:
            _refuse(
                self.trips.take(f"{council}/{trip}"),
                f"{self.trips.per_min} uploads a minute of one drive",
            )


class DeviceLimits:
    """The bucket of each device posting readings over HTTP (``device_posts_per_min`` at once,
    refilled at that rate a minute), spent only once the device has authenticated, so nobody
    else can use up a device's allowance; call from the event loop only (no lock)."""

    def __init__(self, settings: ApiSettings) -> None:
        per_device = settings.device_posts_per_min
        self.devices = RateLimiter(per_device, per_device) if per_device else None

    def check_device(self, device_id: str) -> None:
        """Spend one request of the device's allowance, or raise 429."""
        if self.devices is not None:
            _refuse(
                self.devices.take(device_id),
                f"{self.devices.per_min} readings requests a minute from one device",
            )


class UplinkLimits:
    """The bucket of each ingest token posting network servers' uplinks by webhook
    (``uplink_posts_per_min`` at once, refilled at that rate a minute), spent only once the token
    has been checked; call from the event loop only (no lock)."""

    def __init__(self, settings: ApiSettings) -> None:
        per_token = settings.uplink_posts_per_min
        self.tokens = RateLimiter(per_token, per_token) if per_token else None

    def check_token(self, token_id: str) -> None:
        """Spend one request of the token's allowance, or raise 429."""
        if self.tokens is not None:
            _refuse(
                self.tokens.take(token_id),
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
