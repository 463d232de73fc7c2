"""Confirming a whole council's reports at once, as the refresh does: each report scored
once (the windows of all of them together), and each group confirmed on its own."""

from collections.abc import Iterable, Sequence

from analytics.potholes.confirm import (
    Asset,
    ConfirmParams,
    DeviceReport,
    Pothole,
    confirm,
    group_reports,
)
from analytics.potholes.merge import RoadLookup
from analytics.potholes.quality import report_quality, window_shapes
from ingest.contract.payloads import BumpReport


def with_quality(reports: Sequence[DeviceReport], keep_samples: bool = True) -> list[DeviceReport]:
    """``reports``, each with its quality scored (the windows of all at once); without
    ``keep_samples``, a report's window of samples is dropped once scored (they are most of a
    report's memory, and nothing after scoring reads them)."""
    todo = [d.report for d in reports if d.quality is None]
    shapes = iter(window_shapes(todo))
    out = []
    for d in reports:
        if d.quality is not None:
            out.append(d)
            continue
        q = report_quality(d.report, next(shapes))
        out.append(DeviceReport(d.device_id, d.report if keep_samples else _light(d.report), q))
    return out


_ALL_SET = set(BumpReport.model_fields)
"""The fields set of every report :func:`_light` makes, one set for all (pydantic only reads
it): a set of its own would be half of a light report's memory."""


def _light(report: BumpReport) -> BumpReport:
    """``report`` without its window of samples."""
    values = dict(report.__dict__, samples_z_g=None)
    return BumpReport.model_construct(_fields_set=_ALL_SET, **values)


def confirm_all(
    reports: Sequence[DeviceReport],
    assets: Iterable[Asset] = (),
    params: ConfirmParams | None = None,
    roads: RoadLookup | None = None,
) -> list[tuple[list[DeviceReport], Pothole]]:
    """Each pothole of :func:`group_reports` off the assets, with its reports, as a refresh
    stores them: a group is confirmed on its own (its members form that one group again), so
    its centre does not depend on where the other reports lie."""
    assets = list(assets)
    params = params or ConfirmParams()
    reports = with_quality(reports)
    found = []
    for members in group_reports(reports, params, roads):
        group = [reports[i] for i in members]
        potholes = confirm(group, assets, params, roads)
        if potholes:
            found.append((group, potholes[0]))
    return found
