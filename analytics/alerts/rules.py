"""Which alert conditions hold now: pure functions over what the database knows.

A bin's fire, tilt and fill come from its latest reading, its battery from its latest reading
that reported one. A registered device is silent when its last reading (or, never heard from,
its registration) is older than ``silent_after_h``. A pothole is worth an alert from the moment
it is confirmed until it is repaired or merged as a duplicate; a reported pothole still is one.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ingest.kernel.params import require_in

Kind = Literal[
    "bin_fire", "bin_tilted", "bin_overflowing", "device_silent", "battery_low", "pothole_confirmed"
]
KINDS: tuple[Kind, ...] = (
    "bin_fire",
    "bin_tilted",
    "bin_overflowing",
    "device_silent",
    "battery_low",
    "pothole_confirmed",
)
OPEN_POTHOLE = ("confirmed", "reported", "reopened")


@dataclass(frozen=True)
class AlertParams:
    """Thresholds of the rules.

    Parameters
    ----------
    silent_after_h
        Hours without a reading after which a registered device is silent.
    battery_low_v
        Battery voltage below which a bin's battery is low.
    overflow_pct
        Fill from which a bin counts as overflowing.
    """

    silent_after_h: float = 6.0
    battery_low_v: float = 3.3
    overflow_pct: float = 98.0

    def __post_init__(self) -> None:
        require_in("silent_after_h", self.silent_after_h, 0, 720, lo_open=True)
        require_in("battery_low_v", self.battery_low_v, 0, 24, lo_open=True)
        require_in("overflow_pct", self.overflow_pct, 50, 150)


@dataclass(frozen=True)
class BinLatest:
    """A registered bin's latest reading (``ts`` None if never heard) and latest battery."""

    device_id: str
    ts: datetime | None
    fill_pct: float | None
    flags: tuple[str, ...]
    battery_v: float | None
    battery_ts: datetime | None
    street: str | None = None


@dataclass(frozen=True)
class DeviceHeard:
    """A registered device and when it was last heard from (``None``: never)."""

    device_id: str
    kind: str
    registered_at: datetime
    last_ts: datetime | None
    street: str | None = None


@dataclass(frozen=True)
class PotholeFacts:
    """A pothole in an open state."""

    pothole_id: int
    state: str
    lat: float
    lon: float
    severity: float
    confidence: float
    devices: int
    state_changed_at: datetime
    street: str | None = None


@dataclass(frozen=True)
class Firing:
    """A condition that holds now: ``subject`` (a device or pothole id) within its council."""

    kind: Kind
    subject: str
    message: str
    since: datetime
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """What makes two firings the same alert."""
        return (self.kind, self.subject)


def _when(ts: datetime) -> str:
    return f"{ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _named(what: str, street: str | None) -> str:
    """``what`` and, when known, where it is: "bin b1 (High Street, near Church Street)"."""
    return f"{what} ({street})" if street else what


def bin_alerts(bins: Iterable[BinLatest], params: AlertParams) -> list[Firing]:
    """Fire, tilt, overflow and low battery, from each bin's latest readings."""
    out: list[Firing] = []
    for b in bins:
        name = _named(f"bin {b.device_id}", b.street)
        if b.ts is not None:
            if "fire" in b.flags:
                out.append(Firing("bin_fire", b.device_id, f"{name} reports a fire", b.ts))
            if "tilted" in b.flags:
                out.append(
                    Firing(
                        "bin_tilted",
                        b.device_id,
                        f"{name} is tipped over: litter may be on the street",
                        b.ts,
                    )
                )
            if b.fill_pct is not None and b.fill_pct >= params.overflow_pct:
                out.append(
                    Firing(
                        "bin_overflowing",
                        b.device_id,
                        f"{name} is overflowing",
                        b.ts,
                        {"fill_pct": round(b.fill_pct, 1)},
                    )
                )
        low = b.battery_v is not None and b.battery_v < params.battery_low_v
        if low and b.battery_v is not None and b.battery_ts is not None:
            out.append(
                Firing(
                    "battery_low",
                    b.device_id,
                    f"{name} battery low: {b.battery_v:.2f} V (below {params.battery_low_v:.2f} V)",
                    b.battery_ts,
                    {"battery_v": round(b.battery_v, 3)},
                )
            )
    return out


def silent_devices(
    devices: Iterable[DeviceHeard], now: datetime, params: AlertParams
) -> list[Firing]:
    """Registered devices not heard from for longer than ``silent_after_h``."""
    limit = timedelta(hours=params.silent_after_h)
    out: list[Firing] = []
    for d in devices:
        since = d.last_ts or d.registered_at
        if now - since <= limit:
            continue
        heard = f"last heard {_when(d.last_ts)}" if d.last_ts else "never heard from"
        out.append(
            Firing(
                "device_silent",
                d.device_id,
                f"{_named(f'{d.kind} {d.device_id}', d.street)} is silent: {heard}",
                since,
                {
                    "device_kind": d.kind,
                    "last_reading": d.last_ts.isoformat() if d.last_ts else None,
                },
            )
        )
    return out


def pothole_alerts(potholes: Iterable[PotholeFacts]) -> list[Firing]:
    """Potholes confirmed (or reopened after a repair) and not yet repaired."""
    out: list[Firing] = []
    for p in potholes:
        if p.state not in OPEN_POTHOLE:
            continue
        what = "reopened after a repair" if p.state == "reopened" else "confirmed"
        out.append(
            Firing(
                "pothole_confirmed",
                str(p.pothole_id),
                f"pothole {p.pothole_id} {what} "
                f"{p.street or f'at {p.lat:.5f}, {p.lon:.5f}'} "
                f"(severity {p.severity:.2f}, {p.devices} phones)",
                p.state_changed_at,
                {
                    "state": p.state,
                    "lat": p.lat,
                    "lon": p.lon,
                    "severity": round(p.severity, 3),
                    "confidence": round(p.confidence, 3),
                    "devices": p.devices,
                },
            )
        )
    return out


def resolution(kind: str, subject: str, pothole_state: str | None = None) -> str:
    """The sentence that says an alert's condition has cleared."""
    if kind == "pothole_confirmed":
        now = {"repaired": "repaired", "duplicate": "merged as a duplicate"}.get(
            pothole_state or "", "no longer open"
        )
        return f"pothole {subject} {now}"
    return {
        "bin_fire": f"bin {subject} no longer reports a fire",
        "bin_tilted": f"bin {subject} is upright again",
        "bin_overflowing": f"bin {subject} is no longer overflowing",
        "device_silent": f"device {subject} is reporting again",
        "battery_low": f"bin {subject} battery is back above the threshold",
    }.get(kind, f"{kind} {subject} cleared")
