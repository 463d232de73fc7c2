"""GeoJSON features of the highways endpoints, from rows, without a database."""

from datetime import UTC, datetime

import h3
import pytest

from analytics.potholes.heatmap import HeatCell
from api.features import cell_features, coverage_features


def _segment(passes: int, phones: int) -> dict[str, object]:
    return {
        "segment_id": "main",
        "name": "High Street",
        "road_class": "residential",
        "lats": [52.67, 52.6701234567],
        "lons": [-0.72, -0.7171234567],
        "length_m": 199.84,
        "passes": passes,
        "phones": phones,
        "last_pass": datetime(2026, 11, 23, 8, tzinfo=UTC),
    }


def test_coverage_feature_withholds_rare_counts() -> None:
    """A segment is a lon-lat LineString; passes, phones and the last pass are withheld below
    three phones."""
    (rare,) = coverage_features([_segment(4, 2)])
    assert rare["geometry"]["coordinates"] == [[-0.72, 52.67], [-0.717123, 52.670123]]
    props = rare["properties"]
    assert props["level"] == "rare" and props["length_m"] == 199.8
    assert props["passes"] is props["phones"] is props["last_pass"] is None
    (low,) = coverage_features([_segment(4, 3)])
    assert (low["properties"]["passes"], low["properties"]["phones"]) == (4, 3)
    assert low["properties"]["last_pass"] == "2026-11-23T08:00:00+00:00"


def test_cell_feature_is_a_closed_lon_lat_polygon() -> None:
    """A cell is a closed ring in lon-lat order with its figures, roughness to 3 decimals."""
    cell = h3.latlng_to_cell(52.67, -0.72, 10)
    (feature,) = cell_features([HeatCell(cell, 4, 3, 1.23456, 1)])
    (ring,) = feature["geometry"]["coordinates"]
    assert ring[0] == ring[-1] and len(ring) >= 7
    assert all(lon == pytest.approx(-0.72, abs=0.002) for lon, _ in ring)
    assert feature["id"] == feature["properties"]["cell"] == cell
    props = feature["properties"]
    assert (props["reports"], props["phones"], props["roughness"], props["potholes"]) == (
        4,
        3,
        1.235,
        1,
    )
