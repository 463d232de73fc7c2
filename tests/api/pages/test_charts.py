"""The residents' SVG chart of a zone's day, drawn without a server."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.pages.charts import BAND, HourPoint, _nice_top, chart_table, day_chart

LONDON = ZoneInfo("Europe/London")
MIDNIGHT = datetime(2026, 11, 23, tzinfo=LONDON)


def _hours(n: int = 48) -> list[HourPoint]:
    return [
        HourPoint(
            start=MIDNIGHT + timedelta(hours=h),
            actual=50.0 + h if h < 10 else None,
            forecast=60.0 + h,
            lo80=40.0 + h,
            hi80=80.0 + h,
            usual=55.0,
        )
        for h in range(n)
    ]


@pytest.mark.parametrize("value", [7, 37, 160, 375, 999, 1100, 1450, 2600, 14_000])
def test_chart_scale_is_round_and_tight(value: float) -> None:
    """The chart's top fits the data with little waste and its quarter lines are whole."""
    top = _nice_top(value)
    assert value <= top <= 1.5 * value + 4
    assert (top / 4) == int(top / 4) or top < 10


def test_chart_draws_band_lines_and_now() -> None:
    """A chart has the band, three lines, a 'now' mark and the busiest hour ahead in words."""
    svg = day_chart("High Street", _hours(), MIDNIGHT + timedelta(hours=9, minutes=30))
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert f'fill="{BAND}"' in svg
    for series in ("usual", "forecast", "actual"):
        assert f'<path class="{series}" d="M' in svg
    assert ">now</text>" in svg
    assert "Busiest hour ahead: about 107 people around 23:00 on Tuesday." in svg


def test_empty_chart_says_so() -> None:
    """A zone without figures gets a sentence, not an empty chart."""
    assert day_chart("Station", [], MIDNIGHT) == "<p>No figures for this zone yet.</p>"


def test_table_has_a_row_per_hour() -> None:
    """The figures behind the chart: one row per hour, the band written as a range."""
    table = chart_table(_hours(3))
    assert table.count('<th scope="row">') == 3
    assert "<td>40&ndash;80</td>" in table
