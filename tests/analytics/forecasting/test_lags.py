"""Lags looked up by position equal the self-join by wall-clock hour they replace."""

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from analytics.forecasting.calendars import victoria
from analytics.forecasting.grid import LAG_WEEKS, WEEK_HOURS, build_grid, clean_history


@pytest.mark.parametrize("start", [datetime(2014, 3, 1, tzinfo=UTC), datetime(2014, 9, 1)])
def test_lags_equal_the_join_across_daylight_saving(start: datetime) -> None:
    """Across both changes of Melbourne's clocks, with gaps and missing counts, every lag is the
    count of the first row of that wall-clock hour of the same series."""
    start = start.replace(tzinfo=UTC)
    rng = np.random.default_rng(1)
    hours = 24 * 7 * 14
    frames = []
    for name in ("a", "b"):
        ts = [start + timedelta(hours=h) for h in range(hours) if rng.random() > 0.05]
        count = rng.integers(0, 500, len(ts)).astype(float)
        count[rng.random(len(ts)) < 0.03] = np.nan
        frames.append(pl.DataFrame({"series": name, "ts": ts, "count": count}))
    grid = build_grid(clean_history(pl.concat(frames)), victoria())
    by_wall = grid.select("series", "wall", "y").unique(["series", "wall"], keep="first")
    for k in range(1, LAG_WEEKS + 1):
        want = grid.with_columns((pl.col("wall") - WEEK_HOURS * k).alias("_key")).join(
            by_wall.rename({"wall": "_key", "y": "want"}),
            on=["series", "_key"],
            how="left",
            maintain_order="left",
        )
        assert want["want"].equals(grid[f"y{k}"].alias("want"))
    assert grid["y4"].is_not_null().sum() > 0
