"""Phones in vehicles: trips over roads with potholes, speed humps, manholes and rough stretches.

A trip drives a route (:mod:`simulators.ride`), samples the phone's accelerometer (any fixed
orientation, with noise, engine vibration and road texture) and 1 Hz GPS, runs the reference
detector on the trace and turns its events into ``bump`` reports, with the ground truth of what
each pass really hit. Samples are taken at instants, not averaged, so a 5 Hz phone aliases the
engine and often misses a 60 ms jolt altogether, as such phones do. Measured on one core: a
10-minute trip at 50 Hz (30,000 samples) simulates and detects in about 0.15 s, of which
detection takes 0.035 s.
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from analytics.potholes.detector import DetectorParams, Sample
from analytics.potholes.phone_upload import phone_upload
from analytics.potholes.privacy import TRIP_END_MARGIN_M, kept_mask
from ingest.contract.payloads import BumpReport, TripCoverage
from ingest.kernel.params import require, require_in
from simulators.features import FeatureKind, RoadFeature
from simulators.ride import HIT_PROBABILITY, FeatureHit, Ride, drive, vertical
from simulators.route import PASS_RADIUS_M, Route

__all__ = [
    "HIT_PROBABILITY",
    "PASS_RADIUS_M",
    "RATES_HZ",
    "FeatureHit",
    "FeatureKind",
    "PhoneProfile",
    "RoadFeature",
    "Trip",
    "random_phone",
    "simulate_trip",
]

RATES_HZ = (5.0, 10.0, 20.0, 50.0, 100.0)
_RATE_WEIGHTS = (1, 2, 2, 3, 2)  # a few old or power-saving phones report at 5 Hz
_Fix = tuple[float, float, float, float]  # lat, lon, speed (m/s), accuracy (m)


@dataclass(frozen=True)
class PhoneProfile:
    """A phone's sensors: accelerometer rate (Hz) and noise (g), the engine vibration it picks
    up (Hz, g) and its GPS error (m)."""

    sample_hz: float = 50.0
    noise_g: float = 0.03
    engine_hz: float = 25.0
    engine_g: float = 0.03
    gps_sigma_m: float = 3.0

    def __post_init__(self) -> None:
        require_in("sample_hz", self.sample_hz, 5, 100)
        require_in("noise_g", self.noise_g, 0, 0.5)
        require_in("engine_hz", self.engine_hz, 5, 100)
        require_in("engine_g", self.engine_g, 0, 0.5)
        require_in("gps_sigma_m", self.gps_sigma_m, 0, 50)


def random_phone(rng: random.Random) -> PhoneProfile:
    """Draw a phone: 5 to 100 Hz, noise 0.02-0.05 g, engine at 15-30 Hz, GPS error 2-4 m."""
    return PhoneProfile(
        sample_hz=rng.choices(RATES_HZ, weights=_RATE_WEIGHTS)[0],
        noise_g=rng.uniform(0.02, 0.05),
        engine_hz=rng.uniform(15, 30),
        engine_g=rng.uniform(0.01, 0.04),
        gps_sigma_m=rng.uniform(2, 4),
    )


@dataclass(frozen=True)
class Trip:
    """A simulated trip: the reports its phone sends and the ground truth of what it hit."""

    phone: PhoneProfile
    duration_s: float
    distance_m: float
    reports: tuple[BumpReport, ...]
    hits: tuple[FeatureHit, ...]
    samples: tuple[Sample, ...] | None = None
    coverage: TripCoverage | None = None
    """Where the trip went, ends trimmed, as the phone sends it; ``None`` for a short trip."""


def simulate_trip(
    route: Sequence[tuple[float, float]],
    leg_speeds_mps: Sequence[float],
    features: Sequence[RoadFeature],
    start: datetime,
    rng: random.Random,
    phone: PhoneProfile | None = None,
    *,
    keep_samples: bool = False,
    params: DetectorParams | None = None,
    trip_margin_m: float = TRIP_END_MARGIN_M,
) -> Trip:
    """Drive ``route`` once with a phone on board and detect jolts as the phone would.

    Parameters
    ----------
    route
        Points (lat, lon) along the roads, in driving order; at least two.
    leg_speeds_mps
        Road speed of each leg (one fewer than points); each is driven within ±10% of it.
    features
        What is on the road; those within ``PASS_RADIUS_M`` of the route are passed.
    start
        Timezone-aware time at which the trip starts (engine running, vehicle at rest).
    rng
        The only source of randomness: the same seed gives byte-identical reports.
    phone
        The phone; drawn from ``rng`` when None. Its orientation is drawn for every trip.
    keep_samples
        Keep the accelerometer trace in ``Trip.samples``.
    params
        Thresholds of the detector; its defaults when None.
    trip_margin_m
        The phone sends nothing from this far of each end of the trip (privacy); 0 keeps all.

    Returns
    -------
    Trip
        Reports (``seq`` counts them from 0), the coverage track, ground truth and, if asked,
        the samples. Ground truth keeps hits in the trimmed ends.
    """
    require(
        len(route) >= 2 and len(leg_speeds_mps) == len(route) - 1,
        "Expected at least two route points and one speed per leg.",
    )
    require(all(0 < v <= 40 for v in leg_speeds_mps), "Expected leg speeds in (0, 40].")
    require(start.tzinfo is not None, "Expected a timezone-aware start.")
    phone = phone or random_phone(rng)
    path = Route(route)
    targets = [v * rng.uniform(0.9, 1.1) for v in leg_speeds_mps]
    ride = drive(path.cum, targets, phone.sample_hz, rng)
    z, hits = vertical(ride, path, features, start, rng)
    samples, fixes = _sense(phone, ride, path, z, rng)
    # The phone's upload: detected jolts and its track, both without the trip's ends. Each
    # sample carries the accuracy of the 1 Hz fix it belongs to.
    n, hz = len(samples), phone.sample_hz
    accuracy = [fixes[round(s.t)][3] for s in samples]
    upload = phone_upload(samples, start, accuracy, params or DetectorParams(), trip_margin_m)
    shared = kept_mask(samples, trip_margin_m)
    hits = [replace(h, private=not shared[min(round(h.t_s * hz), n - 1)]) for h in hits]
    kept = tuple(samples) if keep_samples else None
    return Trip(
        phone, (n - 1) / hz, path.cum[-1], upload.reports, tuple(hits), kept, upload.coverage
    )


def _sense(
    phone: PhoneProfile, ride: Ride, path: Route, z: list[float], rng: random.Random
) -> tuple[list[Sample], list[_Fix]]:
    """What the phone records: accelerometer samples in its own axes (gravity, the ride, the
    engine's shaking and sensor noise), with GPS interpolated between its 1 Hz fixes."""
    hz = ride.hz
    rot = _random_rotation(rng)
    e = [rng.gauss(0, 1) for _ in range(3)]  # the engine shakes the phone along one direction
    ex, ey, ez = (c * phone.engine_g / (math.hypot(*e) or 1.0) for c in e)
    w, phase = 2 * math.pi * phone.engine_hz, rng.uniform(0, 2 * math.pi)
    fixes = _gps(path, ride, phone.gps_sigma_m, rng)
    samples = []
    for m in range(len(ride.dist)):
        t = m / hz
        k, frac = int(t), t - int(t)
        (lat0, lon0, v0, _), (lat1, lon1, v1, _) = fixes[k], fixes[k + 1]
        engine = math.sin(w * t + phase)  # sampled at instants, so it aliases as it would
        vx, vy, vz = ride.accel[m] + ex * engine, ey * engine, 1.0 + z[m] + ez * engine
        ax, ay, az = (r[0] * vx + r[1] * vy + r[2] * vz + rng.gauss(0, phone.noise_g) for r in rot)
        lat, lon = lat0 + frac * (lat1 - lat0), lon0 + frac * (lon1 - lon0)
        samples.append(Sample(t, lat, lon, v0 + frac * (v1 - v0), ax, ay, az))
    return samples, fixes


def _gps(path: Route, ride: Ride, sigma: float, rng: random.Random) -> list[_Fix]:
    """1 Hz fixes (lat, lon, speed, accuracy_m), one past the end for interpolation."""
    dist, speed, hz = ride.dist, ride.speed, ride.hz
    rho = 0.9  # GPS error wanders slowly rather than jumping every second
    nx, ny, scale = rng.gauss(0, sigma), rng.gauss(0, sigma), sigma * math.sqrt(1 - rho * rho)
    fixes = []
    for k in range(math.ceil((len(dist) - 1) / hz) + 2):
        m = min(len(dist) - 1, round(k * hz))
        lat, lon = path.point_at(dist[m], nx, ny)
        accuracy = round(min(8.0, max(3.0, sigma * rng.uniform(1.0, 2.5))), 1)
        fixes.append((lat, lon, max(0.0, speed[m] + rng.gauss(0, 0.2)), accuracy))
        nx, ny = rho * nx + rng.gauss(0, scale), rho * ny + rng.gauss(0, scale)
    return fixes


def _random_rotation(rng: random.Random) -> list[tuple[float, float, float]]:
    """Rows of a uniformly random rotation (Shoemake's random unit quaternion)."""
    u1, u2, u3 = rng.random(), 2 * math.pi * rng.random(), 2 * math.pi * rng.random()
    a, b = math.sqrt(1 - u1), math.sqrt(u1)
    x, y, z, w = a * math.sin(u2), a * math.cos(u2), b * math.sin(u3), b * math.cos(u3)
    return [
        (1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
        (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
        (2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)),
    ]
