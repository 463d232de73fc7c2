"""The reference pothole detector on synthetic traces whose truth is known exactly."""

import math
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from analytics.geo.geometry import moved
from analytics.potholes.detector import SEVERE_G, DetectorParams, Sample, detect

JOLT_AT = 10.0  # on a sample at every rate, so that even 5 Hz sees the jolt's peak
Vertical = Callable[[float], float]


def _rotation(roll: float, pitch: float, yaw: float) -> list[list[float]]:
    """Phone-from-vehicle rotation, from angles in degrees about x, then y, then z."""
    a, b, c = (math.radians(d) for d in (roll, pitch, yaw))
    rx = [[1.0, 0.0, 0.0], [0.0, math.cos(a), -math.sin(a)], [0.0, math.sin(a), math.cos(a)]]
    ry = [[math.cos(b), 0.0, math.sin(b)], [0.0, 1.0, 0.0], [-math.sin(b), 0.0, math.cos(b)]]
    rz = [[math.cos(c), -math.sin(c), 0.0], [math.sin(c), math.cos(c), 0.0], [0.0, 0.0, 1.0]]

    def mul(p: list[list[float]], q: list[list[float]]) -> list[list[float]]:
        return [[sum(p[i][k] * q[k][j] for k in range(3)) for j in range(3)] for i in range(3)]

    return mul(rz, mul(ry, rx))


def _trace(
    hz: float,
    vertical: Vertical,
    *,
    seconds: float = 20.0,
    speed: float = 10.0,
    angles: tuple[float, float, float] = (0.0, 0.0, 0.0),
    noise_g: float = 0.02,
    seed: int = 0,
) -> list[Sample]:
    """A phone driven north at ``speed``, feeling 1 g plus ``vertical`` along the vehicle's up."""
    rng = random.Random(seed)
    rot = _rotation(*angles)
    out = []
    for i in range(round(seconds * hz)):
        t = i / hz
        up = 1.0 + vertical(t)
        ax, ay, az = (r[2] * up + rng.gauss(0, noise_g) for r in rot)
        out.append(Sample(t, *moved(52.6697, -0.7269, 0.0, speed * t), speed, ax, ay, az))
    return out


def _half_sine(t: float, start: float, width: float, peak: float) -> float:
    return peak * math.sin(math.pi * (t - start) / width) if start <= t < start + width else 0.0


def _pothole(at: float = JOLT_AT, peak: float = 2.5) -> Vertical:
    """The wheel drops (down) and strikes the far edge (up), the up peak exactly at ``at``."""
    return lambda t: (
        _half_sine(t, at - 0.075, 0.05, -0.5 * peak) + _half_sine(t, at - 0.025, 0.05, peak)
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold_g": 0}, {"min_speed_mps": -1}, {"max_heave_share": 1.5}, {"merge_s": 0}],
)
def test_parameters_are_validated(kwargs: dict[str, float]) -> None:
    """Thresholds out of their range are refused on construction."""
    with pytest.raises(ValueError, match="Expected"):
        DetectorParams(**kwargs)


@pytest.mark.parametrize(
    "angles",
    [(0, 0, 0), (180, 0, 0), (90, 0, 0), (0, -90, 0), (30, 45, 60), (123, -67, 200)],
    ids=["flat", "face-down", "on-its-side", "upright", "tilted", "odd"],
)
def test_same_jolt_found_in_any_orientation(angles: tuple[float, float, float]) -> None:
    """Gravity is found from the trace, so the jolt and its size do not depend on orientation."""
    events = detect(_trace(50, _pothole(), angles=angles))
    assert len(events) == 1
    assert events[0].t == pytest.approx(JOLT_AT, abs=0.02)
    assert events[0].peak_z_g == pytest.approx(2.5, rel=0.06)


@pytest.mark.parametrize("hz", [5, 10, 20, 50, 100])
def test_severe_pothole_found_at_every_rate(hz: int) -> None:
    """A severe pothole is one event at any rate from 5 to 100 Hz, with the rate estimated."""
    events = detect(_trace(hz, _pothole(), angles=(20, 10, 0)))
    assert [round(e.t, 1) for e in events] == [JOLT_AT]
    assert events[0].sample_hz == pytest.approx(hz)


@pytest.mark.parametrize("speed", [0.0, 1.4, 2.9], ids=["stationary", "walking", "jogging"])
def test_slow_periods_produce_no_events(speed: float) -> None:
    """Handling jolts and footsteps below the speed threshold are ignored; driving, not."""

    def handled(t: float) -> float:
        steps = _half_sine(t % 0.55, 0.0, 0.08, 0.9)  # heel strikes
        return steps + _pothole(5.0, 3.0)(t) + _pothole(JOLT_AT, 2.0)(t)

    assert detect(_trace(50, handled, speed=speed)) == []
    assert detect(_trace(50, handled, speed=10.0)) != []


def test_order_and_duplicates_do_not_matter() -> None:
    """Shuffled samples with repeated timestamps give the events of the clean trace."""
    clean = _trace(50, _pothole(peak=1.5), angles=(10, 20, 30))
    messy = clean + clean[::7]
    random.Random(4).shuffle(messy)
    assert detect(messy) == detect(clean) != []


@pytest.mark.parametrize("hz", [5, 10, 20, 50, 100])
def test_slow_heave_is_not_a_jolt_with_the_heave_filter_on(hz: int) -> None:
    """With the heave filter on (off by default: on real recordings it removed more potholes
    than humps), a speed hump's half-second heave, well above threshold, is not reported."""
    heave = _trace(hz, lambda t: _half_sine(t, JOLT_AT, 0.5, 0.8), angles=(0, 30, 0))
    assert detect(heave, DetectorParams(max_jolt_s=0.15, max_heave_share=0.5)) == []


def test_rough_road_is_not_a_pothole_but_a_pothole_on_it_is() -> None:
    """Many moderate peaks on a rough stretch do not stand out; a severe jolt among them does."""
    rough = random.Random(7)
    texture = [rough.gauss(0, 0.2) for _ in range(50 * 60)]
    jolt = _pothole(30.0, 2.5)
    trace = _trace(50, lambda t: texture[round(t * 50)] + jolt(t), seconds=60)
    threshold = DetectorParams().threshold_g
    assert sum(abs(x) > threshold for x in texture) > 10  # a naive threshold fires all along
    assert [round(e.t, 1) for e in detect(trace)] == [30.0]


@pytest.mark.parametrize(("gap_s", "events"), [(0.4, 1), (0.9, 1), (2.0, 2)])
def test_jolts_closer_than_merge_window_are_one_event(gap_s: float, events: int) -> None:
    """Front and rear wheel, or a pothole's two edges, are one event; distinct jolts are two."""
    first, second = _pothole(JOLT_AT, 2.0), _pothole(JOLT_AT + gap_s, 2.5)
    found = detect(_trace(100, lambda t: first(t) + second(t)))
    assert len(found) == events
    assert max(e.peak_z_g for e in found) == pytest.approx(2.5, rel=0.06)


def test_event_carries_a_valid_bump_report() -> None:
    """An event has its window of samples, heading and severity, and makes a valid report."""
    event = detect(_trace(50, _pothole(peak=0.5)))[0]
    assert len(event.samples_z_g) == 51
    assert max(event.samples_z_g) == event.peak_z_g
    assert event.heading_deg is not None
    assert min(event.heading_deg, 360 - event.heading_deg) < 1  # driving north
    assert event.peak_z_g == pytest.approx(0.5, rel=0.1)
    assert event.severity == pytest.approx(event.peak_z_g / SEVERE_G)
    report = event.to_report(datetime(2026, 3, 2, tzinfo=UTC), seq=1, accuracy_m=4.0)
    assert report.sample_hz == 50.0
    assert report.ts == datetime(2026, 3, 2, 0, 0, 10, tzinfo=UTC)


def test_irregular_sampling_is_handled() -> None:
    """Jittered timestamps still give the jolt, and the median interval gives the rate."""
    jitter = random.Random(3)
    trace = [replace(s, t=s.t + jitter.uniform(-0.003, 0.003)) for s in _trace(50, _pothole())]
    events = detect(trace)
    assert [round(e.t, 1) for e in events] == [JOLT_AT]
    assert events[0].sample_hz == pytest.approx(50, rel=0.05)
