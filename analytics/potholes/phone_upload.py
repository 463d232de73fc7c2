"""What a phone uploads after a drive: its ``bump`` reports and its ``coverage`` track.

The one Python home of the phone's side of the pothole service. The simulated phones run it,
and ``api/static/streetbump.js`` mirrors it for residents' phones, reading every threshold from
:func:`phone_params` so that no constant is written twice; ``tests/api/test_drive_js.py`` holds
the two to the same results on the same traces.
"""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from analytics.potholes.detector import DetectorParams, Sample, clean_trace, detect
from analytics.potholes.privacy import (
    TRACK_STEP_M,
    TRIP_END_MARGIN_M,
    coverage_track,
    trim_trip_ends,
)
from analytics.potholes.roughness import CLASSES, RoughnessParams, Stretch, roughness
from ingest.contract.payloads import (
    MAX_IRI_M_PER_KM,
    MAX_SAMPLES,
    MAX_TRACK_POINTS,
    BumpReport,
    TripCoverage,
)

_DEFAULT_PARAMS = DetectorParams()


@dataclass(frozen=True)
class PhoneUpload:
    """Everything a phone sends after one drive: its jolts, ends trimmed, ``seq`` counting
    them from 0, and its coverage track (``None`` when the trip is too short to send one)."""

    reports: tuple[BumpReport, ...]
    coverage: TripCoverage | None


def phone_upload(
    samples: Sequence[Sample],
    start: datetime,
    accuracy_m: Sequence[float | None] | None = None,
    params: DetectorParams = _DEFAULT_PARAMS,
    margin_m: float = TRIP_END_MARGIN_M,
) -> PhoneUpload:
    """The upload of a drive: detect jolts, leave off the trip's ends, build the messages.

    Parameters
    ----------
    samples
        The drive's accelerometer trace (``Sample.t`` in seconds from ``start``). It is
        cleaned as the detector cleans it (finite values, time order, the first sample of each
        timestamp), and the trip's ends, track and roughness are measured on what is left.
    start
        Timezone-aware time of the trace's zero.
    accuracy_m
        GPS accuracy (m) of each sample, aligned with ``samples``; a report carries that of
        the sample at its jolt's peak. ``None`` when unknown.
    params
        Thresholds of the detector.
    margin_m
        Distance left off at each end of the trip (privacy); 0 keeps everything.

    Returns
    -------
    PhoneUpload
        The ``bump`` reports and the ``coverage`` track, with the trip's roughness stretches.
    """
    if accuracy_m is not None and len(accuracy_m) != len(samples):
        raise ValueError("Expected one accuracy per sample.")
    trace = clean_trace(samples)
    events = trim_trip_ends(detect(trace, params), trace, margin_m)
    index = _first_index_by_time(samples)
    reports = tuple(
        event.to_report(start, seq, None if accuracy_m is None else accuracy_m[index[event.t]])
        for seq, event in enumerate(events)
    )
    coverage = coverage_track(trace, start, margin_m, roughness=_roughness(trace))
    return PhoneUpload(reports, coverage)


def _first_index_by_time(samples: Sequence[Sample]) -> dict[float, int]:
    """The index of the sample the detector keeps for each time: the first finite one."""
    index: dict[float, int] = {}
    for i, s in enumerate(samples):
        if all(math.isfinite(v) for v in (s.t, s.lat, s.lon, s.speed, s.ax, s.ay, s.az)):
            index.setdefault(s.t, i)
    return index


def _roughness(samples: Sequence[Sample]) -> list[Stretch]:
    """The trip's roughness stretches, as the phone measures them (none for a trace the
    measure refuses)."""
    try:
        return roughness(samples)
    except ValueError:
        return []


def phone_params() -> dict[str, object]:
    """Every threshold and limit a phone needs, as JSON (what ``streetbump.js`` reads).

    The last IRI class has no upper bound: it is ``null`` (JSON has no infinity).
    """
    return {
        "detector": asdict(DetectorParams()),
        "roughness": asdict(RoughnessParams()),
        "trip_end_margin_m": TRIP_END_MARGIN_M,
        "track_step_m": TRACK_STEP_M,
        "max_samples": MAX_SAMPLES,
        "max_track_points": MAX_TRACK_POINTS,
        "max_iri_m_per_km": MAX_IRI_M_PER_KM,
        "iri_classes": [[None if math.isinf(b) else b, name] for b, name in CLASSES],
    }
