"""The pothole heatmap: bump reports gathered into H3 hexagons, published k-anonymously.

Each bump report is placed in the H3 cell holding it, at the resolution the caller chooses (a
map's zoom). A cell is published only when at least ``MIN_PHONES`` distinct phones reported in
it (k-anonymity: no cell reveals one or two phones' trips); phone ids never leave this module.
Road coverage follows the same rule: a segment driven by fewer phones is only ``rare``.
Phones are counted with :func:`ingest.db.pseudonyms.distinct_phones`, which never counts one
phone twice across pseudonym periods.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import h3

from ingest.db.pseudonyms import distinct_phones

MIN_PHONES = 3
"""Distinct phones a cell needs before it is published (k-anonymity, k = 3)."""
REPORT_DAYS = 90
"""Bump reports older than this are left off the heatmap."""


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One published hexagon."""

    cell: str
    """The H3 cell id."""
    reports: int
    phones: int
    """Distinct phones that reported in it (at least ``MIN_PHONES``)."""
    roughness: float
    """Mean peak vertical jolt of its reports, g."""
    potholes: int
    """Potholes still in the road inside it."""


def heat_cells(
    reports: Iterable[Mapping[str, Any]],
    potholes: Iterable[tuple[float, float]],
    resolution: int,
) -> list[HeatCell]:
    """The published H3 cells of bump reports, by cell id.

    Parameters
    ----------
    reports
        Bump reports with ``lat``, ``lon``, ``device_id`` (the phone's pseudonym) and
        ``peak_z_g``.
    potholes
        ``(lat, lon)`` of the potholes to count in each cell.
    resolution
        The H3 resolution of the cells.

    Returns
    -------
    list[HeatCell]
        The cells with reports from at least ``MIN_PHONES`` distinct phones; a cell with
        potholes but too few phones is left out too.
    """
    phones: dict[str, set[str]] = defaultdict(set)
    jolts: dict[str, list[float]] = defaultdict(list)
    for r in reports:
        cell = h3.latlng_to_cell(r["lat"], r["lon"], resolution)
        phones[cell].add(r["device_id"])
        jolts[cell].append(float(r["peak_z_g"]))
    holes: dict[str, int] = defaultdict(int)
    for lat, lon in potholes:
        holes[h3.latlng_to_cell(lat, lon, resolution)] += 1
    published = []
    for cell, devices in sorted(phones.items()):
        count = distinct_phones(devices)
        if count >= MIN_PHONES:
            cell_jolts = jolts[cell]
            roughness = sum(cell_jolts) / len(cell_jolts)
            published.append(HeatCell(cell, len(cell_jolts), count, roughness, holes[cell]))
    return published


WELL_COVERED = 10
"""Passes in 30 days from which a segment's lack of reports means a smooth road."""

Level = Literal["unseen", "rare", "low", "covered"]


def coverage_level(passes: int, phones: int) -> Level:
    """How well phones cover a road segment: ``unseen`` (no pass), ``rare`` (fewer than
    ``MIN_PHONES`` distinct phones; the count itself is withheld), ``low`` (under
    ``WELL_COVERED`` passes) or ``covered``."""
    if passes == 0:
        return "unseen"
    if phones < MIN_PHONES:
        return "rare"
    return "low" if passes < WELL_COVERED else "covered"
