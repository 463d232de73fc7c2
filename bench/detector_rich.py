"""Richer window features for a benchmark contender (offline only, not shipped).

Each candidate of :func:`analytics.potholes.window_features.candidates` keeps its
:data:`~analytics.potholes.window_features.FEATURES` and gains shape features measured over
±1 s of the vertical dynamic acceleration minus its ±2 s moving average (the recordings' own
offset, e.g. a phone reading 1.04 g at rest, would otherwise pass for a jolt's floor): the peak
of a ~0.2 s moving average (what stays below ~3 Hz) alone and as a share of the peak, the
low band's share of the energy, the rms jerk relative to the spread, the zero-crossing rate,
the width at half peak, kurtosis, skew and the upward share of the peak-to-peak. None depends
on a clip's length or on where in it the candidate lies.
"""

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from analytics.potholes.detector import Sample, moving_average, samples_in, vertical_dynamic
from analytics.potholes.window_features import (
    FEATURES,
    Candidate,
    WindowParams,
    candidates,
    sample_rate,
)
from bench.detector_data import Clip, Drive
from bench.detector_train import fit, labelled

WINDOW = WindowParams()
"""Candidate windows, as for the shipped trees."""

RICH_FEATURES = (
    *FEATURES,
    "low_peak_g",
    "low_share",
    "low_energy_share",
    "jerk_per_std",
    "zero_crossings_hz",
    "half_width_s",
    "kurtosis",
    "skew",
    "up_share",
)
"""Names of the features of :func:`rich_candidates`, in order."""

SHAPE_S = 1.0
CENTRE_S = 2.0
LOW_S = 0.1


def rich_candidates(samples: Sequence[Sample], window: WindowParams) -> list[Candidate]:
    """The candidates of ``samples`` with :data:`RICH_FEATURES`."""
    trace, found = candidates(samples, window)
    if not found:
        return []
    hz = sample_rate(trace)
    raw = vertical_dynamic(trace, window.gravity_tau_s)
    base = moving_average(raw, max(1, samples_in(CENTRE_S, hz)))
    dyn = [d - b for d, b in zip(raw, base, strict=True)]
    low = moving_average(dyn, max(1, samples_in(LOW_S, hz)))
    half = max(1, samples_in(SHAPE_S, hz))
    return [
        Candidate(c.index, c.t, c.peak_g, c.features + _shape(dyn, low, c.index, half, hz))
        for c in found
    ]


def _shape(dyn: list[float], low: list[float], k: int, half: int, hz: float) -> tuple[float, ...]:
    n = len(dyn)
    lo, hi = max(0, k - half), min(n, k + half + 1)
    seg = dyn[lo:hi]
    m = len(seg)
    mean = sum(seg) / m
    var = max(sum((x - mean) ** 2 for x in seg) / m, 1e-12)
    std = math.sqrt(var)
    energy = max(sum(x * x for x in seg), 1e-12)
    jerk = [(b - a) * hz for a, b in itertools.pairwise(seg)]
    jerk_rms = math.sqrt(sum(j * j for j in jerk) / max(1, len(jerk)))
    crossings = sum((a - mean) * (b - mean) < 0 for a, b in itertools.pairwise(seg))
    peak = abs(dyn[k]) or 1e-12
    a = b = k
    while a > 0 and abs(dyn[a - 1]) >= peak / 2:
        a -= 1
    while b < n - 1 and abs(dyn[b + 1]) >= peak / 2:
        b += 1
    low_peak = max(abs(x) for x in low[lo:hi])
    up, down = max(seg), -min(seg)
    return (
        low_peak,
        low_peak / peak,
        sum(x * x for x in low[lo:hi]) / energy,
        jerk_rms / std,
        crossings / (m / hz),
        (b - a + 1) / hz,
        sum((x - mean) ** 4 for x in seg) / m / var**2,
        sum((x - mean) ** 3 for x in seg) / m / var**1.5,
        up / (up + down) if up + down > 0 else 0.5,
    )


def rich_scorer(
    drives: list[Drive], clips: list[Clip]
) -> Callable[[Sequence[Sample]], tuple[list[float], list[float]]]:
    """Trees on the rich features of drives and clips: a trace's candidate times and scores.

    Scored with lightgbm itself (numpy at inference), since this contender is not shipped.
    """
    xs, ys = labelled(drives, clips, WINDOW, rich_candidates)
    booster = fit(xs, ys, seed=1, names=RICH_FEATURES)

    def scores(samples: Sequence[Sample]) -> tuple[list[float], list[float]]:
        found = rich_candidates(samples, WINDOW)
        if not found:
            return [], []
        p = booster.predict(np.array([c.features for c in found], dtype=np.float64))
        return [c.t for c in found], [float(v) for v in p]

    return scores


L2 = 1.0
"""Ridge penalty of the logistic regression, on standardised features."""


def logit_scorer(
    drives: list[Drive], clips: list[Clip]
) -> Callable[[Sequence[Sample]], tuple[list[float], list[float]]]:
    """Class-weighted logistic regression on the rich features: times and scores of a trace.

    Its weights, means and scales are a few dozen plain numbers; scoring is pure Python.
    """
    xs, ys = labelled(drives, clips, WINDOW, rich_candidates)
    x, y = np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(y), 1))])
    weight = np.where(y == 1, (len(y) - y.sum()) / max(1.0, y.sum()), 1.0)
    penalty = L2 * np.eye(z.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    w = np.zeros(z.shape[1])
    for _ in range(100):  # Newton's method: the penalised loss is strictly convex
        p = 1 / (1 + np.exp(-(z @ w)))
        grad = z.T @ (weight * (p - y)) + penalty @ w
        hess = (z.T * (weight * p * (1 - p))) @ z + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    coef = [float(c) for c in w[:-1] / scale]
    bias = float(w[-1] - (w[:-1] * mean / scale).sum())

    def scores(samples: Sequence[Sample]) -> tuple[list[float], list[float]]:
        found = rich_candidates(samples, WINDOW)
        margins = [bias + sum(c * f for c, f in zip(coef, x.features, strict=True)) for x in found]
        return [c.t for c in found], [1 / (1 + math.exp(-min(max(m, -50), 50))) for m in margins]

    return scores
