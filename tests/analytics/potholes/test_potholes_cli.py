"""``smartstreets potholes detect``: a recorded trace in, the detector's jolts out as CSV."""

import csv
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analytics.geo.geometry import moved
from analytics.potholes.cli import COLUMNS
from analytics.potholes.detector import Sample, detect
from simulators.features import RoadFeature
from simulators.phones import PhoneProfile, simulate_trip
from simulators.town import CENTRE

START = datetime(2026, 3, 2, 8, tzinfo=UTC)
HEADER = "timestamp,latitude,longitude,severity"
GOOD_ROW = ["1772438400.0", "52.67", "-0.72", "10", "0", "0", "1"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", "potholes", "detect", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _write(path: Path, header: Sequence[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _simulated_trace() -> list[Sample]:
    """A 50 Hz trip east over three potholes and a hump, the phone rolled a further 90°."""
    rng = random.Random(11)
    route = [CENTRE, moved(*CENTRE, 900, 0)]
    features = [
        RoadFeature(f"p{i}", "pothole", *moved(*CENTRE, east, 0.2), severity=0.9)
        for i, east in enumerate((200, 450, 700))
    ]
    features.append(RoadFeature("h", "speed_hump", *moved(*CENTRE, 580, 0.2), severity=1))
    trip = simulate_trip(
        route, [12.0], features, START, rng, PhoneProfile(sample_hz=50), keep_samples=True
    )
    assert trip.samples is not None
    # On top of the simulator's own random orientation: the phone's y axis now points down.
    return [replace(s, ay=-s.az, az=s.ay) for s in trip.samples]


def test_cli_gives_the_detectors_events(tmp_path: Path) -> None:
    """A trace in the issue's format, with an extra column, gives the events detect() gives."""
    samples = _simulated_trace()
    base = START.timestamp()
    rows = [
        [str(i % 7), *map(repr, (base + s.t, s.lat, s.lon, s.speed, s.ax, s.ay, s.az))]
        for i, s in enumerate(samples)
    ]
    path = _write(tmp_path / "trace.csv", ["gpsAccuracy", *COLUMNS], rows)
    expected = detect(samples)
    assert expected

    result = _run(str(path))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    found = [line.split(",") for line in lines[1:]]
    assert len(found) == len(expected)
    for row, event in zip(found, expected, strict=True):
        assert abs(float(row[0]) - (base + event.t)) <= 1 / 50
        assert float(row[1]) == pytest.approx(event.lat, abs=2e-6)
        assert float(row[2]) == pytest.approx(event.lon, abs=2e-6)
        assert float(row[3]) == pytest.approx(event.severity, abs=1e-3)
        assert len(row[0].split(".")[1]) == 3 and len(row[1].split(".")[1]) == 6


def test_no_jolts_prints_the_header_only(tmp_path: Path) -> None:
    """A still phone gives the header and nothing else."""
    rows = [[str(1772438400 + i / 10), "52.67", "-0.72", "0", "0", "0", "1"] for i in range(50)]
    result = _run(str(_write(tmp_path / "still.csv", COLUMNS, rows)))
    assert (result.returncode, result.stdout) == (0, HEADER + "\n")


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (None, [], "no such file"),
        (COLUMNS[:3] + COLUMNS[5:], [GOOD_ROW], "missing column(s) speed, accelerometerX"),
        (COLUMNS, [GOOD_ROW, [*GOOD_ROW[:5], "n/a", "1"]], "line 3, column accelerometerY"),
        (COLUMNS, [GOOD_ROW, [*GOOD_ROW[:3], "nan", *GOOD_ROW[4:]]], "line 3, column speed"),
        (COLUMNS, [GOOD_ROW, GOOD_ROW], "line 3: timestamp 1772438400.0 is not after"),
        (COLUMNS, [], "empty trace"),
    ],
    ids=["missing-file", "missing-columns", "non-numeric", "non-finite", "not-increasing", "empty"],
)
def test_bad_input_is_one_error_line(
    tmp_path: Path, header: list[str] | None, rows: list[list[str]], message: str
) -> None:
    """Each unreadable trace gives one ``error:`` line naming the fault, no traceback."""
    path = tmp_path / "trace.csv"
    if header is not None:
        _write(path, header, rows)
    result = _run(str(path))
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_bad_threshold_is_refused(tmp_path: Path) -> None:
    """An out-of-range threshold is one error line naming the option."""
    path = _write(tmp_path / "trace.csv", COLUMNS, [GOOD_ROW])
    result = _run(str(path), "--params-threshold-g", "0")
    assert result.returncode != 0
    assert result.stderr.startswith("error: --params-threshold-g")


def _evaluate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", "potholes", "evaluate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_evaluate_small_run_prints_json_figures() -> None:
    done = _evaluate("--seed", "1", "--trips", "20", "--json")
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    assert set(scores) == {"with assets", "without assets"}
    for s in scores.values():
        assert "precision" in s and "recall" in s
        assert s["reports"] >= 0


def test_evaluate_zero_trips_is_a_one_line_error() -> None:
    done = _evaluate("--seed", "1", "--trips", "0")
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "trips" in lines[0]
