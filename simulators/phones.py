"""Phones in vehicles: trips over roads with potholes, speed humps, manholes and rough stretches.

A trip drives a route, samples the phone's accelerometer (any fixed orientation, with noise,
engine vibration and road texture) and 1 Hz GPS, runs the reference detector on the trace and
turns its events into ``bump`` reports, with the ground truth of what each pass really hit.
Samples are taken at instants, not averaged, so a 5 Hz phone aliases the engine and often misses
a 60 ms jolt altogether, as such phones do. There is no suspension model and no lateral
acceleration in bends. Measured on one core: a 10-minute trip at 50 Hz (30,000 samples)
simulates and detects in about 0.15 s, of which detection takes 0.035 s.
"""

import bisect
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from analytics.potholes.detector import DetectorParams, Sample, detect
from analytics.potholes.privacy import (
    TRIP_END_MARGIN_M,
    coverage_track,
    kept_mask,
    trim_trip_ends,
)
from ingest.contract.payloads import BumpReport, TripCoverage
from simulators.features import FeatureKind, RoadFeature
from simulators.town import offset_metres

RATES_HZ = (5.0, 10.0, 20.0, 50.0, 100.0)
_RATE_WEIGHTS = (1, 2, 2, 3, 2)  # a few old or power-saving phones report at 5 Hz
PASS_RADIUS_M = 2.0
"""A feature further than this from the route is not on the vehicle's path."""
HIT_PROBABILITY = 0.7
"""Share of passes over a pothole or manhole in which a wheel actually crosses it."""
_WHEELBASE_M = 2.7
_ACCEL_MPS2, _BRAKE_MPS2 = 1.5, 2.0
_TEXTURE_G = 0.03  # smooth asphalt at 10 m/s and above
_ROUGH_G = 0.25  # texture a rough stretch of severity 1 adds
_M_PER_DEG = 111_320.0


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
        ranges = {"sample_hz": (5, 100), "noise_g": (0, 0.5), "engine_hz": (5, 100)}
        ranges |= {"engine_g": (0, 0.5), "gps_sigma_m": (0, 50)}
        for name, (lo, hi) in ranges.items():
            if not lo <= getattr(self, name) <= hi:
                raise ValueError(f"Expected {name} in [{lo}, {hi}].")


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
class FeatureHit:
    """A feature a pass really hit: when (``t_s`` after the start), how fast, and how hard.

    ``peak_g`` is the front wheel's peak vertical acceleration; for a rough stretch, the
    texture it adds (standard deviation in g at 10 m/s), and the times are where it begins.
    ``private`` marks a hit in the trip's first or last stretch, of which the phone sends nothing.
    """

    feature_id: str
    kind: FeatureKind
    t_s: float
    ts: datetime
    speed_mps: float
    peak_g: float
    private: bool = False


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
    if len(route) < 2 or len(leg_speeds_mps) != len(route) - 1:
        raise ValueError("Expected at least two route points and one speed per leg.")
    if not all(0 < v <= 40 for v in leg_speeds_mps):
        raise ValueError("Expected leg speeds in (0, 40].")
    if start.tzinfo is None:
        raise ValueError("Expected a timezone-aware start.")
    phone = phone or random_phone(rng)
    hz, road = phone.sample_hz, _Road(route)
    dist, speed, accel = _drive(
        road.cum, [v * rng.uniform(0.9, 1.1) for v in leg_speeds_mps], hz, rng
    )
    n = len(dist)
    sigma = [_TEXTURE_G * min(1.0, v / 10) for v in speed]
    z = [0.0] * n
    hits = []
    passes = [(s, f) for f in features for s in road.crossings(f)]
    for s_f, f in sorted(passes, key=lambda p: p[0]):
        i = min(bisect.bisect_left(dist, s_f), n - 1)
        # Interpolate the crossing between samples: jolts must not all start on a sample.
        t_f = i / hz if i == 0 else (i - 1 + _frac(dist[i - 1], dist[i], s_f)) / hz
        if f.kind == "rough":
            peak = _ROUGH_G * f.severity
            for m in range(i, min(n, bisect.bisect_left(dist, s_f + f.length_m))):
                sigma[m] += peak * min(1.0, speed[m] / 10)
        elif f.kind == "speed_hump" or rng.random() < HIT_PROBABILITY:
            peak = _inject(z, hz, t_f, speed[i], f, rng)
        else:
            continue
        ts = start + timedelta(seconds=t_f)
        hits.append(FeatureHit(f.feature_id, f.kind, t_f, ts, speed[i], peak))
    phi = math.exp(-2 * math.pi * 8 / hz)  # road texture is band-limited to about 8 Hz
    u, gain = 0.0, math.sqrt(1 - phi * phi)
    for m in range(n):
        u = phi * u + gain * rng.gauss(0, 1)
        z[m] += sigma[m] * u
    rot = _random_rotation(rng)
    e = [rng.gauss(0, 1) for _ in range(3)]  # the engine shakes the phone along one direction
    ex, ey, ez = (c * phone.engine_g / (math.hypot(*e) or 1.0) for c in e)
    w, phase = 2 * math.pi * phone.engine_hz, rng.uniform(0, 2 * math.pi)
    fixes = _gps(road, dist, speed, hz, phone.gps_sigma_m, rng)
    samples = []
    for m in range(n):
        t = m / hz
        k, frac = int(t), t - int(t)
        (lat0, lon0, v0, _), (lat1, lon1, v1, _) = fixes[k], fixes[k + 1]
        engine = math.sin(w * t + phase)  # sampled at instants, so it aliases as it would
        vx, vy, vz = accel[m] + ex * engine, ey * engine, 1.0 + z[m] + ez * engine
        ax, ay, az = (r[0] * vx + r[1] * vy + r[2] * vz + rng.gauss(0, phone.noise_g) for r in rot)
        lat, lon = lat0 + frac * (lat1 - lat0), lon0 + frac * (lon1 - lon0)
        samples.append(Sample(t, lat, lon, v0 + frac * (v1 - v0), ax, ay, az))
    events = trim_trip_ends(detect(samples, params or DetectorParams()), samples, trip_margin_m)
    shared = kept_mask(samples, trip_margin_m)
    hits = [replace(h, private=not shared[min(round(h.t_s * hz), n - 1)]) for h in hits]
    reports = tuple(
        event.to_report(start, seq, fixes[round(event.t)][3]) for seq, event in enumerate(events)
    )
    kept = tuple(samples) if keep_samples else None
    coverage = coverage_track(samples, start, trip_margin_m)
    return Trip(phone, (n - 1) / hz, road.cum[-1], reports, tuple(hits), kept, coverage)


def _drive(
    cum: list[float], targets: list[float], hz: float, rng: random.Random
) -> tuple[list[float], list[float], list[float]]:
    """Distance, speed and longitudinal acceleration (g) per sample, from rest to rest."""
    dt, total = 1 / hz, cum[-1]
    # Idle with the engine running first: the detector's gravity estimate settles meanwhile.
    idle = round(rng.uniform(2, 4) * hz)
    dist, speed, accel = [0.0] * idle, [0.0] * idle, [0.0] * idle
    s = v = 0.0
    leg = 0
    for _ in range(round((3 * total / min(targets) + 120) * hz)):
        while leg < len(targets) - 1 and s >= cum[leg + 1]:
            leg += 1
        want = min(targets[leg], math.sqrt(2 * _BRAKE_MPS2 * max(0.0, total - s)))
        dv = max(-_BRAKE_MPS2 * dt, min(_ACCEL_MPS2 * dt, want - v))
        s, v = s + (v + dv / 2) * dt, v + dv
        dist.append(s)
        speed.append(v)
        accel.append(dv / dt / 9.81)
        if v == 0.0:
            break
    tail = round(rng.uniform(1, 3) * hz)
    return dist + [s] * tail, speed + [0.0] * tail, accel + [0.0] * tail


def _inject(
    z: list[float], hz: float, t0: float, v: float, f: RoadFeature, rng: random.Random
) -> float:
    """Add the feature's waveform to ``z`` from ``t0`` on; return its peak in g."""
    if f.kind == "speed_hump":
        peak = 0.3 + 0.5 * f.severity * min(1.0, v / 12)
        span = min(0.8, max(0.3, 4.0 / max(v, 0.1)))  # a ~4 m hump, crossed in 0.3-0.8 s
        _add(z, hz, t0, 2 * span, lambda u: _heave(u, peak, span))
        return peak
    fast = min(1.0, v / 13)
    if f.kind == "pothole":
        peak, span, down = 0.5 + 2.5 * f.severity * fast, rng.uniform(0.04, 0.08), 0.5
    else:  # a manhole cover, proud or sunk: milder and sometimes slower than a pothole
        peak, span, down = 0.3 + 0.9 * f.severity * fast, rng.uniform(0.06, 0.2), 0.3
    _add(z, hz, t0, span + 0.35, lambda u: _jolt(u, peak, span, down))
    if v > 0.5:  # the rear wheel follows in the front wheel's track
        rear, lag = peak * rng.uniform(0.6, 0.9), _WHEELBASE_M / v
        _add(z, hz, t0 + lag, span + 0.35, lambda u: _jolt(u, rear, span, down))
    return peak


def _add(z: list[float], hz: float, t0: float, span: float, wave: Callable[[float], float]) -> None:
    for m in range(max(0, math.ceil(t0 * hz)), min(len(z), math.floor((t0 + span) * hz) + 1)):
        z[m] += wave(m / hz - t0)


def _jolt(u: float, peak: float, span: float, down: float) -> float:
    half = span / 2
    if u < half:  # the wheel drops into the hole...
        return -down * peak * math.sin(math.pi * u / half)
    if u < span:  # ...and strikes its far edge, then hops on the tyre
        return peak * math.sin(math.pi * (u - half) / half)
    return 0.25 * peak * math.exp(-(u - span) / 0.06) * math.sin(2 * math.pi * 12 * (u - span))


def _heave(u: float, peak: float, span: float) -> float:
    if u < span:  # the body rises over the hump...
        return peak * math.sin(math.pi * u / span)
    return -0.3 * peak * math.sin(math.pi * (u - span) / span)  # ...and settles after it


class _Road:
    """The route as a polyline in metres east and north of its first point (flat earth: routes
    are a few kilometres), with ``cum`` the distance along it at each point."""

    def __init__(self, route: Sequence[tuple[float, float]]) -> None:
        self.origin = route[0]
        self.xy = [self.to_xy(p) for p in route]
        pairs = itertools.pairwise(self.xy)
        self.cum = [0.0, *itertools.accumulate(math.dist(a, b) for a, b in pairs)]

    def to_xy(self, p: tuple[float, float]) -> tuple[float, float]:
        east = (p[1] - self.origin[1]) * _M_PER_DEG * math.cos(math.radians(self.origin[0]))
        return east, (p[0] - self.origin[0]) * _M_PER_DEG

    def crossings(self, f: RoadFeature) -> list[float]:
        """Distances along the route at which it passes within ``PASS_RADIUS_M`` of ``f``."""
        (px, py), xy, cum = self.to_xy((f.lat, f.lon)), self.xy, self.cum
        out: list[float] = []
        for k in range(len(xy) - 1):
            (x1, y1), (x2, y2), length = xy[k], xy[k + 1], cum[k + 1] - cum[k]
            dot = (px - x1) * (x2 - x1) + (py - y1) * (y2 - y1)
            u = min(1.0, max(0.0, _frac(0.0, length * length, dot)))
            near = math.dist((px, py), (x1 + u * (x2 - x1), y1 + u * (y2 - y1)))
            s = cum[k] + u * length
            if near <= PASS_RADIUS_M and (not out or s - out[-1] > 5.0):
                out.append(s)  # once, though a point at a corner is near both legs
        return out

    def point_at(self, s: float, east: float = 0.0, north: float = 0.0) -> tuple[float, float]:
        """(lat, lon) at ``s`` metres along the route, moved ``east`` and ``north`` metres."""
        k = min(max(0, bisect.bisect_right(self.cum, s) - 1), len(self.xy) - 2)
        u = min(1.0, _frac(self.cum[k], self.cum[k + 1], s))
        (x1, y1), (x2, y2) = self.xy[k], self.xy[k + 1]
        return offset_metres(self.origin, y1 + u * (y2 - y1) + north, x1 + u * (x2 - x1) + east)


def _gps(
    road: _Road,
    dist: list[float],
    speed: list[float],
    hz: float,
    sigma: float,
    rng: random.Random,
) -> list[tuple[float, float, float, float]]:
    """1 Hz fixes (lat, lon, speed, accuracy_m), one past the end for interpolation."""
    rho = 0.9  # GPS error wanders slowly rather than jumping every second
    nx, ny, scale = rng.gauss(0, sigma), rng.gauss(0, sigma), sigma * math.sqrt(1 - rho * rho)
    fixes = []
    for k in range(math.ceil((len(dist) - 1) / hz) + 2):
        m = min(len(dist) - 1, round(k * hz))
        lat, lon = road.point_at(dist[m], nx, ny)
        accuracy = round(min(8.0, max(3.0, sigma * rng.uniform(1.0, 2.5))), 1)
        fixes.append((lat, lon, max(0.0, speed[m] + rng.gauss(0, 0.2)), accuracy))
        nx, ny = rho * nx + rng.gauss(0, scale), rho * ny + rng.gauss(0, scale)
    return fixes


def _frac(a: float, b: float, x: float) -> float:
    return (x - a) / (b - a) if b > a else 0.0


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
