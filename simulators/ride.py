"""A vehicle's ride along a route: its speed from rest to rest, and what the road does to it.

Per accelerometer sample: distance along the route, speed, longitudinal acceleration, and the
vertical acceleration of the features the wheels hit (potholes, manholes, speed humps, rough
stretches) over band-limited road texture. A wheel's knock reaches the phone through the car
body as a damped bounce, with figures calibrated on real clips (see ``_inject``); there is no
lateral acceleration in bends.
"""

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.features import FeatureKind, RoadFeature
from simulators.route import Route, frac

HIT_PROBABILITY = 0.7
"""Share of passes over a pothole or manhole in which a wheel actually crosses it."""
_WHEELBASE_M = 2.7
_ACCEL_MPS2, _BRAKE_MPS2 = 1.5, 2.0
# Regular asphalt at 10 m/s and above: the real regular-road clips have a median RMS of 0.05 g
# (bench/road_features.py, González et al. 2017); it was 0.03 g before that was measured.
_TEXTURE_G = 0.05
_ROUGH_G = 0.25  # texture a rough stretch of severity 1 adds


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
class Ride:
    """Per sample at ``hz``: distance along the route (m), speed (m/s) and longitudinal
    acceleration (g)."""

    hz: float
    dist: list[float]
    speed: list[float]
    accel: list[float]


def drive(cum: list[float], targets: list[float], hz: float, rng: random.Random) -> Ride:
    """Drive a route whose points are ``cum`` metres along it at ``targets`` m/s per leg, from
    rest to rest, idling a few seconds with the engine running at either end."""
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
    return Ride(hz, dist + [s] * tail, speed + [0.0] * tail, accel + [0.0] * tail)


def vertical(
    ride: Ride,
    route: Route,
    features: Sequence[RoadFeature],
    start: datetime,
    rng: random.Random,
) -> tuple[list[float], list[FeatureHit]]:
    """Vertical acceleration (g, gravity removed) per sample, and the features really hit.

    Speed humps are always felt, potholes and manholes on ``HIT_PROBABILITY`` of the passes;
    rough stretches raise the road texture, which is laid over everything last.
    """
    dist, speed, hz, n = ride.dist, ride.speed, ride.hz, len(ride.dist)
    sigma = [_TEXTURE_G * min(1.0, v / 10) for v in speed]
    z = [0.0] * n
    hits = []
    passes = [(s, f) for f in features for s in route.crossings(f)]
    for s_f, f in sorted(passes, key=lambda p: p[0]):
        i = min(bisect.bisect_left(dist, s_f), n - 1)
        # Interpolate the crossing between samples: jolts must not all start on a sample.
        t_f = i / hz if i == 0 else (i - 1 + frac(dist[i - 1], dist[i], s_f)) / hz
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
    _add_texture(z, sigma, hz, rng)
    return z, hits


def _add_texture(z: list[float], sigma: list[float], hz: float, rng: random.Random) -> None:
    """Add road texture of standard deviation ``sigma`` (g) per sample to ``z``."""
    phi = math.exp(-2 * math.pi * 8 / hz)  # road texture is band-limited to about 8 Hz
    u, gain = 0.0, math.sqrt(1 - phi * phi)
    for m in range(len(z)):
        u = phi * u + gain * rng.gauss(0, 1)
        z[m] += sigma[m] * u


def _inject(
    z: list[float], hz: float, t0: float, v: float, f: RoadFeature, rng: random.Random
) -> float:
    """Add what the phone feels of the feature from ``t0`` on; return its peak in g.

    A phone in a car rides on the body, not on the wheel: the wheel's sharp knock reaches it as
    a short high-frequency kick and the body's slow, damped bounce that follows. Figures from
    the real clips (``bench/road_features.py``; González et al. 2017, 50 Hz, phone fixed in a
    car; median and 10th-90th percentile): potholes peak 0.37 g (0.18-0.71), stay above half
    their peak for 0.78 s and ring at 1.7 Hz; metal bumps (manholes) 0.40 g, 0.76 s, 2.7 Hz;
    asphalt bumps (speed humps) 0.44 g, 1.06 s, 1.6 Hz.
    """
    fast = min(1.0, v / 13)
    if f.kind == "speed_hump":
        peak = 0.15 + 0.7 * f.severity * min(1.0, v / 12)
        span = min(0.8, max(0.3, 4.0 / max(v, 0.1)))  # a ~4 m hump, crossed in 0.3-0.8 s
        body = _Body(rng.uniform(1.2, 1.9), rng.uniform(0.25, 0.4), 0.0, 1.0)
        _add(z, hz, t0, 2 * span + 1.5, lambda u: _heave(u, peak, span, body))
        return peak
    if f.kind == "pothole":
        peak = (0.05 + 0.6 * f.severity * fast) * rng.lognormvariate(0, 0.35)
        body = _Body(rng.uniform(1.3, 2.4), rng.uniform(0.08, 0.2), 0.15, -1.0)
    else:  # a manhole cover, proud or sunk: a crisper knock on a stiffer, quicker bounce
        peak = 0.25 + 0.9 * f.severity * fast
        body = _Body(rng.uniform(1.8, 4.5), rng.uniform(0.25, 0.4), 0.5, rng.choice((-1.0, 1.0)))
    _add(z, hz, t0, 2.0, lambda u: body.response(u, peak))
    if v > 0.5:  # the rear wheel follows in the front wheel's track
        rear, lag = peak * rng.uniform(0.6, 0.9), _WHEELBASE_M / v
        _add(z, hz, t0 + lag, 2.0, lambda u: body.response(u, rear))
    return peak


@dataclass(frozen=True)
class _Body:
    """The car body's damped bounce (``hz``, damping ratio ``zeta``) after a wheel's knock, with
    ``kick`` the share of the peak that the knock itself (wheel hop, ~12 Hz) adds on top, and
    ``sign`` the direction of the first swing (down into a hole, up over a bump)."""

    hz: float
    zeta: float
    kick: float
    sign: float

    def response(self, u: float, peak: float) -> float:
        w = 2 * math.pi * self.hz
        bounce = math.exp(-self.zeta * w * u) * math.sin(w * math.sqrt(1 - self.zeta**2) * u)
        knock = math.exp(-u / 0.04) * math.sin(2 * math.pi * 12 * u)
        # The bounce's first swing peaks near exp(-zeta * pi / 2); scale it to ``peak``.
        norm = math.exp(-self.zeta * math.pi / 2)
        return self.sign * peak * (bounce / norm + self.kick * knock) / (1 + 0.5 * self.kick)


def _add(z: list[float], hz: float, t0: float, span: float, wave: Callable[[float], float]) -> None:
    for m in range(max(0, math.ceil(t0 * hz)), min(len(z), math.floor((t0 + span) * hz) + 1)):
        z[m] += wave(m / hz - t0)


def _heave(u: float, peak: float, span: float, body: _Body) -> float:
    if u < span:  # the body rises over the hump...
        return peak * math.sin(math.pi * u / span)
    return -0.7 * body.response(u - span, peak)  # ...and bounces after it
