"""What a phone keeps to itself: the start and end of every trip.

A trip's first and last stretch lead from and to someone's door. The phone therefore sends no
jolt and no coverage from the first or last ``TRIP_END_MARGIN_M`` of a trip, measured by the
distance it has travelled (its speed integrated over time, which it knows without a map).
The simulated phones run exactly this code.
"""

import bisect
import itertools
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from analytics.potholes.detector import JoltEvent, Sample
from analytics.potholes.roughness import Stretch
from ingest.contract.payloads import MAX_IRI_M_PER_KM, MAX_TRACK_POINTS, TripCoverage

TRIP_END_MARGIN_M = 200.0
"""Distance left off at each end of a trip."""
TRACK_STEP_M = 25.0
"""Distance between consecutive points of a coverage track."""


def travelled_m(samples: Sequence[Sample]) -> list[float]:
    """Distance travelled (m) at each sample, from the trace's speeds (trapezoidal rule)."""
    out = [0.0]
    for a, b in itertools.pairwise(samples):
        out.append(out[-1] + 0.5 * (a.speed + b.speed) * max(0.0, b.t - a.t))
    return out[: len(samples)]


def _kept_span(travelled: Sequence[float], margin_m: float) -> tuple[float, float] | None:
    if margin_m < 0:
        raise ValueError("Expected a margin of at least 0 m.")
    total = travelled[-1] if travelled else 0.0
    if total <= 2 * margin_m:
        return None
    return margin_m, total - margin_m


def kept_mask(samples: Sequence[Sample], margin_m: float = TRIP_END_MARGIN_M) -> list[bool]:
    """For each sample, whether it lies more than ``margin_m`` from both ends of the trip."""
    travelled = travelled_m(samples)
    span = _kept_span(travelled, margin_m)
    if span is None:
        return [False] * len(samples)
    return [span[0] <= d <= span[1] for d in travelled]


def trim_trip_ends(
    events: Sequence[JoltEvent],
    samples: Sequence[Sample],
    margin_m: float = TRIP_END_MARGIN_M,
) -> list[JoltEvent]:
    """The jolts of ``events`` more than ``margin_m`` from both ends of the trip in ``samples``.

    A trip shorter than twice the margin keeps nothing.
    """
    mask = kept_mask(samples, margin_m)
    times = [s.t for s in samples]
    return [e for e in events if mask[min(bisect.bisect_left(times, e.t), len(times) - 1)]]


def coverage_track(
    samples: Sequence[Sample],
    start: datetime,
    margin_m: float = TRIP_END_MARGIN_M,
    step_m: float = TRACK_STEP_M,
    roughness: Sequence[Stretch] = (),
) -> TripCoverage | None:
    """The ``coverage`` message of a trip: a point about every ``step_m`` of the route driven,
    without its first and last ``margin_m``, and the roughness stretches wholly within what is
    kept; ``None`` when nothing is left to send.

    Parameters
    ----------
    samples
        The trip's trace (times in seconds from ``start``).
    start
        Timezone-aware time of the trace's zero.
    roughness
        The trip's roughness stretches (``analytics.potholes.roughness.roughness``).
    """
    if step_m <= 0:
        raise ValueError("Expected a track step above 0 m.")
    travelled = travelled_m(samples)
    span = _kept_span(travelled, margin_m)
    if span is None:
        return None
    step_m = max(step_m, (span[1] - span[0]) / (MAX_TRACK_POINTS - 1) * 1.01)
    points: list[list[float]] = []
    times: list[float] = []
    next_at = span[0]
    for s, d in zip(samples, travelled, strict=True):
        if d < next_at or d > span[1] or not (math.isfinite(s.lat) and math.isfinite(s.lon)):
            continue
        points.append([round(s.lat, 6), round(s.lon, 6)])
        times.append(s.t)
        next_at = d + step_m
    if len(points) < 2:
        return None
    rough = [
        [round(r.latitude, 6), round(r.longitude, 6), round(r.iri_m_per_km, 2)]
        for r in roughness
        if times[0] <= r.start_time
        and r.end_time <= times[-1]
        and r.iri_m_per_km <= MAX_IRI_M_PER_KM
    ]
    return TripCoverage(
        ts_start=start + timedelta(seconds=times[0]),
        ts_end=start + timedelta(seconds=times[-1]),
        points=points,
        roughness=rough[: MAX_TRACK_POINTS // 4] or None,
    )
