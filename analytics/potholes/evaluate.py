"""Evaluating confirmation end to end on simulated towns: detector → reports → confirm → truth.

Phones are a fixed pool per town, so the same phone drives several trips (distinct phones, not
trips, confirm a pothole). A confirmed pothole is right when a true pothole lies within
``match_m``; a true pothole is found when a confirmed pothole lies within ``match_m`` of it.
"""

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from analytics.geo.geometry import offset_m
from analytics.potholes.confirm import Asset, ConfirmParams, DeviceReport, Pothole, confirm
from analytics.potholes.coverage import Segment, segments_from_network
from analytics.potholes.merge import RoadLookup
from ingest.kernel.params import require, require_in
from simulators.features import RoadFeature
from simulators.phones import random_phone, simulate_trip
from simulators.world import build_world

START = datetime(2026, 3, 2, 8, tzinfo=UTC)


@dataclass(frozen=True)
class EvaluationParams:
    """What to simulate and how to score it.

    Parameters
    ----------
    seeds
        Towns (``build_world`` seeds).
    trips
        Trips per town.
    phones
        Distinct phones per town; each trip draws one.
    rates_hz
        Sample rates the phones are drawn from, uniformly.
    match_m
        Largest distance (m) between a confirmed and a true pothole that match.
    well_hit
        Distinct phones hitting a pothole for it to count in the "well hit" recall.
    """

    seeds: tuple[int, ...] = (1, 2, 3)
    trips: int = 400
    phones: int = 200
    rates_hz: tuple[float, ...] = (20.0, 50.0, 100.0)
    match_m: float = 15.0
    well_hit: int = 5

    def __post_init__(self) -> None:
        require(bool(self.seeds), "Expected at least one seed.")
        require_in("trips", self.trips, 1, 100_000)
        require_in("phones", self.phones, 1, 100_000)
        rates_ok = bool(self.rates_hz) and all(5 <= r <= 100 for r in self.rates_hz)
        require(rates_ok, "Expected rates_hz in [5, 100].")
        require_in("match_m", self.match_m, 0, 100, lo_open=True)
        require_in("well_hit", self.well_hit, 1, 1000)


@dataclass(frozen=True)
class Score:
    """Figures of one run (all towns pooled)."""

    reports: int
    clusters: int
    confirmed: int
    true_confirmed: int
    potholes_hit: int
    potholes_found: int
    well_hit: int
    well_hit_found: int
    well_hit_any: int
    well_hit_any_found: int
    humps_well_hit: int
    humps_confirmed: int
    false_by_kind: dict[str, int]
    located: int
    """True potholes with at least one confirmed pothole within ``match_m`` (hit or not)."""
    located_by: int
    """Confirmed potholes within ``match_m`` of those, summed over them."""
    distinct_true: int
    """Confirmed potholes that are the nearest of a true pothole within ``match_m``."""

    @property
    def precision(self) -> float:
        """Confirmed potholes within reach of a true pothole, as a share of confirmed."""
        return _share(self.true_confirmed, self.confirmed)

    @property
    def recall_well_hit(self) -> float:
        """Potholes hit by at least ``well_hit`` phones that were confirmed."""
        return _share(self.well_hit_found, self.well_hit)

    @property
    def recall_well_hit_any(self) -> float:
        """As ``recall_well_hit``, but counting hits in trip ends, of which phones send nothing:
        the difference is what the privacy rule costs."""
        return _share(self.well_hit_any_found, self.well_hit_any)

    @property
    def recall(self) -> float:
        """Potholes hit at least once that were confirmed."""
        return _share(self.potholes_found, self.potholes_hit)

    @property
    def precision_distinct(self) -> float:
        """As ``precision``, but a second confirmed pothole on one true pothole counts as wrong."""
        return _share(self.distinct_true, self.confirmed)

    @property
    def per_pothole(self) -> float:
        """Confirmed potholes per true pothole found: 1 when each is listed once, 2 when twice."""
        return _share(self.located_by, self.located)

    @property
    def hump_share(self) -> float:
        """Speed humps hit by ``well_hit`` phones with a wrongly confirmed pothole on them."""
        return _share(self.humps_confirmed, self.humps_well_hit)


@dataclass(frozen=True)
class Town:
    """One simulated town's reports and truth."""

    reports: tuple[DeviceReport, ...]
    features: tuple[RoadFeature, ...]
    hit_by: dict[str, frozenset[str]]
    """Feature id → distinct devices that hit it outside their trips' private ends."""
    hit_by_any: dict[str, frozenset[str]]
    """Feature id → distinct devices that hit it anywhere."""
    roads: tuple[Segment, ...] = ()
    """The town's road segments, as a council would import them."""


Progress = Callable[[int], None]
"""Called with the number of trips just simulated (1), for a progress bar."""


def simulate_town(seed: int, params: EvaluationParams, progress: Progress | None = None) -> Town:
    """Drive ``params.trips`` trips through the town of ``seed`` and collect their reports."""
    world = build_world("bench", seed=seed, bins=1, counters=1)
    reports: list[DeviceReport] = []
    hit_by: dict[str, set[str]] = defaultdict(set)
    hit_by_any: dict[str, set[str]] = defaultdict(set)
    for n in range(params.trips):
        rng = random.Random(f"bench-potholes-{seed}-{n}")
        device = rng.randrange(params.phones)
        device_rng = random.Random(f"bench-potholes-phone-{seed}-{device}")
        phone = replace(random_phone(device_rng), sample_hz=device_rng.choice(params.rates_hz))
        path = world.network.random_trip(rng)
        trip = simulate_trip(
            world.network.route_points(path),
            world.network.leg_speeds(path),
            world.features,
            START + timedelta(minutes=5 * n),
            rng,
            phone,
        )
        device_id = f"phone-{device:05d}"
        reports.extend(DeviceReport(device_id, r) for r in trip.reports)
        for h in trip.hits:
            hit_by_any[h.feature_id].add(device_id)
            if not h.private:
                hit_by[h.feature_id].add(device_id)
        if progress is not None:
            progress(1)
    return Town(
        tuple(reports),
        world.features,
        {k: frozenset(v) for k, v in hit_by.items()},
        {k: frozenset(v) for k, v in hit_by_any.items()},
        tuple(segments_from_network(world.network)),
    )


def known_assets(features: Sequence[RoadFeature], radius_m: float = 8.0) -> list[Asset]:
    """The asset layer a council would import: the speed humps and manholes it knows."""
    return [
        Asset(f.kind, f.lat, f.lon, radius_m)
        for f in features
        if f.kind == "speed_hump" or f.kind == "manhole"
    ]


def score(towns: Sequence[tuple[Town, list[Pothole]]], params: EvaluationParams) -> Score:
    """Match each town's potholes to its truth and pool the figures."""
    c: dict[str, int] = defaultdict(int)
    false_by_kind: dict[str, int] = defaultdict(int)
    for town, potholes in towns:
        confirmed = [p for p in potholes if p.state == "confirmed"]
        truth = [f for f in town.features if f.kind == "pothole"]
        credited: set[int] = set()
        c["reports"] += len(town.reports)
        c["clusters"] += len(potholes)
        c["confirmed"] += len(confirmed)
        for p in confirmed:
            near = [f for f in town.features if _metres(p, f) <= params.match_m]
            if any(f.kind == "pothole" for f in near):
                c["true"] += 1
            else:
                kind = min(near, key=lambda f: _metres(p, f)).kind if near else "nothing"
                false_by_kind[kind] += 1
        for f in truth:
            devices = len(town.hit_by.get(f.feature_id, ()))
            near_f = [i for i, p in enumerate(confirmed) if _metres(p, f) <= params.match_m]
            found = bool(near_f)
            c["located"] += found
            c["located_by"] += len(near_f)
            if found:
                credited.add(min(near_f, key=lambda i: _metres(confirmed[i], f)))
            c["hit"] += devices > 0
            c["found"] += devices > 0 and found
            c["well"] += devices >= params.well_hit
            c["well_found"] += devices >= params.well_hit and found
            any_devices = len(town.hit_by_any.get(f.feature_id, ()))
            c["well_any"] += any_devices >= params.well_hit
            c["well_any_found"] += any_devices >= params.well_hit and found
        c["distinct"] += len(credited)
        for f in town.features:
            if f.kind != "speed_hump" or len(town.hit_by.get(f.feature_id, ())) < params.well_hit:
                continue
            c["humps"] += 1
            c["humps_confirmed"] += any(
                _metres(p, f) <= params.match_m
                and not any(_metres(p, t) <= params.match_m for t in truth)
                for p in confirmed
            )
    return Score(
        c["reports"], c["clusters"], c["confirmed"], c["true"], c["hit"], c["found"], c["well"],
        c["well_found"], c["well_any"], c["well_any_found"], c["humps"], c["humps_confirmed"],
        dict(false_by_kind), c["located"], c["located_by"], c["distinct"],
    )  # fmt: skip


def evaluate(
    params: EvaluationParams = EvaluationParams(),
    confirm_params: ConfirmParams | None = None,
    progress: Progress | None = None,
) -> dict[str, Score]:
    """Simulate the towns once and score confirmation with and without the asset layer.

    ``progress``, if given, is called once per simulated trip (``trips * len(seeds)`` in all).

    Returns
    -------
    dict[str, Score]
        Keys ``"with assets"`` and ``"without assets"``.
    """
    confirm_params = confirm_params or ConfirmParams()
    towns = [simulate_town(s, params, progress) for s in params.seeds]
    roads = [RoadLookup(t.roads) if t.roads else None for t in towns]
    with_assets = [
        (t, confirm(t.reports, known_assets(t.features), confirm_params, r))
        for t, r in zip(towns, roads, strict=True)
    ]
    without = [
        (t, confirm(t.reports, (), confirm_params, r)) for t, r in zip(towns, roads, strict=True)
    ]
    return {"with assets": score(with_assets, params), "without assets": score(without, params)}


def _share(part: int, whole: int) -> float:
    """``part / whole``, NaN when there is no whole to share."""
    return part / whole if whole else math.nan


def _metres(p: Pothole | RoadFeature, f: RoadFeature) -> float:
    east, north = offset_m(p.lat, p.lon, f.lat, f.lon)
    return math.hypot(north, east)
