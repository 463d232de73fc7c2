"""What every device model shares: the device facts it needs, its errors, the fill formula."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ingest.contract.lorawan import Uplink
from ingest.contract.payloads import BinFillReading, FootfallCount

Reading = BinFillReading | FootfallCount
"""What a model turns an uplink into: payloads of the device contract."""


class Device(Protocol):
    """The registry facts a model reads (``ingest.db.registry.RegisteredDevice`` has them)."""

    @property
    def kind(self) -> str: ...
    @property
    def depth_mm(self) -> int | None: ...
    @property
    def model_config(self) -> Mapping[str, Any]: ...


class Undecodable(ValueError):
    """An uplink a model cannot turn into readings; the message is the reason."""


@dataclass(frozen=True)
class Model:
    """One device model: what kind of device it is and how to read its uplinks."""

    name: str
    kind: Literal["bin", "counter"] | None
    """The registry kind it serves; ``None`` when the per-device configuration decides."""
    decode: Callable[[Uplink, Device], list[Reading]]
    """Turn an uplink into readings; raise :class:`Undecodable` with a reason."""
    check: Callable[[Mapping[str, Any], int | None, str], str | None]
    """Why a device's ``model_config``, ``depth_mm`` and kind do not suit the model, or ``None``."""
    document: str
    """The maker's documentation the decoder follows."""


def fill_pct(distance_mm: float, depth_mm: int, blind_mm: float) -> float:
    """How full a bin is from a downward-looking distance sensor at its top, in percent.

    ``(depth - distance) / depth``, clamped to [0, 100]. Inside the sensor's blind zone (closer
    than ``blind_mm``) the echo cannot be measured reliably, and an object that close means the
    waste has reached the sensor: the bin is full.
    """
    if distance_mm < blind_mm:
        return 100.0
    return round(min(100.0, max(0.0, (depth_mm - distance_mm) / depth_mm * 100)), 1)


def number(config: Mapping[str, Any], key: str, default: float) -> float:
    """A numeric ``model_config`` entry, or its default."""
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Undecodable(f"invalid value: model_config.{key} is not a number")
    return float(value)


def check_ultrasonic(config: Mapping[str, Any], depth_mm: int | None, kind: str) -> str | None:
    """The registry check shared by ultrasonic bin-fill models."""
    if kind != "bin":
        return "an ultrasonic fill sensor must be registered as a bin"
    if depth_mm is None:
        return "an ultrasonic fill sensor needs depth_mm (sensor to bin floor)"
    unknown = set(config) - {"blind_mm"}
    if unknown:
        return f"unknown model_config key(s): {', '.join(sorted(unknown))}"
    try:
        blind = number(config, "blind_mm", 0)
    except Undecodable as exc:
        return str(exc)
    if not 0 <= blind < depth_mm:
        return "model_config.blind_mm must be at least 0 and less than depth_mm"
    return None
