"""The vectorised and indexed paths of confirmation and coverage give the loops' results."""

import cmath
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from analytics.geo.geometry import LocalProjection, moved
from analytics.potholes.batch import confirm_all, with_quality
from analytics.potholes.confirm import ConfirmParams, DeviceReport, cluster_reports
from analytics.potholes.coverage import Segment
from analytics.potholes.quality import report_quality, window_shape, window_shapes
from analytics.potholes.segment_index import SegmentIndex
from analytics.potholes.track_match import PieceArrays, resample
from ingest.contract.payloads import BumpReport

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _reports(n: int, seed: int) -> list[DeviceReport]:
    rng = random.Random(seed)
    spots = [(rng.uniform(0, 400), rng.uniform(0, 400)) for _ in range(max(1, n // 8))]
    out = []
    for _ in range(n):
        x, y = rng.choice(spots)
        lat, lon = moved(51.5, -0.1, x + rng.gauss(0, 4), y + rng.gauss(0, 4))
        hz = rng.choice([None, 20.0, 50.0, 100.0])
        samples = None if hz is None else [rng.gauss(0, 0.5) for _ in range(int(hz) + 1)]
        report = BumpReport(
            ts=T0 + timedelta(seconds=rng.randrange(10_000)),
            lat=lat,
            lon=lon,
            speed_mps=rng.uniform(0, 35),
            peak_z_g=rng.uniform(0.1, 2.0),
            accuracy_m=rng.choice([None, rng.uniform(2, 30)]),
            heading_deg=rng.choice([None, rng.uniform(0, 360)]),
            sample_hz=hz,
            samples_z_g=samples,
        )
        out.append(DeviceReport(f"p{rng.randrange(n // 3 + 1)}", report))
    return out


def test_window_shapes_match_one_by_one() -> None:
    """Scoring many windows at once gives each report's score to the last bit."""
    reports = [d.report for d in _reports(300, 1)]
    assert window_shapes(reports) == [window_shape(r) for r in reports]


def test_light_reports_confirm_the_same() -> None:
    """Reports scored once and kept without their samples confirm the same potholes."""
    reports = _reports(400, 2)
    light = with_quality(reports, keep_samples=False)
    assert all(d.report.samples_z_g is None for d in light)
    assert [d.quality for d in light] == [report_quality(d.report) for d in reports]

    def found(rs: list[DeviceReport]) -> list[object]:
        return [([(d.device_id, d.report.ts) for d in g], p) for g, p in confirm_all(rs)]

    assert found(light) == found(reports)


def _scan_clusters(reports: list[DeviceReport], params: ConfirmParams) -> list[list[int]]:
    """Clustering as it was before the grid: every report against every cluster."""
    projection = LocalProjection(reports[0].report.lat)
    tol = math.radians(params.heading_tol_deg)

    def unit(h: float | None) -> complex:
        return 0j if h is None else cmath.rect(1.0, math.radians(h))

    def agree(a: complex, b: complex) -> bool:
        return a == 0 or b == 0 or abs(cmath.phase(a / b)) <= tol

    clusters: list[list[Any]] = []  # members, pos, weight, direction
    order = sorted(range(len(reports)), key=lambda i: (reports[i].report.ts, reports[i].device_id))
    for i in order:
        r = reports[i].report
        pos, w, d = projection.complex(r.lat, r.lon), reports[i].weight, unit(r.heading_deg)
        reach = [c for c in clusters if abs(c[1] - pos) <= params.radius_m and agree(c[3], d)]
        if not reach:
            clusters.append([[i], pos, w, w * d])
            continue
        best = min(reach, key=lambda c: abs(c[1] - pos))
        best[1] = (best[1] * best[2] + pos * w) / (best[2] + w)
        best[2] += w
        best[3] += w * d
        best[0].append(i)
    return [c[0] for c in clusters]


@pytest.mark.parametrize("n", [5, 60, 800])
def test_clusters_match_a_scan_of_every_cluster(n: int) -> None:
    """Looking clusters up by grid cell finds the clusters a scan of all of them finds."""
    reports = with_quality(_reports(n, n))
    assert cluster_reports(reports) == _scan_clusters(reports, ConfirmParams())


def test_track_points_match_the_index_loop() -> None:
    """Every resampled track point gets the segment and position the index's loop gives."""
    rng = np.random.default_rng(3)
    segments = []
    for k in range(40):
        lat, lon = 52.6 + rng.uniform(0, 0.01), -0.7 + rng.uniform(0, 0.01)
        pts = [(lat, lon)]
        for _ in range(rng.integers(1, 5)):
            lat, lon = lat + rng.normal(0, 2e-4), lon + rng.normal(0, 3e-4)
            pts.append((lat, lon))
        pts.append(pts[-1])  # a piece of length 0
        segments.append(Segment(f"s{k}", "Road", "residential", tuple(pts)))
    index = SegmentIndex(segments, 15.0)
    tracks = [
        tuple((52.6 + a, -0.7 + b) for a, b in rng.uniform(0, 0.01, (rng.integers(0, 30), 2)))
        for _ in range(30)
    ]
    owner, xy = resample(tracks, index.projection.lat0, 10.0, 150.0)
    seg, along = PieceArrays(index).nearest(xy)
    for p, s, a in zip(xy.tolist(), seg.tolist(), along.tolist(), strict=True):
        best = index.nearest(p)
        assert (s, a) == ((-1, 0.0) if best is None else best)
    assert len(owner) == len(xy)
