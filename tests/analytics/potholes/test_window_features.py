"""Candidate jolts and their window features on synthetic traces whose truth is known exactly."""

import math
import random

import pytest

from analytics.potholes.detector import Sample, moving_average, samples_in
from analytics.potholes.window_features import (
    FEATURES,
    WindowParams,
    candidates,
)

JOLT_AT = 5.0  # on a sample at every rate tested


def _rotate(v: tuple[float, float, float], roll: float, pitch: float) -> tuple[float, ...]:
    a, b = math.radians(roll), math.radians(pitch)
    x, y, z = v
    y, z = y * math.cos(a) - z * math.sin(a), y * math.sin(a) + z * math.cos(a)
    x, z = x * math.cos(b) + z * math.sin(b), -x * math.sin(b) + z * math.cos(b)
    return x, y, z


def _trace(
    hz: float,
    *,
    jolt_g: float = 1.0,
    heave: bool = False,
    speed: float = 10.0,
    angles: tuple[float, float] = (0.0, 0.0),
    noise_g: float = 0.0,
    seed: int = 0,
) -> list[Sample]:
    """10 s along the vehicle's up: 1 g, plus a one-sample jolt or a 1 s heave at ``JOLT_AT``."""
    rng = random.Random(seed)
    out = []
    for i in range(round(10 * hz)):
        t = i / hz
        if heave:
            up = jolt_g * math.sin(math.pi * (t - JOLT_AT + 0.5)) if abs(t - JOLT_AT) < 0.5 else 0
        else:
            up = jolt_g if abs(t - JOLT_AT) < 0.5 / hz else 0.0
        v = (rng.gauss(0, noise_g), rng.gauss(0, noise_g), 1.0 + up + rng.gauss(0, noise_g))
        ax, ay, az = _rotate(v, *angles)
        out.append(Sample(t, 52.67, -0.72, speed, ax, ay, az))
    return out


@pytest.mark.parametrize("hz", [5.0, 20.0, 50.0, 100.0])
def test_one_jolt_is_one_candidate_with_its_peak_and_rate(hz: float) -> None:
    """A single jolt on a still road gives one candidate at the jolt, with its peak and the rate."""
    _, found = candidates(_trace(hz))
    assert [c.t for c in found] == [pytest.approx(JOLT_AT)]
    f = dict(zip(FEATURES, found[0].features, strict=True))
    assert f["peak_g"] == pytest.approx(1.0)
    assert f["peak_to_peak_g"] == pytest.approx(1.0)
    assert f["sample_hz"] == pytest.approx(hz)
    assert f["second_peak_share"] == 0.0


def test_slow_samples_give_no_candidates() -> None:
    """Below the minimum speed nothing is a candidate, however sharp."""
    assert candidates(_trace(50.0, speed=1.0))[1] == []


def test_small_peaks_are_not_candidates() -> None:
    """A jolt below ``min_peak_g`` is no candidate."""
    assert candidates(_trace(50.0, jolt_g=0.02))[1] == []


def test_a_heave_shows_in_heave_share_and_a_jolt_does_not() -> None:
    """A slow heave keeps most of its peak in the moving average; a one-sample jolt keeps little."""
    heave_share = FEATURES.index("heave_share")
    (jolt,) = candidates(_trace(50.0))[1]
    (heave,) = candidates(_trace(50.0, heave=True))[1]
    assert jolt.features[heave_share] < 0.2 < 0.8 < heave.features[heave_share]


@pytest.mark.parametrize("angles", [(30.0, 0.0), (0.0, 80.0), (120.0, -45.0)])
def test_features_do_not_depend_on_the_phone_orientation(angles: tuple[float, float]) -> None:
    """A phone lying at any fixed angle finds the same candidates with the same features."""
    flat = candidates(_trace(20.0, noise_g=0.03, seed=3))[1]
    tilted = candidates(_trace(20.0, noise_g=0.03, seed=3, angles=angles))[1]
    assert [c.index for c in tilted] == [c.index for c in flat]
    for a, b in zip(flat, tilted, strict=True):
        assert b.features == pytest.approx(a.features, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("field", ["jolt_s", "noise_s", "heave_s", "gravity_tau_s"])
def test_window_widths_must_be_positive(field: str) -> None:
    """A zero window is refused with the project's parameter message."""
    with pytest.raises(ValueError, match=f"Expected {field} in"):
        WindowParams(**{field: 0.0})


def test_moving_average_shrinks_its_window_at_the_ends() -> None:
    """Each value is the mean of itself and ``half`` neighbours each side, fewer at the ends."""
    assert moving_average([0.0, 3.0, 6.0, 9.0], 1) == pytest.approx([1.5, 3.0, 6.0, 7.5])


@pytest.mark.parametrize(("seconds", "hz", "n"), [(0.5, 5.0, 3), (0.1, 50.0, 5), (2.0, 20.0, 40)])
def test_samples_in_rounds_to_the_nearest_whole_sample(seconds: float, hz: float, n: int) -> None:
    """A duration at a rate is the nearest whole number of samples, halves rounded up."""
    assert samples_in(seconds, hz) == n
