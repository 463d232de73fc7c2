"""Milesight EM500-UDL: an ultrasonic distance/level sensor that also resends readings it
stored while the network was unreachable (the ``em-series/em500-udl`` page of Milesight's
SensorDecoders).

Channels: battery ``01 75`` (1 byte, %), distance ``03 82`` (2 bytes, mm), distance alarm
``83 E9`` (distance 2 bytes + change 2 bytes + alarm 1 byte), historical data ``20 CE``
(Unix time 4 bytes + distance 2 bytes).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ingest.codecs.base import Device, Model, Reading, Undecodable, check_ultrasonic, fill_pct
from ingest.codecs.base import number as config_number
from ingest.codecs.milesight import BATTERY, Length, channels, u16, unix_time
from ingest.contract.lorawan import Uplink
from ingest.contract.payloads import BinFillReading

DISTANCE = (0x03, 0x82)
DISTANCE_ALARM = (0x83, 0xE9)
HISTORY = (0x20, 0xCE)
_LENGTHS: Mapping[tuple[int, int], Length] = {
    BATTERY: 1,
    DISTANCE: 2,
    DISTANCE_ALARM: 5,
    HISTORY: 6,
}
DOCUMENT = "https://github.com/Milesight-IoT/SensorDecoders/tree/main/em-series/em500-udl"


def decode(uplink: Uplink, device: Device) -> list[Reading]:
    """A fill reading for the current distance (plain or alarm) and one per stored record."""
    depth = device.depth_mm
    blind = config_number(device.model_config, "blind_mm", 0)
    found: list[tuple[datetime, int]] = []
    for key, data in channels(uplink.payload, _LENGTHS):
        if key in (DISTANCE, DISTANCE_ALARM):
            found.append((uplink.time, u16(data)))
        elif key == HISTORY:
            found.append((unix_time(data), u16(data, 4)))
    if not found:
        return []
    if depth is None:
        raise Undecodable("device has no depth_mm")
    return [BinFillReading(ts=ts, fill_pct=fill_pct(d, depth, blind)) for ts, d in found]


def check(config: Mapping[str, Any], depth_mm: int | None, kind: str) -> str | None:
    """Registry check: a bin with a depth."""
    return check_ultrasonic(config, depth_mm, kind)


MODEL = Model("em500-udl", "bin", decode, check, DOCUMENT)
