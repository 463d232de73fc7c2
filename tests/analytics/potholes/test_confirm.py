"""Confirming potholes from many phones' bump reports: clustering, thresholds, assets, lifecycle."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.geo.geometry import moved
from analytics.potholes.confirm import (
    Asset,
    ConfirmParams,
    DeviceReport,
    cluster_reports,
    confirm,
    devices_since,
    report_quality,
    sharpness,
)
from analytics.potholes.evaluate import EvaluationParams, evaluate
from analytics.potholes.lifecycle import Action, Lifecycle, advance
from ingest.contract.payloads import BumpReport

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
LAT, LON = 51.5, -0.1
JOLT = [0.0, 0.05, -0.1, -1.4, 1.6, -0.6, 0.2, 0.05, 0.0, 0.0, 0.0]
HEAVE = [0.2, 0.5, 0.8, 1.0, 1.1, 1.0, 0.8, 0.5, 0.3, 0.1, 0.0]


def _report(
    device: str,
    *,
    east_m: float = 0.0,
    north_m: float = 0.0,
    heading: float | None = 0.0,
    minutes: float = 0.0,
    samples: list[float] | None = None,
    peak: float = 1.6,
) -> DeviceReport:
    lat, lon = moved(LAT, LON, east_m, north_m)
    report = BumpReport(
        ts=T0 + timedelta(minutes=minutes),
        lat=lat,
        lon=lon,
        speed_mps=10.0,
        peak_z_g=peak,
        accuracy_m=4.0,
        heading_deg=heading,
        sample_hz=20.0,
        samples_z_g=JOLT if samples is None else samples,
    )
    return DeviceReport(device, report)


@pytest.mark.parametrize(
    ("second_heading", "clusters"),
    [(180.0, 2), (0.0, 1), (30.0, 1), (90.0, 2), (None, 1)],
)
def test_reports_6_m_apart_split_by_direction(second_heading: float | None, clusters: int) -> None:
    """Reports 6 m apart merge when their headings agree and split when they are opposite."""
    reports = [_report(f"a{n}", minutes=n) for n in range(3)]
    reports += [
        _report(f"b{n}", east_m=6.0, heading=second_heading, minutes=n + 10) for n in range(3)
    ]
    assert len(cluster_reports(reports)) == clusters


def test_parallel_streets_30_m_apart_stay_apart() -> None:
    """Two streets 30 m apart, same direction, are two clusters."""
    reports = [_report("a", minutes=0), _report("b", east_m=30.0, minutes=1)]
    assert len(cluster_reports(reports)) == 2


@pytest.mark.parametrize(
    ("phones", "min_devices", "min_evidence", "state"),
    [
        (2, 3, 1.2, "candidate"),
        (3, 3, 1.2, "confirmed"),
        (3, 4, 1.2, "candidate"),
        (1, 1, 0.0, "confirmed"),
        (1, 1, 1.2, "candidate"),
    ],
)
def test_distinct_phones_confirm_not_repeat_reports(
    phones: int, min_devices: int, min_evidence: float, state: str
) -> None:
    """Many reports from too few distinct phones (or too little evidence) stay a candidate."""
    reports = [_report(f"phone-{n % phones}", minutes=n) for n in range(12)]
    params = ConfirmParams(min_devices=min_devices, min_evidence=min_evidence)
    (pothole,) = confirm(reports, params=params)
    assert (pothole.state, pothole.devices, pothole.reports) == (state, phones, 12)


@pytest.mark.parametrize(("asset_east_m", "kept"), [(0.0, 0), (5.0, 0), (40.0, 1)])
def test_known_assets_suppress_clusters_on_them(asset_east_m: float, kept: int) -> None:
    """A cluster on a known speed hump is dropped; one far from it is kept."""
    reports = [_report(f"phone-{n}", minutes=n) for n in range(4)]
    _, lon = moved(LAT, LON, asset_east_m, 0.0)
    assert len(confirm(reports, [Asset("speed_hump", LAT, lon, 6.0)])) == kept


def test_sharp_jolt_outscores_slow_heave() -> None:
    """A jolt's window is sharper and its report worth more than a heave's of the same peak."""
    assert sharpness(JOLT, 20.0) > 0.6 > 0.3 > sharpness(HEAVE, 20.0)
    jolt, heave = _report("a").report, _report("a", samples=HEAVE, peak=1.1).report
    assert report_quality(jolt) > 2 * report_quality(heave)


@pytest.mark.parametrize(
    ("state", "action", "devices", "expected"),
    [
        ("candidate", None, 2, "candidate"),
        ("candidate", None, 3, "confirmed"),
        ("confirmed", "report", 0, "reported"),
        ("reported", "repair", 0, "repaired"),
        ("repaired", None, 2, "repaired"),
        ("repaired", None, 3, "reopened"),
        ("reopened", "report", 0, "reported"),
        ("confirmed", "mark_duplicate", 0, "duplicate"),
        ("duplicate", None, 9, "duplicate"),
    ],
)
def test_lifecycle(
    state: Lifecycle, action: Action | None, devices: int, expected: Lifecycle
) -> None:
    """Each state moves only by its allowed action, or by enough new phones."""
    assert advance(state, action, devices=devices) == expected


@pytest.mark.parametrize(("state", "action"), [("candidate", "report"), ("candidate", "repair")])
def test_lifecycle_refuses_skipping(state: Lifecycle, action: Action) -> None:
    """A candidate can be neither reported nor repaired."""
    with pytest.raises(ValueError, match="Expected"):
        advance(state, action)


@pytest.mark.parametrize(
    ("new_phones", "expected"), [(0, "repaired"), (2, "repaired"), (3, "reopened")]
)
def test_repaired_pothole_hit_again_reopens(new_phones: int, expected: Lifecycle) -> None:
    """Old reports before the repair never reopen it; enough new phones after it do."""
    repaired_at = T0 + timedelta(hours=1)
    old = [_report(f"old-{n}", minutes=n) for n in range(5)]
    new = [_report(f"new-{n}", minutes=120 + n) for n in range(new_phones)]
    (pothole,) = confirm(old + new)
    assert pothole.state == "confirmed"
    state = advance("repaired", devices=devices_since(old + new, repaired_at))
    assert state == expected


def test_small_simulated_town_confirms_real_potholes() -> None:
    """On a small simulated town confirmed potholes are mostly real and humps are suppressed."""
    params = EvaluationParams(seeds=(1,), trips=120, phones=60, rates_hz=(20.0, 50.0))
    scores = evaluate(params)
    with_assets = scores["with assets"]
    assert with_assets.confirmed > 0
    assert with_assets.precision >= 0.8
    assert with_assets.well_hit_found >= 0.6 * with_assets.well_hit
    assert with_assets.humps_confirmed == 0
