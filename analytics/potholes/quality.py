"""How much one ``bump`` report is worth as evidence of a pothole: scored once per report.

:func:`report_quality` scores one report; :func:`window_shapes` scores the windows of many at
once with numpy, adding each moving window's samples in the same order as :func:`sharpness`
does, so that both give the same floats to the last bit.
"""

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ingest.contract.payloads import BumpReport

NO_WINDOW_SHAPE = 0.8
"""The shape score of a report without a window of samples: neither jolt nor heave."""


def report_quality(report: BumpReport, shape: float | None = None) -> float:
    """How much one report is worth as evidence of a pothole, in [0, 1].

    Parameters
    ----------
    report
        The report; missing optional fields get a neutral middle score.
    shape
        The report's :func:`window_shape`, when already known.

    Returns
    -------
    float
        The product of scores for peak, speed, sample rate, GPS accuracy and window shape.
    """
    # Real potholes reach a phone in a car at 0.2-0.7 g (bench/road_features.py): a median one
    # (0.37 g) scores about 0.45, one of 0.65 g or more scores 1.
    peak = _clamp((report.peak_z_g - 0.15) / 0.5, 0.1, 1.0)
    # Below walking pace a phone is handled, not driven; very fast passes blur the position.
    speed = _clamp(report.speed_mps / 6.0, 0.0, 1.0) * (0.7 if report.speed_mps > 30 else 1.0)
    rate = 0.6 if report.sample_hz is None else _clamp(report.sample_hz / 20.0, 0.25, 1.0)
    acc = 0.7 if report.accuracy_m is None else _clamp(1.2 - report.accuracy_m / 25.0, 0.2, 1.0)
    if shape is None:
        shape = window_shape(report)
    return peak * speed * rate * acc * shape


def window_shape(report: BumpReport) -> float:
    """The window's score in [0.1, 1] (:func:`sharpness` scaled), or ``NO_WINDOW_SHAPE``."""
    if report.samples_z_g and report.sample_hz is not None:
        return _clamp(1.2 * sharpness(report.samples_z_g, report.sample_hz), 0.1, 1.0)
    return NO_WINDOW_SHAPE


def sharpness(samples_z_g: Sequence[float], sample_hz: float) -> float:
    """How much of a window's peak is a sharp jolt rather than a slow heave, in [0, 1].

    One minus the largest |moving average| over 0.3 s as a share of the peak: a pothole's
    down-then-up averages out, a hump's heave does not.
    """
    peak = max((abs(x) for x in samples_z_g), default=0.0)
    if peak == 0.0:
        return 0.0
    half = _half(sample_hz)
    windows = (samples_z_g[max(0, i - half) : i + half + 1] for i in range(len(samples_z_g)))
    heave = max(abs(sum(w)) / len(w) for w in windows)
    return _clamp(1.0 - heave / peak, 0.0, 1.0)


def window_shapes(reports: Sequence[BumpReport]) -> list[float]:
    """:func:`window_shape` of every report, the windows of one length and rate together."""
    shapes = [NO_WINDOW_SHAPE] * len(reports)
    alike: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, r in enumerate(reports):
        if r.samples_z_g and r.sample_hz is not None:
            alike[(len(r.samples_z_g), _half(r.sample_hz))].append(i)
    for (_, half), members in alike.items():
        x = np.array([reports[i].samples_z_g for i in members], dtype=np.float64)
        for i, s in zip(members, _sharpness_rows(x, half), strict=True):
            shapes[i] = _clamp(1.2 * float(s), 0.1, 1.0)
    return shapes


def _sharpness_rows(x: np.ndarray, half: int) -> np.ndarray:
    """:func:`sharpness` of each row of ``x``. Padding zeros leave each running sum exactly as
    it was, so every window's sum is the one ``sum()`` makes from its first sample on."""
    rows, n = x.shape
    padded = np.zeros((rows, n + 2 * half))
    padded[:, half : half + n] = x
    sums = np.zeros((rows, n))
    for k in range(2 * half + 1):
        sums += padded[:, k : k + n]
    at = np.arange(n)
    lengths = np.minimum(n, at + half + 1) - np.maximum(0, at - half)
    heave = (np.abs(sums) / lengths).max(axis=1)
    peak = np.abs(x).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharp = np.clip(1.0 - heave / peak, 0.0, 1.0)
    return np.where(peak == 0.0, 0.0, sharp)


def _half(sample_hz: float) -> int:
    """Samples either side of the centre of a 0.3 s moving window."""
    return max(1, round(0.15 * sample_hz))


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))
