"""A network server's uplink turned into readings of the contract, against the registry.

Envelope, then device (by its network identity), then its model, then payloads: each step either
goes on or stops with a reason, and the caller quarantines the raw envelope with that reason.
Readings go on the device's native topic, so from here on a bridged reading is stored exactly
like one the device published itself; a reason stays on the uplink's own topic with its envelope
(attributed to the device when it is known), so that ``quarantine replay`` can decode it again
the same way.
"""

from datetime import datetime

import psycopg

from ingest.codecs import readings
from ingest.contract.decode import MAX_CLOCK_AHEAD, Reading, Rejection
from ingest.contract.lorawan import Network, Uplink, parse_uplink
from ingest.contract.payloads import BinFillReading
from ingest.contract.topics import STREAM_OF_KIND, Stream, TopicParts, build_topic
from ingest.db.device_cache import DeviceCache
from ingest.db.registry import RegisteredDevice

Decoded = tuple[str, Reading | Rejection]
"""The topic a result is stored under (native for a reading, the uplink's for a reason), and
the result."""


def _device(conn: psycopg.Connection, cache: DeviceCache, up: Uplink) -> RegisteredDevice | None:
    for network_id in up.network_ids:
        found = cache.network_device(conn, up.network.value, network_id)
        if found is not None:
            return found
    return None


def decode_uplink(
    conn: psycopg.Connection,
    cache: DeviceCache,
    prefix: str,
    network: Network,
    topic: str,
    envelope: bytes,
    received_at: datetime,
) -> list[Decoded]:
    """Decode one uplink off a ``network`` bridge; at least one result, never raises for bad
    input. Looks devices up in its own short transaction (the writer opens its own after)."""
    up = parse_uplink(topic, envelope)
    if isinstance(up, str):
        return [(topic, Rejection(up))]
    if up.network is not network:
        return [
            (topic, Rejection(f"topic does not parse: a {up.network} topic on a {network} bridge"))
        ]
    with conn.transaction():
        device = _device(conn, cache, up)
    if device is None:
        eui = f" (DevEUI {up.dev_eui})" if up.dev_eui and up.dev_eui != up.device_id else ""
        return [(topic, Rejection(f"unknown device: {network} device {up.device_id}{eui}"))]
    own = STREAM_OF_KIND[device.kind]
    native = build_topic(prefix, device.council, own, device.device_id)
    found = readings(up, device)
    if isinstance(found, str):
        return [(topic, Rejection(found, TopicParts(device.council, own, device.device_id)))]
    if not found:
        port = "no port" if up.f_port is None else f"port {up.f_port}"
        reason = f"no readings: the uplink ({port}, {len(up.payload)} bytes) carries no measurement"
        return [(topic, Rejection(reason, TopicParts(device.council, own, device.device_id)))]
    results: list[Decoded] = []
    for payload in found:
        stream = Stream.BIN_FILL if isinstance(payload, BinFillReading) else Stream.FOOTFALL
        parts = TopicParts(device.council, stream, device.device_id)
        if stream is not own:
            results.append(
                (
                    topic,
                    Rejection(f"wrong stream for device: {stream} from a {device.kind}", parts),
                )
            )
        elif payload.ts - received_at > MAX_CLOCK_AHEAD:
            reason = (
                f"out of range: timestamp {payload.ts.isoformat()} is more than "
                f"{MAX_CLOCK_AHEAD} ahead of the ingest clock"
            )
            results.append((topic, Rejection(reason, parts)))
        else:
            results.append((native, Reading(parts, payload)))
    return results
