"""The town's devices: bins along the streets of a road network, people counters on its high
street, each with how it behaves (fill rate, footfall). Positions are reproducible from the
seed."""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from analytics.geo.roads import Edge, RoadClass, RoadNetwork
from ingest.db.registry import DeviceCreate
from ingest.kernel.params import require

CENTRE = (52.6697, -0.7269)  # Oakham, Rutland: the shared OpenStreetMap extract covers it
ZONES = ("high-street", "market-place", "station")
BIN_TYPES = ("high_street", "park", "residential", "transport_hub")
BIN_SIZES = (120, 240, 360, 1100)
RATE_LOG_SD = 0.35
"""Spread of bins' fill rates around their location type's (sd of the log rate)."""


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


def make_town_on(
    network: RoadNetwork,
    council: str,
    *,
    seed: int = 1,
    bins: int = 500,
    counters: int = 20,
    centre: tuple[float, float] = CENTRE,
) -> Town:
    """Place bins along the network's streets and counters on its high street.

    High-street bins stand on the high street, residential and park bins on residential
    streets, transport-hub bins on primary roads; counters sit on the high street, in the zone
    that contains them.
    """
    require(bins >= 0 and counters >= 0, "Expected bins >= 0 and counters >= 0.")
    rng = random.Random(f"town-{seed}")
    sim_bins = _place_bins(network, council, bins, rng)
    sim_counters = _place_counters(network, council, counters, rng)
    return Town(council, centre, tuple(sim_bins), tuple(sim_counters))


def _place_bins(network: RoadNetwork, council: str, n: int, rng: random.Random) -> list[SimBin]:
    high = network.edges_by_class(RoadClass.HIGH_STREET)
    pools = {
        "high_street": high,
        "park": network.edges_by_class(RoadClass.RESIDENTIAL),
        "residential": network.edges_by_class(RoadClass.RESIDENTIAL),
        "transport_hub": network.edges_by_class(RoadClass.PRIMARY) or high,
    }
    # Weekly mean fill rates (%/hour) by location type, and each bin's own factor around them
    # (log-normal, sd RATE_LOG_SD), calibrated so that the town's bins match, bin by bin, the
    # physical fill rates of 324 Edinburgh litter bins with Enevo sensors in 2016 (each bin's
    # rise between collections over the days it covers: p10/p25/p50/p75/p90 about
    # 11/16/26/38/48 %/day, a median 3 days from empty to 80%, as Wyndham City's compactors
    # take 4; City of Edinburgh Council, OGL v3; see analytics.routing.calibration and
    # bench/fill_rates.py). Rates per collection interval (23/35/53 %/day at the quartiles)
    # over-count bins emptied often, and made the town fill about 30% too fast.
    rates = {"high_street": 1.75, "transport_hub": 1.3, "park": 1.05, "residential": 0.6}
    sim_bins = []
    for i in range(n):
        kind = rng.choices(BIN_TYPES, weights=(4, 2, 5, 1))[0]
        lat, lon = network.point_along(rng.choice(pools[kind]), rng.uniform(0.1, 0.9))
        size = BIN_SIZES[3] if kind == "transport_hub" else rng.choice(BIN_SIZES[:3])
        device_id = f"{council}-bin-{i + 1:04d}"
        device = _device(council, "bin", device_id, lat, lon, network.zone_of(lat, lon), size)
        # One uniform draw per bin, as before, so that seeds keep their towns' layouts.
        spread = NormalDist(0.0, RATE_LOG_SD).inv_cdf(min(max(rng.random(), 1e-6), 1 - 1e-6))
        sim_bins.append(SimBin(device, kind, rates[kind] * math.exp(spread)))
    return sim_bins


def _place_counters(
    network: RoadNetwork, council: str, n: int, rng: random.Random
) -> list[SimCounter]:
    high = network.edges_by_class(RoadClass.HIGH_STREET)
    require(bool(high) or n == 0, "Expected a high street to place counters on.")
    zones = [z.name for z in network.zones] or list(ZONES)
    sim_counters = []
    for i, edge in enumerate(_counter_edges(high, n)):
        lat, lon = network.point_along(edge, rng.uniform(0.2, 0.8))
        zone = network.zone_of(lat, lon) or zones[i % len(zones)]
        device = _device(council, "counter", f"{council}-counter-{i + 1:03d}", lat, lon, zone)
        sim_counters.append(SimCounter(device, rng.uniform(300, 1200)))
    return sim_counters


COUNTER_SPACING_M = 75.0
"""Counters stand at least this far apart along the high street: a real street's map has many
short edges (a generated town's are 100 m, one counter each)."""


def _counter_edges(high: Sequence[Edge], n: int) -> list[Edge]:
    """``n`` high-street edges in the street's order, ``COUNTER_SPACING_M`` apart, starting
    again from the first when the street runs out."""
    chosen: list[Edge] = []
    last_start, start, i = -math.inf, 0.0, 0
    while high and len(chosen) < n:
        if start - last_start >= COUNTER_SPACING_M:
            chosen.append(high[i])
            last_start = start
        start += high[i].length_m
        i += 1
        if i == len(high):
            last_start, start, i = -math.inf, 0.0, 0
    return chosen


def _device(
    council: str,
    kind: Literal["bin", "counter"],
    device_id: str,
    lat: float,
    lon: float,
    zone: str | None,
    capacity_litres: int | None = None,
) -> DeviceCreate:
    return DeviceCreate(
        council=council,
        kind=kind,
        device_id=device_id,
        lat=lat,
        lon=lon,
        zone=zone,
        capacity_litres=capacity_litres,
    )
