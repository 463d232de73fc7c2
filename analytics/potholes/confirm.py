"""Server-side confirmation of potholes from many phones' ``bump`` reports.

Each report is scored (peak, speed, sample rate, GPS accuracy, and the sharpness of its window:
a pothole is a jolt, a hump a slow heave), clustered by position *and* heading so that each
direction's centre stays sharp, then the clusters of one spot on one road merged whatever their
heading (:mod:`analytics.potholes.merge`), and a pothole is confirmed when enough distinct phones
agree, weighted by quality. Clusters on a known asset (speed hump, manhole, level crossing) are
dropped. Positions are projected to metres around the first report: exact enough over a town.
"""

import cmath
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from analytics.geo.geometry import LocalProjection
from analytics.potholes.detector import SEVERE_G
from analytics.potholes.merge import RoadLookup, merge_clusters
from analytics.potholes.quality import report_quality, sharpness
from ingest.contract.payloads import BumpReport
from ingest.db.pseudonyms import distinct_phones
from ingest.kernel.params import require, require_in

AssetKind = Literal["speed_hump", "manhole", "level_crossing"]
ASSET_KINDS: tuple[AssetKind, ...] = get_args(AssetKind)

__all__ = ["report_quality", "sharpness"]  # re-exported: scored in analytics.potholes.quality


@dataclass(frozen=True)
class ConfirmParams:
    """Parameters of scoring, clustering and confirmation.

    Parameters
    ----------
    radius_m
        Largest distance (m) from a cluster's centroid at which a report joins it.
    heading_tol_deg
        Largest heading difference (degrees) within a cluster: a two-way street has two.
    merge_m
        Largest distance (m) between the centres of clusters of any heading that are one
        pothole (on one road, where roads are known); 0 keeps every cluster apart.
    min_devices
        Distinct phones needed to confirm a pothole.
    min_evidence
        Smallest sum over distinct phones of each phone's best report quality to confirm.
    asset_margin_m
        Added to an asset's radius when suppressing clusters near it.
    severe_g
        Peak (g) at which a report's severity reaches 1.
    """

    radius_m: float = 11.0
    heading_tol_deg: float = 45.0
    merge_m: float = 9.0
    min_devices: int = 3
    min_evidence: float = 0.8
    asset_margin_m: float = 2.0
    severe_g: float = SEVERE_G

    def __post_init__(self) -> None:
        require_in("radius_m", self.radius_m, 0, 100, lo_open=True)
        require_in("heading_tol_deg", self.heading_tol_deg, 0, 180, lo_open=True)
        require_in("merge_m", self.merge_m, 0, 100)
        require_in("min_devices", self.min_devices, 1, 1000)
        require_in("min_evidence", self.min_evidence, 0, 1000)
        require_in("asset_margin_m", self.asset_margin_m, 0, 100)
        require_in("severe_g", self.severe_g, 0, 32, lo_open=True)


@dataclass(frozen=True)
class Asset:
    """A known road feature that jolts vehicles and is not a defect, from the council's layer."""

    kind: AssetKind
    lat: float
    lon: float
    radius_m: float = 8.0

    def __post_init__(self) -> None:
        require(self.kind in ASSET_KINDS, f"Expected kind in {ASSET_KINDS}.")
        wgs84 = -90 <= self.lat <= 90 and -180 <= self.lon <= 180
        require(wgs84, "Expected lat, lon in WGS 84 range.")
        require_in("radius_m", self.radius_m, 0, 500, lo_open=True)


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """A ``bump`` report with the pseudonymous device id of the topic it came on, and its
    :func:`report_quality` when already scored (see
    :func:`analytics.potholes.batch.with_quality`)."""

    device_id: str
    report: BumpReport
    quality: float | None = None

    @property
    def weight(self) -> float:
        """The report's quality, at least 1e-3: its weight in a cluster's centre."""
        q = report_quality(self.report) if self.quality is None else self.quality
        return max(q, 1e-3)


@dataclass(frozen=True)
class Pothole:
    """A cluster of reports: a pothole candidate or a confirmed pothole.

    ``lat``/``lon`` is the quality-weighted centroid, ``heading_deg`` the direction of travel of
    its reports (None when none had one, or they came from opposite directions), ``severity``
    the quality-weighted mean severity in [0, 1], ``confidence`` in [0, 1] grows with the
    distinct phones' summed quality.
    """

    lat: float
    lon: float
    heading_deg: float | None
    severity: float
    confidence: float
    reports: int
    devices: int
    first_seen: datetime
    last_seen: datetime
    state: Literal["candidate", "confirmed"]


_AROUND = tuple((dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1))


@dataclass
class _Cluster:
    members: list[int]
    pos: complex  # x + iy in metres
    weight: float
    direction: complex  # quality-weighted sum of unit headings; 0 when none had one


def cluster_reports(
    reports: Sequence[DeviceReport], params: ConfirmParams = ConfirmParams()
) -> list[list[int]]:
    """Group reports of the same spot and direction of travel.

    Parameters
    ----------
    reports
        The reports, in any order; they are taken in time order.
    params
        ``radius_m`` and ``heading_tol_deg`` decide membership.

    Returns
    -------
    list[list[int]]
        Indices into ``reports``, one list per cluster. Each report joins the nearest cluster
        within reach whose heading agrees; one without a heading agrees with any.
    """
    if not reports:
        return []
    projection = LocalProjection(reports[0].report.lat)
    xy = [projection.complex(d.report.lat, d.report.lon) for d in reports]
    order = sorted(range(len(reports)), key=lambda i: (reports[i].report.ts, reports[i].device_id))
    clusters: list[_Cluster] = []
    # Clusters by the grid cell of their centre (cells of radius_m, so any cluster within
    # reach of a report is in one of the nine cells around it); a centre that moves moves cell.
    cell = params.radius_m
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    tol = math.radians(params.heading_tol_deg)
    for i in order:
        r, pos = reports[i].report, xy[i]
        w, direction = reports[i].weight, _unit(r.heading_deg)
        gx, gy = int(pos.real // cell), int(pos.imag // cell)
        near = (
            range(len(clusters))
            if len(clusters) <= 9  # as quick to read them all as to look in nine cells
            else [k for dx, dy in _AROUND for k in grid.get((gx + dx, gy + dy), ())]
        )
        reach = [
            (d, k)
            for k in near
            if (d := abs(clusters[k].pos - pos)) <= params.radius_m
            and _agree(clusters[k].direction, direction, tol)
        ]
        if not reach:
            grid[(gx, gy)].append(len(clusters))
            clusters.append(_Cluster([i], pos, w, w * direction))
            continue
        _, k = min(reach)  # the nearest; of equally near ones, the oldest
        best = clusters[k]
        was = (int(best.pos.real // cell), int(best.pos.imag // cell))
        best.pos = (best.pos * best.weight + pos * w) / (best.weight + w)
        best.weight += w
        best.direction += w * direction
        best.members.append(i)
        now = (int(best.pos.real // cell), int(best.pos.imag // cell))
        if now != was:
            grid[was].remove(k)
            grid[now].append(k)
    return [c.members for c in clusters]


def group_reports(
    reports: Sequence[DeviceReport],
    params: ConfirmParams = ConfirmParams(),
    roads: RoadLookup | None = None,
) -> list[list[int]]:
    """Indices into ``reports``, one list per pothole: the clusters of :func:`cluster_reports`,
    those of one spot (within ``params.merge_m``, on one of ``roads`` where known) merged
    whatever their heading by :func:`~analytics.potholes.merge.merge_clusters`."""
    clusters = cluster_reports(reports, params)
    points = [(d.report.lat, d.report.lon) for d in reports]
    weights = [d.weight for d in reports]
    return merge_clusters(clusters, points, weights, params.merge_m, roads)


def confirm(
    reports: Sequence[DeviceReport],
    assets: Iterable[Asset] = (),
    params: ConfirmParams = ConfirmParams(),
    roads: RoadLookup | None = None,
) -> list[Pothole]:
    """Potholes (candidates and confirmed) from reports, minus those on known assets.

    Parameters
    ----------
    reports
        ``bump`` reports with their device ids.
    assets
        The council's layer of speed humps, manholes and level crossings.
    params
        Clustering and confirmation parameters.
    roads
        The council's road segments, so that only clusters on one road merge (None: any).

    Returns
    -------
    list[Pothole]
        One per group of :func:`group_reports` whose centroid is not on an asset, in order of
        first report.
    """
    if not reports:
        return []
    projection = LocalProjection(reports[0].report.lat)
    assets = list(assets)
    asset_xy = [projection.complex(a.lat, a.lon) for a in assets]
    out = []
    for members in group_reports(reports, params, roads):
        p = _summarise([reports[i] for i in members], params)
        pos = projection.complex(p.lat, p.lon)
        reach = (a.radius_m + params.asset_margin_m for a in assets)
        if not any(abs(q - pos) <= r for q, r in zip(asset_xy, reach, strict=True)):
            out.append(p)
    return sorted(out, key=lambda p: p.first_seen)


def _summarise(members: Sequence[DeviceReport], params: ConfirmParams) -> Pothole:
    rs = [m.report for m in members]
    q = [m.weight for m in members]
    total, pairs = sum(q), list(zip(rs, q, strict=True))
    best: dict[str, float] = {}
    for m, w in zip(members, q, strict=True):
        best[m.device_id] = max(best.get(m.device_id, 0.0), w)
    evidence = sum(best.values())  # a phone's repeat passes add no evidence beyond its best
    phones = distinct_phones(best)
    confirmed = phones >= params.min_devices and evidence >= params.min_evidence
    direction = sum(w * _unit(r.heading_deg) for r, w in pairs)
    # Seen from opposite directions (a merged pothole), no heading is the pothole's own.
    tol = math.radians(90.0)
    both_ways = any(not _agree(direction, _unit(r.heading_deg), tol) for r in rs)
    return Pothole(
        lat=sum(r.lat * w for r, w in pairs) / total,
        lon=sum(r.lon * w for r, w in pairs) / total,
        heading_deg=None
        if direction == 0 or both_ways
        else math.degrees(cmath.phase(direction)) % 360.0,
        severity=sum(min(1.0, r.peak_z_g / params.severe_g) * w for r, w in pairs) / total,
        confidence=1.0 - math.exp(-evidence),
        reports=len(rs),
        devices=phones,
        first_seen=min(r.ts for r in rs),
        last_seen=max(r.ts for r in rs),
        state="confirmed" if confirmed else "candidate",
    )


def devices_since(reports: Iterable[DeviceReport], since: datetime) -> int:
    """Distinct devices among ``reports`` made after ``since`` (see :func:`distinct_phones`)."""
    return distinct_phones(d.device_id for d in reports if d.report.ts > since)


def _agree(a: complex, b: complex, tol_rad: float) -> bool:
    """Headings (as weighted unit vectors) within ``tol_rad``, or either unknown."""
    return a == 0 or b == 0 or abs(cmath.phase(a / b)) <= tol_rad


def _unit(heading_deg: float | None) -> complex:
    return 0j if heading_deg is None else cmath.rect(1.0, math.radians(heading_deg))
