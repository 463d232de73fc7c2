"""Milesight VS350: a passage people counter that reports how many people went in and out
during each reporting period (the ``vs-series/vs350`` page of Milesight's SensorDecoders).

Channels read: period in/out ``05 CC`` (2 + 2 bytes), timestamp ``0A EF`` (4 bytes, Unix time)
and historical data ``20 CE`` (Unix time 4 bytes, data type 1 byte, period in/out 2 + 2 bytes,
then total in/out 2 + 2 bytes when the type is 1), which the counter resends after an outage.
Running totals (``04 CC``), alarms and temperature are read past but not stored: the period
counts already say what happened in each period, with no resets to guess.

The payload does not say how long a period is; it is the device's reporting interval, given as
``model_config.period_s`` (default 600 s, to be set to what the counter is configured with).
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ingest.codecs.base import Device, Model, Reading, Undecodable, number
from ingest.codecs.milesight import BATTERY, Length, channels, u16, unix_time
from ingest.contract.lorawan import Uplink
from ingest.contract.payloads import FootfallCount

TEMPERATURE = (0x03, 0x67)
TOTAL = (0x04, 0xCC)
PERIOD = (0x05, 0xCC)
TIMESTAMP = (0x0A, 0xEF)
TEMPERATURE_ALARM = (0x83, 0x67)
TOTAL_ALARM = (0x84, 0xCC)
PERIOD_ALARM = (0x85, 0xCC)
HISTORY = (0x20, 0xCE)
DEFAULT_PERIOD_S = 600
DOCUMENT = "https://github.com/Milesight-IoT/SensorDecoders/tree/main/vs-series/vs350"


def _history_length(data: bytes) -> int:
    if len(data) < 5:
        return 5  # too short either way: channels() reports it
    if data[4] not in (0, 1):
        raise Undecodable(f"undecodable payload: history data type {data[4]} is not 0 or 1")
    return 9 if data[4] == 0 else 13


_LENGTHS: Mapping[tuple[int, int], Length] = {
    BATTERY: 1,
    TEMPERATURE: 2,
    TOTAL: 4,
    PERIOD: 4,
    TIMESTAMP: 4,
    TEMPERATURE_ALARM: 3,
    TOTAL_ALARM: 5,
    PERIOD_ALARM: 5,
    HISTORY: _history_length,
}


def _count(end: datetime, period: timedelta, in_: int, out: int) -> FootfallCount:
    return FootfallCount(
        period_start=end - period, period_end=end, count=in_ + out, count_in=in_, count_out=out
    )


def decode(uplink: Uplink, device: Device) -> list[Reading]:
    """A count for the period just ended (if reported), and one per resent record."""
    period = timedelta(seconds=number(device.model_config, "period_s", DEFAULT_PERIOD_S))
    end = uplink.time
    current: tuple[int, int] | None = None
    counts: list[Reading] = []
    for key, data in channels(uplink.payload, _LENGTHS):
        if key == PERIOD:
            current = (u16(data), u16(data, 2))
        elif key == TIMESTAMP:
            end = unix_time(data)
        elif key == HISTORY:
            counts.append(_count(unix_time(data), period, u16(data, 5), u16(data, 7)))
    if current is not None:
        counts.append(_count(end, period, *current))
    return counts


def check(config: Mapping[str, Any], depth_mm: int | None, kind: str) -> str | None:
    """Registry check: a counter, with a sensible period if one is given."""
    if kind != "counter":
        return "a VS350 must be registered as a counter"
    unknown = set(config) - {"period_s"}
    if unknown:
        return f"unknown model_config key(s): {', '.join(sorted(unknown))}"
    try:
        seconds = number(config, "period_s", DEFAULT_PERIOD_S)
    except Undecodable as exc:
        return str(exc)
    if not 60 <= seconds <= 24 * 3600:
        return "model_config.period_s must be between 60 and 86400"
    return None


MODEL = Model("vs350", "counter", decode, check, DOCUMENT)
