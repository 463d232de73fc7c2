"""Milesight EM310-UDL: an ultrasonic distance sensor that reports the distance and whether it
was knocked over (the ``em-series/em310-udl`` page of Milesight's SensorDecoders).

Channels: battery ``01 75`` (1 byte, %), distance ``03 82`` (2 bytes, mm), position ``04 00``
(1 byte: 0 normal, 1 tilt).
"""

from collections.abc import Mapping
from typing import Any

from ingest.codecs.base import Device, Model, Reading, Undecodable, check_ultrasonic, fill_pct
from ingest.codecs.base import number as config_number
from ingest.codecs.milesight import BATTERY, Length, channels, u16
from ingest.contract.lorawan import Uplink
from ingest.contract.payloads import BinFillReading, BinFlag

DISTANCE = (0x03, 0x82)
POSITION = (0x04, 0x00)
_LENGTHS: Mapping[tuple[int, int], Length] = {BATTERY: 1, DISTANCE: 2, POSITION: 1}
DOCUMENT = "https://github.com/Milesight-IoT/SensorDecoders/tree/main/em-series/em310-udl"


def decode(uplink: Uplink, device: Device) -> list[Reading]:
    """One fill reading per uplink that carries a distance; none for an attributes-only one."""
    distance: int | None = None
    flags: list[BinFlag] = []
    for key, data in channels(uplink.payload, _LENGTHS):
        if key == DISTANCE:
            distance = u16(data)
        elif key == POSITION:
            if data[0] not in (0, 1):
                raise Undecodable(f"undecodable payload: position value {data[0]} is not 0 or 1")
            if data[0] == 1:
                flags.append(BinFlag.TILTED)
    if distance is None:
        return []
    depth = device.depth_mm
    if depth is None:
        raise Undecodable("device has no depth_mm")
    blind = config_number(device.model_config, "blind_mm", 0)
    return [BinFillReading(ts=uplink.time, fill_pct=fill_pct(distance, depth, blind), flags=flags)]


def check(config: Mapping[str, Any], depth_mm: int | None, kind: str) -> str | None:
    """Registry check: a bin with a depth."""
    return check_ultrasonic(config, depth_mm, kind)


MODEL = Model("em310-udl", "bin", decode, check, DOCUMENT)
