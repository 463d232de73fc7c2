"""Registered devices and councils as the writer sees them: looked up once, then remembered."""

import time

import psycopg

from ingest.db.councils import council_exists
from ingest.db.registry import RegisteredDevice, lookup_device, lookup_network_device


class DeviceCache:
    """Registered devices by id, looked up on first sight and remembered.

    Unknown ids are remembered for ``negative_ttl`` seconds only, so a device registered after
    its first message is accepted soon after, without a database query per message before that.
    """

    def __init__(self, negative_ttl: float = 5.0, positive_ttl: float = 300.0) -> None:
        self._known: dict[str, tuple[RegisteredDevice, float]] = {}
        self._unknown: dict[str, float] = {}
        self._negative_ttl = negative_ttl
        self._positive_ttl = positive_ttl
        self._councils: dict[str, float] = {}
        self._networked: dict[tuple[str, str], tuple[RegisteredDevice | None, float]] = {}

    def device(self, conn: psycopg.Connection, device_id: str) -> RegisteredDevice | None:
        """The registered device with this id, or ``None``."""
        now = time.monotonic()
        hit = self._known.get(device_id)
        if hit is not None and now - hit[1] < self._positive_ttl:
            return hit[0]
        miss = self._unknown.get(device_id)
        if miss is not None and now - miss < self._negative_ttl:
            return None
        found = lookup_device(conn, device_id)
        if found is None:
            self._unknown[device_id] = now
            self._known.pop(device_id, None)
        else:
            self._known[device_id] = (found, now)
            self._unknown.pop(device_id, None)
        return found

    def network_device(
        self, conn: psycopg.Connection, network: str, network_id: str
    ) -> RegisteredDevice | None:
        """The device ``network`` knows as ``network_id`` (a DevEUI or its device id), or
        ``None``; remembered like :meth:`device`."""
        now = time.monotonic()
        key = (network, network_id.lower())
        hit = self._networked.get(key)
        if hit is not None:
            ttl = self._positive_ttl if hit[0] is not None else self._negative_ttl
            if now - hit[1] < ttl:
                return hit[0]
        found = lookup_network_device(conn, network, network_id)
        self._networked[key] = (found, now)
        return found

    def council_exists(self, conn: psycopg.Connection, council: str) -> bool:
        """Whether the council exists; only a yes is remembered."""
        now = time.monotonic()
        seen = self._councils.get(council)
        if seen is not None and now - seen < self._positive_ttl:
            return True
        exists = council_exists(conn, council)
        if exists:
            self._councils[council] = now
        return exists
