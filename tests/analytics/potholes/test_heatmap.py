"""The heatmap's aggregation: H3 cells of bump reports, published only from three phones."""

from typing import Any

import h3
import pytest

from analytics.potholes.heatmap import (
    MIN_PHONES,
    WELL_COVERED,
    HeatCell,
    coverage_level,
    heat_cells,
)

LAT, LON = 52.6700, -0.7200
FAR = (52.7000, -0.7600)  # another cell at every resolution used here
RES = 10


def _report(phone: str, peak: float = 1.5, at: tuple[float, float] = (LAT, LON)) -> dict[str, Any]:
    return {"lat": at[0], "lon": at[1], "device_id": phone, "peak_z_g": peak}


def test_k_is_three() -> None:
    """The rule is k-anonymity with k = 3."""
    assert MIN_PHONES == 3


@pytest.mark.parametrize(("phones", "published"), [(1, False), (2, False), (3, True), (5, True)])
def test_a_cell_needs_three_distinct_phones(phones: int, published: bool) -> None:
    """Fewer than three phones keep a cell hidden, however many reports they send."""
    reports = [_report(f"phone-{n % phones}") for n in range(6)]
    cells = heat_cells(reports, [], RES)
    assert (len(cells) == 1) is published


def test_pseudonym_periods_never_count_one_phone_twice() -> None:
    """Two phones seen in two salt periods are still only two phones: the cell stays hidden."""
    reports = [_report(f"p{period}-{n:016x}") for period in (100, 101) for n in range(2)]
    assert heat_cells(reports, [], RES) == []


def test_published_cell_figures() -> None:
    """A published cell carries its reports, phones, mean jolt and the potholes inside it;
    potholes elsewhere and hidden cells are left out."""
    reports = [_report("a", 1.0), _report("b", 2.0), _report("c", 1.5), _report("a", 1.5)]
    reports += [_report("x", 3.0, FAR), _report("y", 3.0, FAR)]
    (cell,) = heat_cells(reports, [(LAT, LON), (LAT, LON), FAR], RES)
    assert cell == HeatCell(
        cell=h3.latlng_to_cell(LAT, LON, RES), reports=4, phones=3, roughness=1.5, potholes=2
    )


def test_cells_follow_the_resolution_and_are_sorted() -> None:
    """Cells are those of the resolution asked for, in cell-id order."""
    reports = [_report(p, at=at) for at in ((LAT, LON), FAR) for p in "abc"]
    cells = heat_cells(reports, [], 8)
    assert [c.cell for c in cells] == sorted(
        {h3.latlng_to_cell(LAT, LON, 8), h3.latlng_to_cell(*FAR, 8)}
    )
    assert all(c.phones == 3 and c.potholes == 0 for c in cells)


@pytest.mark.parametrize(
    ("passes", "phones", "level"),
    [
        (0, 0, "unseen"),
        (5, 2, "rare"),
        (40, 2, "rare"),
        (3, 3, "low"),
        (WELL_COVERED - 1, 3, "low"),
        (WELL_COVERED, 3, "covered"),
    ],
)
def test_coverage_level(passes: int, phones: int, level: str) -> None:
    """Unseen without passes, rare below three phones, then low until ``WELL_COVERED``."""
    assert coverage_level(passes, phones) == level
