"""The reference on-device pothole detector: sharp vertical jolts in a phone's accelerometer trace.

A phone can lie in any orientation, so the vertical is found from the trace itself: a slow
low-pass of the 3-axis acceleration follows gravity, which does not change, and not the road,
which changes within a fraction of a second. Each sample projected on that direction, minus 1 g,
is the vertical dynamic acceleration. In it a pothole is a short, sharp jolt; a speed hump is a
slow heave that a moving average keeps; a rough road is a long stretch of moderate peaks, none of
which stands out from its neighbours. Only jolts are reported, and jolts less than ``merge_s``
apart (the down-then-up of one pothole, the front then rear wheel) become one event.

The default thresholds were chosen on real recordings (``bench/detector.py --choose``: Pittsburgh
iPhone drives at 5 Hz and González's 50 Hz clips), not on the simulator. On real roads a pothole
reaches a phone in a car as the body's bounce, about 1.7 Hz and 0.4 g, not as a sharp spike: so
the thresholds are low, a jolt may last up to 0.4 s, and slow heaves are not filtered out by
default (on real data the filter removed more potholes than speed humps; the server's asset
layer sets humps and covers aside). Thresholds are fixed in g and do not adapt to the vehicle.
At 5 Hz a jolt is one or two samples.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from analytics.geo.geometry import offset_m
from ingest.contract.payloads import MAX_SAMPLES, BumpReport
from ingest.kernel.params import require_in

_MEDIAN_ABS_OF_UNIT_GAUSSIAN = 0.6745

SEVERE_G = 1.0
"""Peak vertical jolt (g) of a severe pothole, where severity reaches 1: real pothole clips
peak at 0.37 g (median) and 0.71 g (90th percentile) in a car (``bench/road_features.py``)."""


@dataclass(frozen=True)
class DetectorParams:
    """Thresholds of the detector; the defaults were chosen on real recordings of phones in cars.

    Parameters
    ----------
    threshold_g
        Smallest |vertical dynamic acceleration| (g) that may be a jolt.
    min_speed_mps
        Samples slower than this are ignored: a phone at rest or carried by someone walking is
        picked up, dropped and swung, which says nothing about the road.
    gravity_tau_s
        Time constant of the low-pass that estimates gravity.
    max_jolt_s
        Longest a jolt may stay above ``threshold_g`` without a break (one sample at least).
    jolt_window_s
        Half-width of the window around the peak whose peak-to-peak is measured.
    min_peak_to_peak
        Smallest peak-to-peak within ``jolt_window_s``, as a share of the peak: a jolt swings
        fast, a heave does not.
    heave_window_s
        Width of the moving average in which a slow heave stays visible and a jolt does not.
    max_heave_share
        Largest share of the peak that the moving average may reach within ``window_s``
        (1 turns the heave filter off: a moving average never exceeds the peak).
    noise_window_s
        Width of the window, centred on the peak, whose noise level the peak must stand out of.
    min_standout
        Smallest ratio of the peak to that noise level (a robust RMS, ``median |a| / 0.6745``,
        so that the jolt and its echo do not raise it but a rough stretch does).
    merge_s
        Detections closer than this are one event.
    window_s
        Half-width of the window of samples attached to an event.
    severe_g
        Peak at which ``severity`` reaches 1.
    """

    threshold_g: float = 0.25
    min_speed_mps: float = 3.0
    gravity_tau_s: float = 1.0
    max_jolt_s: float = 0.4
    jolt_window_s: float = 0.1
    min_peak_to_peak: float = 0.7
    heave_window_s: float = 0.3
    max_heave_share: float = 1.0
    noise_window_s: float = 2.0
    min_standout: float = 4.0
    merge_s: float = 1.0
    window_s: float = 0.5
    severe_g: float = SEVERE_G

    def __post_init__(self) -> None:
        require_in("threshold_g", self.threshold_g, 0, 16, lo_open=True)
        require_in("min_speed_mps", self.min_speed_mps, 0, 100)
        for name in ("gravity_tau_s", "max_jolt_s", "jolt_window_s", "heave_window_s"):
            require_in(name, getattr(self, name), 0, 10, lo_open=True)
        for name in ("noise_window_s", "merge_s", "window_s"):
            require_in(name, getattr(self, name), 0, 60, lo_open=True)
        require_in("min_peak_to_peak", self.min_peak_to_peak, 0, 2)
        require_in("max_heave_share", self.max_heave_share, 0, 1, lo_open=True)
        require_in("min_standout", self.min_standout, 0, 100)
        require_in("severe_g", self.severe_g, 0, 32, lo_open=True)


@dataclass(frozen=True, slots=True)
class Sample:
    """One accelerometer sample with the GPS fix of its time.

    ``t`` is in seconds, ``speed`` in m/s, ``ax``, ``ay``, ``az`` in g with gravity included,
    in the phone's own axes.
    """

    t: float
    lat: float
    lon: float
    speed: float
    ax: float
    ay: float
    az: float


@dataclass(frozen=True)
class JoltEvent:
    """A jolt, with everything a ``bump`` report carries.

    ``peak_z_g`` is the peak |vertical dynamic acceleration| in g; ``severity`` is the same
    peak scaled to [0, 1] by ``DetectorParams.severe_g``. ``samples_z_g`` is the vertical
    dynamic acceleration within ``window_s`` of the peak, at ``sample_hz``.
    """

    t: float
    lat: float
    lon: float
    speed_mps: float
    heading_deg: float | None
    peak_z_g: float
    severity: float
    sample_hz: float
    samples_z_g: tuple[float, ...]

    def to_report(
        self, start: datetime, seq: int | None = None, accuracy_m: float | None = None
    ) -> BumpReport:
        """The ``bump`` report of this jolt, rounded as a phone sends it.

        Parameters
        ----------
        start
            Timezone-aware time of the trace's zero (``t`` counts seconds from it).
        seq, accuracy_m
            Message counter and GPS accuracy (m), when known.
        """
        heading = None if self.heading_deg is None else round(self.heading_deg, 1) % 360.0
        return BumpReport(
            ts=start + timedelta(seconds=self.t),
            lat=round(self.lat, 6),
            lon=round(self.lon, 6),
            speed_mps=round(min(100.0, max(0.0, self.speed_mps)), 2),
            peak_z_g=round(min(32.0, self.peak_z_g), 3),  # the contract's range; sensors clip lower
            seq=seq,
            accuracy_m=accuracy_m,
            heading_deg=heading,
            sample_hz=round(self.sample_hz, 2),
            samples_z_g=[round(x, 3) for x in self.samples_z_g],
        )


def detect(samples: Sequence[Sample], params: DetectorParams = DetectorParams()) -> list[JoltEvent]:
    """Find pothole jolts in an accelerometer trace.

    Parameters
    ----------
    samples
        The trace, at 5 to 100 Hz, from a phone in any (fixed) orientation. Order does not
        matter; samples with a repeated timestamp after the first, or a non-finite value, are
        dropped.
    params
        Thresholds.

    Returns
    -------
    list[JoltEvent]
        One event per jolt, in time order.
    """
    trace = clean_trace(samples)
    if len(trace) < 3:
        return []
    hz = 1 / median(b.t - a.t for a, b in itertools.pairwise(trace))
    dyn = vertical_dynamic(trace, params.gravity_tau_s)
    heave = moving_average(dyn, max(1, samples_in(params.heave_window_s / 2, hz)))
    found = [
        k
        for k in _run_peaks(dyn, params.threshold_g, max(1, samples_in(params.max_jolt_s, hz)))
        if trace[k].speed >= params.min_speed_mps and _is_jolt(dyn, heave, k, hz, params)
    ]
    groups: list[list[int]] = []
    for k in found:
        if groups and trace[k].t - trace[groups[-1][-1]].t < params.merge_s:
            groups[-1].append(k)
        else:
            groups.append([k])
    return [_event(trace, dyn, max(g, key=lambda k: abs(dyn[k])), hz, params) for g in groups]


def clean_trace(samples: Sequence[Sample]) -> list[Sample]:
    """The samples with every value finite, in time order, one per timestamp (the first)."""
    finite = [
        s
        for s in samples
        if all(math.isfinite(v) for v in (s.t, s.lat, s.lon, s.speed, s.ax, s.ay, s.az))
    ]
    # A stable sort keeps the first of samples sharing a timestamp, which is the one kept.
    finite.sort(key=lambda s: s.t)
    return [s for i, s in enumerate(finite) if i == 0 or s.t != finite[i - 1].t]


def samples_in(seconds: float, hz: float) -> int:
    """The whole number of samples nearest to ``seconds`` at ``hz``."""
    return math.floor(seconds * hz + 0.5)


def vertical_dynamic(trace: list[Sample], tau: float) -> list[float]:
    """Vertical dynamic acceleration (g) of each sample, whatever the phone's orientation.

    Parameters
    ----------
    trace
        Samples in strictly increasing time order, all values finite.
    tau
        Time constant (s) of the low-pass whose direction is taken as gravity.

    Returns
    -------
    list[float]
        Each sample projected on the gravity estimate from the samples before it, minus 1 g.
    """
    start = [s for s in trace if s.t - trace[0].t <= tau] or trace[:1]
    gx = sum(s.ax for s in start) / len(start)
    gy = sum(s.ay for s in start) / len(start)
    gz = sum(s.az for s in start) / len(start)
    out = []
    prev_t = trace[0].t
    for s in trace:
        norm = math.sqrt(gx * gx + gy * gy + gz * gz) or 1.0
        # Project on the estimate from earlier samples, so that a jolt cannot tilt its own
        # reference; the result is unaffected by the estimate's length, only its direction.
        out.append((s.ax * gx + s.ay * gy + s.az * gz) / norm - 1.0)
        # The exact gain for the actual interval keeps the time constant under jittery rates.
        k = 1 - math.exp(-(s.t - prev_t) / tau)
        prev_t = s.t
        gx += k * (s.ax - gx)
        gy += k * (s.ay - gy)
        gz += k * (s.az - gz)
    return out


def moving_average(xs: list[float], half: int) -> list[float]:
    """The mean of each ``x`` with its ``half`` neighbours either side (fewer at the ends)."""
    prefix = [0.0]
    for x in xs:
        prefix.append(prefix[-1] + x)
    n = len(xs)
    out = []
    for i in range(n):
        lo, hi = max(0, i - half), min(n, i + half + 1)
        out.append((prefix[hi] - prefix[lo]) / (hi - lo))
    return out


def _run_peaks(dyn: list[float], threshold: float, max_run: int) -> list[int]:
    """The peak of every run above threshold that is short enough to be a jolt."""
    peaks = []
    i, n = 0, len(dyn)
    while i < n:
        if abs(dyn[i]) <= threshold:
            i += 1
            continue
        j = i
        while j < n and abs(dyn[j]) > threshold:
            j += 1
        if j - i <= max_run:
            peaks.append(max(range(i, j), key=lambda m: abs(dyn[m])))
        i = j
    return peaks


def _is_jolt(dyn: list[float], heave: list[float], k: int, hz: float, p: DetectorParams) -> bool:
    n = len(dyn)
    peak = abs(dyn[k])
    w = max(1, samples_in(p.jolt_window_s, hz))
    near = dyn[max(0, k - w) : k + w + 1]
    if max(near) - min(near) < p.min_peak_to_peak * peak:
        return False
    w = max(1, samples_in(p.window_s, hz))
    if max(abs(h) for h in heave[max(0, k - w) : k + w + 1]) > p.max_heave_share * peak:
        return False
    w = max(1, samples_in(p.noise_window_s / 2, hz))
    level = median(abs(d) for d in dyn[max(0, k - w) : min(n, k + w + 1)])
    return peak >= p.min_standout * level / _MEDIAN_ABS_OF_UNIT_GAUSSIAN


def _event(
    trace: list[Sample], dyn: list[float], k: int, hz: float, p: DetectorParams
) -> JoltEvent:
    w = min(max(1, samples_in(p.window_s, hz)), (MAX_SAMPLES - 1) // 2)
    peak = abs(dyn[k])
    s = trace[k]
    return JoltEvent(
        t=s.t,
        lat=s.lat,
        lon=s.lon,
        speed_mps=s.speed,
        heading_deg=_heading(trace, k, max(1, samples_in(1.0, hz))),
        peak_z_g=peak,
        severity=min(1.0, peak / p.severe_g),
        sample_hz=hz,
        samples_z_g=tuple(dyn[max(0, k - w) : k + w + 1]),
    )


def _heading(trace: list[Sample], k: int, w: int) -> float | None:
    """Direction of travel over about a second either side, or None when barely moving."""
    a, b = trace[max(0, k - w)], trace[min(len(trace) - 1, k + w)]
    east, north = offset_m(a.lat, a.lon, b.lat, b.lon)
    if math.hypot(north, east) < 2.0:  # GPS noise would decide the direction
        return None
    heading = math.degrees(math.atan2(east, north)) % 360.0
    return 0.0 if heading >= 360.0 else heading
