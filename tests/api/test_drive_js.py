"""The browser's detector (``api/static/streetbump.js``) gives the Python reference's results.

One Node process runs the JavaScript module on every trace; Python runs
:func:`analytics.potholes.phone_upload.phone_upload`, ``detect`` and ``roughness`` on the same
samples, start and accuracies. Traces: simulated trips over roads with potholes at 5, 20, 50,
60 and 100 Hz in random phone orientations, with and without the trip-end margin, and, when
``shared/data/potholes`` is beside the repository, the three Pittsburgh drives and every
González clip (read in place, never copied).

Tolerances. Uploads: the same number of reports with the same ``seq`` and fields; per report
|Δts| ≤ 1 ms, |Δlat|, |Δlon| ≤ 1e-6°, |Δpeak_z_g| ≤ 1e-3 g, ``samples_z_g`` within 1e-3 g,
heading within 0.1°; coverage: the same points within 1e-6°, ``ts_start``/``ts_end`` within
1 ms, roughness rows within 1e-6° and 0.01 m/km. Raw results, before rounding: the same
events at the same samples (t, lat, lon, speed equal), peak, severity, heading, rate and
window within 1e-9; the same stretches (times and places equal), distance, speed and IRI
within 1e-9 relative, the same road class. Only libm functions (exp, cos, atan2, pow) may
differ between Python and a JavaScript engine, by an ulp or so.
"""

import dataclasses
import json
import math
import random
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from analytics.geo.geometry import moved
from analytics.potholes.detector import DetectorParams, Sample, detect
from analytics.potholes.phone_upload import phone_params, phone_upload
from analytics.potholes.roughness import RoughnessParams, roughness
from bench.detector_data import data_root, load_clips, load_drives
from ingest.contract.payloads import BumpReport, TripCoverage
from simulators.phones import PhoneProfile, RoadFeature, simulate_trip
from simulators.town import CENTRE

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "api" / "static" / "streetbump.js"
START = datetime(2026, 3, 2, 8, tzinfo=UTC)
RATES_HZ = (5.0, 20.0, 50.0, 60.0, 100.0)
SEEDS = range(5)
# East 800 m, then north 600 m, a pothole every 100 m or so and a rough stretch.
ROUTE = [CENTRE, moved(*CENTRE, 800, 0), moved(*CENTRE, 800, 600)]
SPEEDS = [12.0, 9.0]
SHORT = [CENTRE, moved(*CENTRE, 300, 0)]

RUNNER = """
const [input, output, module] = process.argv.slice(1);
const fs = await import("node:fs");
const sb = await import(module);
const { params, traces } = JSON.parse(fs.readFileSync(input, "utf8"));
const keys = ["t", "lat", "lon", "speed", "ax", "ay", "az"];
const results = traces.map((trace) => {
  const samples = trace.samples.map((row) => Object.fromEntries(keys.map((k, i) => [k, row[i]])));
  const p = { ...params, trip_end_margin_m: trace.margin_m };
  let stretches;
  try {
    stretches = sb.roughness(samples, p.roughness, p.iri_classes);
  } catch (e) {
    stretches = null;
  }
  return {
    events: sb.detect(samples, p.detector, p.max_samples),
    stretches,
    upload: sb.phoneUpload(samples, trace.start_ms, p, trace.accuracy_m),
  };
});
fs.writeFileSync(output, JSON.stringify(results));
"""


@dataclasses.dataclass(frozen=True)
class Trace:
    """One trace run through both implementations."""

    name: str
    samples: tuple[Sample, ...]
    accuracy_m: list[float | None] | None
    margin_m: float


def _potholes(rng: random.Random) -> list[RoadFeature]:
    road = [
        RoadFeature(f"p{i}", "pothole", *moved(*CENTRE, east, 0.3), severity=rng.uniform(0.5, 1))
        for i, east in enumerate(range(100, 800, 110))
    ]
    road += [
        RoadFeature(f"q{i}", "pothole", *moved(*CENTRE, 800.3, north), severity=rng.uniform(0.5, 1))
        for i, north in enumerate(range(150, 500, 120))
    ]
    road.append(RoadFeature("h", "speed_hump", *moved(*CENTRE, 450, 0.3), severity=1.0))
    road.append(RoadFeature("r", "rough", *moved(*CENTRE, 800.5, 300), severity=0.8, length_m=200))
    return road


def _accuracy(samples: tuple[Sample, ...], rng: random.Random) -> list[float | None]:
    """A GPS accuracy per 1 Hz fix, shared by that second's samples."""
    fixes = [round(rng.uniform(3, 8), 1) for _ in range(int(samples[-1].t) + 2)]
    return [fixes[int(s.t)] for s in samples]


def _simulated() -> Iterator[Trace]:
    for hz in RATES_HZ:
        for seed in SEEDS:
            rng = random.Random(f"drive-js-{hz}-{seed}")
            phone = PhoneProfile(
                sample_hz=hz, noise_g=rng.uniform(0.02, 0.05), engine_g=rng.uniform(0.01, 0.04)
            )
            trip = simulate_trip(
                ROUTE, SPEEDS, _potholes(rng), START, rng, phone, keep_samples=True
            )
            assert trip.samples is not None
            accuracy = _accuracy(trip.samples, rng) if seed % 2 == 0 else None
            for margin in (200.0, 0.0):
                yield Trace(f"sim-{hz:g}hz-{seed}-m{margin:g}", trip.samples, accuracy, margin)
        trip = simulate_trip(
            SHORT, [10.0], [], START, random.Random(7), PhoneProfile(hz), keep_samples=True
        )
        assert trip.samples is not None
        yield Trace(f"sim-{hz:g}hz-short", trip.samples, None, 200.0)


def _messy(trace: Trace, seed: int) -> Trace:
    """The trace out of order, with repeated timestamps (the detector keeps the first)."""
    rng = random.Random(seed)
    rows = list(zip(trace.samples, trace.accuracy_m or [None] * len(trace.samples), strict=True))
    rows += [(dataclasses.replace(s, az=s.az + 0.5), 9.9) for s, _ in rng.sample(rows, 50)]
    rng.shuffle(rows)
    accuracy = [a for _, a in rows] if trace.accuracy_m else None
    return Trace(f"{trace.name}-messy", tuple(s for s, _ in rows), accuracy, 0.0)


def _real() -> Iterator[Trace]:
    """The Pittsburgh drives (5 Hz, 3 axes) and the González clips (50 Hz, z only), as the
    detector's benchmark reads them, when the shared recordings are beside the checkout."""
    root = data_root()
    if (root / "cmu_pittsburgh_2017").is_dir():
        for drive in load_drives(root):
            for margin in (200.0, 0.0):
                yield Trace(f"{drive.name}-m{margin:g}", drive.samples, None, margin)
    if (root / "gonzalez_2017_half" / "index.csv").exists():
        for clip in load_clips(root):
            yield Trace(clip.name, clip.samples, None, 0.0)


def _run_node(node: str, traces: list[Trace], tmp: Path) -> list[dict[str, Any]]:
    start_ms = int(START.timestamp() * 1000)
    payload = {
        "params": phone_params(),
        "traces": [
            {
                "samples": [dataclasses.astuple(s) for s in t.samples],
                "start_ms": start_ms,
                "accuracy_m": t.accuracy_m,
                "margin_m": t.margin_m,
            }
            for t in traces
        ],
    }
    (tmp / "in.json").write_text(json.dumps(payload, allow_nan=False))
    files = [str(tmp / "in.json"), str(tmp / "out.json"), MODULE.as_uri()]
    subprocess.run(
        [node, "--input-type=module", "-e", RUNNER, *files],
        check=True,
        timeout=240,
    )
    results: list[dict[str, Any]] = json.loads((tmp / "out.json").read_text())
    return results


class Worst:
    """The largest difference seen per quantity, to check against its tolerance."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}

    def __call__(self, name: str, a: float, b: float, relative: bool = False) -> float:
        d = abs(a - b) / (max(abs(a), abs(b)) or 1.0) if relative else abs(a - b)
        self.seen[name] = max(self.seen.get(name, 0.0), d)
        return d


def _compare_events(py: list[Any], js: list[dict[str, Any]], worst: Worst, name: str) -> None:
    assert len(js) == len(py), name
    for e, j in zip(py, js, strict=True):
        assert (e.t, e.lat, e.lon, e.speed_mps) == (j["t"], j["lat"], j["lon"], j["speed_mps"])
        assert worst("event peak_z_g", e.peak_z_g, j["peak_z_g"]) <= 1e-9, name
        assert worst("event severity", e.severity, j["severity"]) <= 1e-9, name
        assert worst("event sample_hz", e.sample_hz, j["sample_hz"], relative=True) <= 1e-9
        assert (e.heading_deg is None) == (j["heading_deg"] is None), name
        if e.heading_deg is not None:
            assert worst("event heading_deg", e.heading_deg, j["heading_deg"]) <= 1e-9, name
        assert len(e.samples_z_g) == len(j["samples_z_g"]), name
        for a, b in zip(e.samples_z_g, j["samples_z_g"], strict=True):
            assert worst("event samples_z_g", a, b) <= 1e-9, name


def _compare_stretches(t: Trace, js: list[dict[str, Any]] | None, worst: Worst) -> None:
    try:
        py = roughness(t.samples)
    except ValueError:
        assert js is None, t.name
        return
    assert js is not None and len(js) == len(py), t.name
    for s, j in zip(py, js, strict=True):
        assert (s.start_time, s.end_time, s.latitude, s.longitude, s.road_class) == (
            j["start_time"],
            j["end_time"],
            j["latitude"],
            j["longitude"],
            j["road_class"],
        ), t.name
        for field in ("distance_m", "speed_mps", "iri_m_per_km"):
            d = worst(f"stretch {field} (relative)", getattr(s, field), j[field], relative=True)
            assert d <= 1e-9, (t.name, field)


def _compare_reports(py: BumpReport, body: dict[str, Any], worst: Worst, name: str) -> None:
    js = BumpReport.model_validate_json(json.dumps(body))
    assert set(body) == set(json.loads(py.model_dump_json(exclude_none=True))), name
    assert js.seq == py.seq and js.accuracy_m == py.accuracy_m, name
    assert worst("report ts (s)", js.ts.timestamp(), py.ts.timestamp()) <= 1e-3, name
    assert (
        worst("report lat", js.lat, py.lat) <= 1e-6 and worst("report lon", js.lon, py.lon) <= 1e-6
    )
    assert worst("report speed_mps", js.speed_mps, py.speed_mps) <= 0.01, name
    assert worst("report peak_z_g", js.peak_z_g, py.peak_z_g) <= 1e-3, name
    assert worst("report sample_hz", js.sample_hz or 0, py.sample_hz or 0) <= 0.01, name
    assert (js.heading_deg is None) == (py.heading_deg is None), name
    if js.heading_deg is not None and py.heading_deg is not None:
        d = abs(js.heading_deg - py.heading_deg)
        assert worst("report heading_deg", min(d, 360 - d), 0) <= 0.1, name
    assert js.samples_z_g is not None and py.samples_z_g is not None
    assert len(js.samples_z_g) == len(py.samples_z_g), name
    for a, b in zip(js.samples_z_g, py.samples_z_g, strict=True):
        assert worst("report samples_z_g", a, b) <= 1e-3, name


def _compare_coverage(
    py: TripCoverage | None, body: dict[str, Any] | None, worst: Worst, name: str
) -> None:
    assert (py is None) == (body is None), name
    if py is None or body is None:
        return
    js = TripCoverage.model_validate_json(json.dumps(body))
    assert worst("coverage ts_start (s)", js.ts_start.timestamp(), py.ts_start.timestamp()) <= 1e-3
    assert worst("coverage ts_end (s)", js.ts_end.timestamp(), py.ts_end.timestamp()) <= 1e-3
    assert len(js.points) == len(py.points), name
    for p, q in zip(js.points, py.points, strict=True):
        assert max(worst("coverage point", a, b) for a, b in zip(p, q, strict=True)) <= 1e-6
    assert len(js.roughness or ()) == len(py.roughness or ()), name
    for r, s in zip(js.roughness or (), py.roughness or (), strict=True):
        assert worst("coverage roughness lat", r[0], s[0]) <= 1e-6, name
        assert worst("coverage roughness lon", r[1], s[1]) <= 1e-6, name
        assert worst("coverage roughness iri", r[2], s[2]) <= 0.01, name


def test_js_matches_python_on_simulated_and_real_traces(tmp_path: Path) -> None:
    """On every trace the browser module finds the same jolts and stretches as Python and
    builds the same upload, within the tolerances of the module docstring."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js to run api/static/streetbump.js (Debian package nodejs)")
    traces = list(_simulated())
    traces += [_messy(t, seed) for seed, t in enumerate(traces[:3])]
    traces += list(_real())
    results = _run_node(node, traces, tmp_path)
    assert len(results) == len(traces)
    worst = Worst()
    reports = coverages = with_accuracy = 0
    for t, got in zip(traces, results, strict=True):
        _compare_events(detect(t.samples), got["events"], worst, t.name)
        _compare_stretches(t, got["stretches"], worst)
        upload = phone_upload(t.samples, START, t.accuracy_m, margin_m=t.margin_m)
        assert len(got["upload"]["reports"]) == len(upload.reports), t.name
        for py, body in zip(upload.reports, got["upload"]["reports"], strict=True):
            _compare_reports(py, body, worst, t.name)
        _compare_coverage(upload.coverage, got["upload"]["coverage"], worst, t.name)
        reports += len(upload.reports)
        with_accuracy += sum(r.accuracy_m is not None for r in upload.reports)
        coverages += upload.coverage is not None
    print(f"\n{len(traces)} traces, {reports} reports, {coverages} coverage tracks")
    print(f"  {with_accuracy} reports carry an accuracy")
    for name, d in sorted(worst.seen.items()):
        print(f"  largest difference, {name}: {d:.3g}")
    assert len(traces) >= 50 and reports >= 30 and coverages >= 20 and with_accuracy >= 10


def test_simulated_trips_upload_what_phone_upload_builds() -> None:
    """The simulator's phones send exactly ``phone_upload``'s reports and track."""
    rng = random.Random(3)
    trip = simulate_trip(ROUTE, SPEEDS, _potholes(rng), START, rng, keep_samples=True)
    assert trip.samples is not None and trip.reports
    upload = phone_upload(trip.samples, START)
    assert upload.coverage == trip.coverage
    assert [r.model_copy(update={"accuracy_m": None}) for r in trip.reports] == list(upload.reports)


def test_phone_params_are_json_with_every_threshold() -> None:
    """``phone_params`` survives strict JSON and names every detector and roughness field."""
    params = phone_params()
    assert json.loads(json.dumps(params, allow_nan=False)) == params
    detector, rough = params["detector"], params["roughness"]
    assert isinstance(detector, dict) and isinstance(rough, dict)
    assert {f.name for f in dataclasses.fields(DetectorParams)} == set(detector)
    assert {f.name for f in dataclasses.fields(RoughnessParams)} == set(rough)
    classes = params["iri_classes"]
    assert isinstance(classes, list) and classes[-1][0] is None
    assert all(math.isfinite(b) for b, _ in classes[:-1])
