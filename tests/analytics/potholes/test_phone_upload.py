"""A phone's upload after a drive: jolts without the trip's ends, counted, with their accuracy."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from analytics.geo.geometry import moved
from analytics.potholes.detector import Sample
from analytics.potholes.phone_upload import phone_upload
from simulators.town import CENTRE

START = datetime(2026, 3, 2, 8, tzinfo=UTC)
HZ = 50.0
SPEED = 10.0
JOLTS_S = (5.0, 25.0, 35.0, 57.0)  # 50, 250, 350 and 570 m into a 600 m drive


def _drive(seconds: float, seed: int = 1) -> list[Sample]:
    """A phone lying flat in a car driving north at 10 m/s, with a sharp jolt at each of
    ``JOLTS_S`` that falls within the drive."""
    rng = random.Random(seed)
    samples = []
    for i in range(round(seconds * HZ)):
        t = i / HZ
        jolt = {0: 0.8, 1: -0.5}.get(round((t - min(JOLTS_S, key=lambda j: abs(t - j))) * HZ), 0)
        lat, lon = moved(*CENTRE, 0.0, SPEED * t)
        z = 1.0 + jolt + rng.gauss(0, 0.02)
        samples.append(Sample(t, lat, lon, SPEED, rng.gauss(0, 0.02), rng.gauss(0, 0.02), z))
    return samples


def test_trip_ends_are_trimmed_and_seq_counts_from_zero() -> None:
    """Jolts within 200 m of either end stay on the phone; those sent are numbered from 0."""
    samples = _drive(60)
    kept = phone_upload(samples, START)
    assert [r.seq for r in kept.reports] == [0, 1]
    assert [round((r.ts - START).total_seconds()) for r in kept.reports] == [25, 35]
    everything = phone_upload(samples, START, margin_m=0)
    assert [r.seq for r in everything.reports] == [0, 1, 2, 3]
    assert [round((r.ts - START).total_seconds()) for r in everything.reports] == list(JOLTS_S)


def test_each_report_carries_the_accuracy_of_its_sample() -> None:
    """A report's accuracy is that of the sample at its peak, wherever that sample lies in the
    input; without accuracies, reports carry none."""
    samples = _drive(60)
    accuracy = [3.0 + i / 10_000 for i in range(len(samples))]
    upload = phone_upload(samples, START, accuracy, margin_m=0)
    by_time = {START + timedelta(seconds=s.t): a for s, a in zip(samples, accuracy, strict=True)}
    assert upload.reports
    assert [r.accuracy_m for r in upload.reports] == [by_time[r.ts] for r in upload.reports]
    order = list(range(len(samples)))
    random.Random(2).shuffle(order)
    shuffled = phone_upload(
        [samples[i] for i in order], START, [accuracy[i] for i in order], margin_m=0
    )
    assert shuffled.reports == upload.reports
    assert all(r.accuracy_m is None for r in phone_upload(samples, START).reports)


def test_coverage_with_roughness_and_none_for_a_short_trip() -> None:
    """A 600 m drive sends a track with its roughness; a 300 m one sends nothing at all."""
    coverage = phone_upload(_drive(60), START).coverage
    assert coverage is not None and coverage.roughness
    short = phone_upload(_drive(30), START)
    assert short.reports == () and short.coverage is None


def test_accuracies_must_match_the_samples() -> None:
    """One accuracy per sample, or a ValueError."""
    with pytest.raises(ValueError, match="Expected one accuracy per sample"):
        phone_upload(_drive(10), START, [5.0])
