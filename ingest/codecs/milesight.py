"""The channel framing Milesight sensors share (the maker's SensorDecoders documentation).

An uplink is a run of channels, each ``channel id (1 byte), channel type (1 byte), data``, the
data's length fixed by the (id, type) pair; multi-byte numbers are little-endian. The ``0xFF``
channels carry device attributes (versions, serial number, reset events), sent at power-on.
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from ingest.codecs.base import Undecodable

ATTRIBUTES: Mapping[tuple[int, int], int] = {
    (0xFF, 0x01): 1,  # IPSO version
    (0xFF, 0x09): 2,  # hardware version
    (0xFF, 0x0A): 2,  # firmware version
    (0xFF, 0xFF): 2,  # TSL version
    (0xFF, 0x16): 8,  # serial number
    (0xFF, 0x0F): 1,  # LoRaWAN class
    (0xFF, 0xFE): 1,  # reset event
    (0xFF, 0x0B): 1,  # device status
}
BATTERY = (0x01, 0x75)
"""Battery level, one byte, percent (the same channel on every model here)."""


Length = int | Callable[[bytes], int]
"""A channel's data length, or a function of the bytes after its header that tells it."""


def channels(
    payload: bytes, lengths: Mapping[tuple[int, int], Length]
) -> Iterator[tuple[tuple[int, int], bytes]]:
    """Split a payload into ``((id, type), data)``.

    Raises :class:`Undecodable` for a channel the model does not know (its length is then
    unknown, so nothing after it can be read) or for a channel cut short.
    """
    known = {**ATTRIBUTES, **lengths}
    at = 0
    while at < len(payload):
        if at + 2 > len(payload):
            raise Undecodable(f"undecodable payload: truncated channel header at byte {at}")
        key = (payload[at], payload[at + 1])
        if key not in known:
            raise Undecodable(
                f"undecodable payload: unknown channel 0x{key[0]:02X} 0x{key[1]:02X} at byte {at}"
            )
        length = known[key]
        size = length if isinstance(length, int) else length(payload[at + 2 :])
        end = at + 2 + size
        if end > len(payload):
            raise Undecodable(
                f"undecodable payload: channel 0x{key[0]:02X} 0x{key[1]:02X} at byte {at} "
                f"needs {size} bytes, has {len(payload) - at - 2}"
            )
        yield key, payload[at + 2 : end]
        at = end


def u16(data: bytes, at: int = 0) -> int:
    """An unsigned little-endian 16-bit number."""
    return int.from_bytes(data[at : at + 2], "little")


def unix_time(data: bytes, at: int = 0) -> datetime:
    """A little-endian 32-bit Unix time, as an aware datetime."""
    return datetime.fromtimestamp(int.from_bytes(data[at : at + 4], "little"), UTC)
