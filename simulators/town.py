"""A small synthetic town: bins along streets, people counters in town-centre zones.

Deliberately simple (a centre, a few zones, bins scattered along radial streets); it exists so
the whole data path can run without hardware. Positions are reproducible from the seed.
"""

import math
import random
from dataclasses import dataclass

from ingest.db.registry import DeviceCreate

CENTRE = (52.6697, -0.7269)  # Oakham, Rutland: the shared OpenStreetMap extract covers it
ZONES = ("high-street", "market-place", "station")
BIN_TYPES = ("high_street", "park", "residential", "transport_hub")
BIN_SIZES = (120, 240, 360, 1100)


@dataclass(frozen=True)
class SimBin:
    """A simulated bin: its registry entry and how fast it fills (percent per hour)."""

    device: DeviceCreate
    location_type: str
    fill_rate_pct_h: float


@dataclass(frozen=True)
class SimCounter:
    """A simulated people counter and how many people pass it in a typical busy hour."""

    device: DeviceCreate
    peak_per_hour: float


@dataclass(frozen=True)
class Town:
    """Everything the simulators need to know about the town."""

    council: str
    centre: tuple[float, float]
    bins: tuple[SimBin, ...]
    counters: tuple[SimCounter, ...]

    def devices(self) -> list[DeviceCreate]:
        """Registry entries of every bin and counter."""
        return [b.device for b in self.bins] + [c.device for c in self.counters]


def offset_metres(
    centre: tuple[float, float], metres_north: float, metres_east: float
) -> tuple[float, float]:
    lat = centre[0] + metres_north / 111_320
    lon = centre[1] + metres_east / (111_320 * math.cos(math.radians(centre[0])))
    return lat, lon


def make_town(
    council: str = "rutland", *, seed: int = 1, bins: int = 24, counters: int = 6
) -> Town:
    """Generate a town with ``bins`` bins and ``counters`` counters spread over the zones."""
    if bins < 0 or counters < 0:
        raise ValueError("Expected bins >= 0 and counters >= 0.")
    rng = random.Random(seed)
    sim_bins = []
    for i in range(bins):
        kind = rng.choices(BIN_TYPES, weights=(4, 2, 5, 1))[0]
        radius = (
            rng.uniform(50, 300)
            if kind in ("high_street", "transport_hub")
            else rng.uniform(200, 1500)
        )
        angle = rng.uniform(0, 2 * math.pi)
        lat, lon = offset_metres(CENTRE, radius * math.cos(angle), radius * math.sin(angle))
        zone = ZONES[i % len(ZONES)] if kind == "high_street" else None
        size = rng.choice(BIN_SIZES[:3]) if kind != "transport_hub" else BIN_SIZES[3]
        rate = {"high_street": 4.0, "park": 2.5, "residential": 1.2, "transport_hub": 3.0}[kind]
        sim_bins.append(
            SimBin(
                DeviceCreate(
                    council=council,
                    kind="bin",
                    device_id=f"{council}-bin-{i + 1:04d}",
                    lat=lat,
                    lon=lon,
                    zone=zone,
                    capacity_litres=size,
                ),
                kind,
                rate * rng.uniform(0.6, 1.4),
            )
        )
    sim_counters = []
    for i in range(counters):
        zone = ZONES[i % len(ZONES)]
        angle = rng.uniform(0, 2 * math.pi)
        lat, lon = offset_metres(CENTRE, 150 * math.cos(angle), 150 * math.sin(angle))
        sim_counters.append(
            SimCounter(
                DeviceCreate(
                    council=council,
                    kind="counter",
                    device_id=f"{council}-counter-{i + 1:03d}",
                    lat=lat,
                    lon=lon,
                    zone=zone,
                ),
                rng.uniform(300, 1200),
            )
        )
    return Town(council, CENTRE, tuple(sim_bins), tuple(sim_counters))
