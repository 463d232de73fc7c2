"""Road roughness: estimated IRI per ~100 m from a phone's vertical shaking and the speed."""

import csv
import itertools
import math
import random
from pathlib import Path
from statistics import median

import pytest
from typer.testing import CliRunner

from analytics.geo.geometry import haversine_m, moved
from analytics.potholes.cli import COLUMNS as TRACE_COLUMNS
from analytics.potholes.detector import Sample
from analytics.potholes.roughness import RoughnessParams, iri_class, roughness
from deploy.cli import app

runner = CliRunner()
LAT, LON = 52.67, -0.72
T0 = 1772438400.0
COLUMNS = [*TRACE_COLUMNS, "gyroX"]
"""A trace as phones record it: the columns the commands need, and one they ignore."""
FLAT = (0.0, 0.0, 1.0)
"""Gravity's direction in the phone's axes: lying flat, screen up."""
TILTED = (0.48, -0.6, 0.64)
"""Gravity's direction in a phone propped at an angle in a cradle (a unit vector)."""


def _trace(
    legs: list[tuple[float, float]],
    sigma_g: float,
    up: tuple[float, float, float] = FLAT,
    hz: float = 50.0,
    seed: int = 3,
) -> list[Sample]:
    """A drive east over ``(metres, speed)`` legs with Gaussian vertical shaking of ``sigma_g``."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    t = east = 0.0
    for metres, speed in legs:
        end = east + metres
        while east < end:
            z = 1.0 + rng.gauss(0.0, sigma_g)
            lat, lon = moved(LAT, LON, east, 0.0)
            samples.append(Sample(t, lat, lon, speed, up[0] * z, up[1] * z, up[2] * z))
            t += 1 / hz
            east += speed / hz
    return samples


def _write(path: Path, samples: list[Sample]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for s in samples:
            writer.writerow([T0 + s.t, s.lat, s.lon, s.speed, s.ax, s.ay, s.az, 0.1])
    return path


def test_flat_road_is_good() -> None:
    """A smooth road shaking the phone by 0.005 g comes out below IRI 2, class good."""
    stretches = roughness(_trace([(1000, 15)], 0.005))
    assert stretches
    assert all(s.iri_m_per_km < 2 and s.road_class == "good" for s in stretches)


def test_rougher_shaking_gives_higher_iri() -> None:
    """The median IRI grows with the vertical shaking at the same speed."""
    medians = [
        median(s.iri_m_per_km for s in roughness(_trace([(800, 12)], sigma)))
        for sigma in (0.01, 0.03, 0.06, 0.12, 0.25)
    ]
    assert medians == sorted(medians)
    assert len(set(medians)) == len(medians)
    assert medians[-1] > 6  # a quarter-g of shaking is a very poor road


def test_same_shaking_faster_is_a_smoother_road() -> None:
    """At a higher speed the same shaking means a smoother road (IRI ∝ sigma / sqrt(v))."""
    slow = median(s.iri_m_per_km for s in roughness(_trace([(800, 8)], 0.05)))
    fast = median(s.iri_m_per_km for s in roughness(_trace([(800, 32)], 0.05)))
    assert fast == pytest.approx(slow / 2, rel=0.15)


def test_orientation_does_not_matter() -> None:
    """A phone propped at an angle reports the same IRI as one lying flat, within 2%."""
    flat = roughness(_trace([(1000, 12)], 0.05, up=FLAT))
    tilted = roughness(_trace([(1000, 12)], 0.05, up=TILTED))
    assert len(flat) == len(tilted) == 10
    for a, b in zip(flat, tilted, strict=True):
        assert b.iri_m_per_km == pytest.approx(a.iri_m_per_km, rel=0.02)


def test_stretches_are_about_100_m() -> None:
    """A 1 km drive gives ten consecutive stretches of 100 m, midpoints 100 m apart."""
    stretches = roughness(_trace([(1000, 12)], 0.03))
    assert len(stretches) == 10
    assert all(99 <= s.distance_m < 101 for s in stretches)
    assert all(a.end_time < b.start_time for a, b in itertools.pairwise(stretches))
    assert all(s.speed_mps == pytest.approx(12) for s in stretches)
    gaps = [
        haversine_m(a.latitude, a.longitude, b.latitude, b.longitude)
        for a, b in itertools.pairwise(stretches)
    ]
    assert all(gap == pytest.approx(100, abs=1.5) for gap in gaps)


def test_slow_driving_is_skipped() -> None:
    """Samples slower than 4 m/s are left out: walking pace gives no stretch at all."""
    assert roughness(_trace([(400, 3)], 0.2)) == []
    stretches = roughness(_trace([(400, 3), (500, 10)], 0.05))
    assert len(stretches) == 5
    assert all(s.speed_mps == pytest.approx(10) for s in stretches)
    assert stretches[0].start_time >= 400 / 3 - 0.1


def test_short_last_stretch_dropped_long_one_kept() -> None:
    """A last stretch under 50 m is dropped; one of 50 m or more is reported."""
    assert len(roughness(_trace([(1030, 12)], 0.03))) == 10
    last = roughness(_trace([(1070, 12)], 0.03))[-1]
    assert 65 < last.distance_m < 71


@pytest.mark.parametrize(
    ("iri", "name"),
    [
        (0.0, "good"),
        (1.99, "good"),
        (2.0, "fair"),
        (4.0, "poor"),
        (5.9, "poor"),
        (6.0, "very poor"),
    ],
)
def test_classes(iri: float, name: str) -> None:
    """IRI classes: good < 2, fair < 4, poor < 6, very poor from 6 m/km."""
    assert iri_class(iri) == name


@pytest.mark.parametrize(
    ("field", "value"),
    [("stretch_m", 0.0), ("min_speed_mps", 0.0), ("min_samples", 1), ("iri_per_g", -1.0)],
)
def test_params_are_validated(field: str, value: float) -> None:
    """Out-of-range parameters are refused with the convention's message."""
    with pytest.raises(ValueError, match=f"Expected {field} in"):
        RoughnessParams(**{field: value})  # type: ignore[arg-type]


def test_unordered_trace_refused() -> None:
    """Times that do not increase are refused, not silently reordered."""
    samples = _trace([(200, 10)], 0.03)
    with pytest.raises(ValueError, match="strictly increasing"):
        roughness([samples[1], samples[0], *samples[2:]])


def test_cli_prints_one_row_per_stretch(tmp_path: Path) -> None:
    """``potholes roughness`` prints the header and one CSV row per ~100 m, in Unix time."""
    path = _write(tmp_path / "trace.csv", _trace([(500, 12)], 0.12, up=TILTED, hz=20))
    result = runner.invoke(app, ["potholes", "roughness", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "start_time,end_time,latitude,longitude,distance_m,speed_mps,iri_m_per_km,class"
    )
    rows = list(csv.DictReader(lines))
    assert len(rows) == 5
    assert float(rows[0]["start_time"]) == pytest.approx(T0, abs=0.1)
    assert all(math.isclose(float(r["speed_mps"]), 12.0) for r in rows)
    assert all(r["class"] in {"fair", "poor", "very poor"} for r in rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("timestamp,latitude\n1,2\n", "missing column(s) longitude"),
        (",".join(COLUMNS) + "\n1,52.6,-0.7,10,0,0,one,0\n", "expected a number, got 'one'"),
        (",".join(COLUMNS).encode() + b"\n\xff\xfe1,2\n", "cannot read"),
    ],
    ids=["missing file", "missing column", "not a number", "not utf-8"],
)
def test_cli_bad_input_is_one_line_error(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    """A missing or malformed CSV gives one ``error:`` line and a non-zero exit, no traceback."""
    path = tmp_path / "trace.csv"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["potholes", "roughness", str(path)])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]


def test_cli_bad_option_is_usage_error(tmp_path: Path) -> None:
    """A stretch length out of range is refused with exit code 2 and a one-line error."""
    path = _write(tmp_path / "trace.csv", _trace([(200, 12)], 0.03))
    result = runner.invoke(app, ["potholes", "roughness", str(path), "--stretch-m", "0"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: bad option: Expected stretch_m in (0, 10000]."
