"""Candidate jolts and the features of the window around each, at any rate from 5 to 100 Hz.

A candidate is a sample whose |vertical dynamic acceleration| is the largest within
``jolt_s`` either side and at least ``min_peak_g``, taken while the vehicle moves. The vertical
dynamic acceleration is the reference detector's (a slow low-pass of the 3-axis trace follows
gravity; each sample projected on it, minus 1 g), so the features do not depend on how the
phone lies. Every feature is a plain number computed with loops a phone's browser can run too;
a learned model (:mod:`analytics.potholes.jolt_model`) then says which candidates are potholes.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

# The reference detector is the one home of the gravity estimate and of trace cleaning.
from analytics.potholes.detector import (
    Sample,
    clean_trace,
    moving_average,
    samples_in,
    vertical_dynamic,
)
from ingest.kernel.params import require_in

FEATURES = (
    "peak_g",
    "peak_to_peak_g",
    "window_std_g",
    "crest",
    "standout",
    "heave_share",
    "second_peak_share",
    "sample_hz",
)
"""Names of the features, in the order :func:`candidates` gives them."""

_MEDIAN_ABS_OF_UNIT_GAUSSIAN = 0.6745


@dataclass(frozen=True)
class WindowParams:
    """Where candidates are looked for and how wide their windows are.

    Parameters
    ----------
    jolt_s
        Half-width (s) of the window of a jolt: its peak is the largest within it, and its
        peak-to-peak, spread and crest are measured over it.
    noise_s
        Half-width (s) of the wider window whose robust noise level the peak is compared with.
    heave_s
        Width (s) of the moving average in which a slow heave stays visible and a jolt does not.
    gravity_tau_s
        Time constant (s) of the low-pass that estimates gravity.
    min_peak_g
        Smallest |vertical dynamic acceleration| (g) of a candidate.
    min_speed_mps
        Samples slower than this are never candidates.
    """

    jolt_s: float = 0.5
    noise_s: float = 2.0
    heave_s: float = 0.3
    gravity_tau_s: float = 1.0
    min_peak_g: float = 0.05
    min_speed_mps: float = 3.0

    def __post_init__(self) -> None:
        for name in ("jolt_s", "noise_s", "heave_s", "gravity_tau_s"):
            require_in(name, getattr(self, name), 0, 10, lo_open=True)
        require_in("min_peak_g", self.min_peak_g, 0, 16)
        require_in("min_speed_mps", self.min_speed_mps, 0, 100)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate jolt: the index of its peak in the cleaned trace, and its features."""

    index: int
    t: float
    peak_g: float
    features: tuple[float, ...]


def sample_rate(trace: Sequence[Sample]) -> float:
    """The median sample rate (Hz) of a cleaned trace of at least two samples."""
    return 1 / median(b.t - a.t for a, b in itertools.pairwise(trace))


def candidates(
    samples: Sequence[Sample], params: WindowParams = WindowParams()
) -> tuple[list[Sample], list[Candidate]]:
    """The cleaned trace and its candidate jolts, in time order.

    Parameters
    ----------
    samples
        The trace, from a phone in any fixed orientation; cleaned as the reference detector does.
    params
        Window widths and floors.

    Returns
    -------
    tuple[list[Sample], list[Candidate]]
        The cleaned trace (candidates index into it) and the candidates with :data:`FEATURES`.
    """
    trace = clean_trace(samples)
    if len(trace) < 3:
        return trace, []
    hz = sample_rate(trace)
    dyn = vertical_dynamic(trace, params.gravity_tau_s)
    mag = [abs(d) for d in dyn]
    n = len(dyn)
    w = max(1, samples_in(params.jolt_s, hz))
    wn = max(w, samples_in(params.noise_s, hz))
    heave = moving_average(dyn, max(1, samples_in(params.heave_s / 2, hz)))
    out = []
    for k in range(n):
        lo, hi = max(0, k - w), min(n, k + w + 1)
        if mag[k] < params.min_peak_g or trace[k].speed < params.min_speed_mps:
            continue
        # The first of equal peaks is the candidate, so a flat top gives one, not several.
        if any(mag[i] > mag[k] for i in range(lo, hi)) or any(
            mag[i] == mag[k] for i in range(lo, k)
        ):
            continue
        out.append(Candidate(k, trace[k].t, mag[k], _features(dyn, mag, heave, k, w, wn, hz)))
    return trace, out


def _features(
    dyn: list[float], mag: list[float], heave: list[float], k: int, w: int, wn: int, hz: float
) -> tuple[float, ...]:
    n = len(dyn)
    near = dyn[max(0, k - w) : min(n, k + w + 1)]
    peak = mag[k]
    mean = sum(near) / len(near)
    std = math.sqrt(sum((x - mean) ** 2 for x in near) / len(near))
    rms = math.sqrt(sum(x * x for x in near) / len(near))
    wide = mag[max(0, k - wn) : min(n, k + wn + 1)]
    level = median(wide) / _MEDIAN_ABS_OF_UNIT_GAUSSIAN
    heave_peak = max(abs(h) for h in heave[max(0, k - w) : min(n, k + w + 1)])
    # The largest peak of the wider window outside the jolt's own: a rough stretch has many.
    others = [mag[i] for i in range(max(0, k - wn), min(n, k + wn + 1)) if abs(i - k) > w]
    second = max(others, default=0.0)
    return (
        peak,
        max(near) - min(near),
        std,
        peak / rms if rms > 0 else 1.0,
        min(peak / level, 1000.0) if level > 0 else 1000.0,
        heave_peak / peak if peak > 0 else 0.0,
        second / peak if peak > 0 else 0.0,
        # Rounded, so that a tree cannot tell recordings apart by their rate's last digits.
        round(hz, 1),
    )
