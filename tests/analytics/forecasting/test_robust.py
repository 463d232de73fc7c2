"""Counters as real networks have them: one breaks, one shifts level, one is moved. Forecasts
follow the new level or say "unknown", and the other counters' forecasts do not suffer."""

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from analytics.forecasting.calendar import Calendar
from analytics.forecasting.grid import build_grid, clean_history
from analytics.forecasting.model import forecast_series
from analytics.forecasting.shifts import DEADBAND, broken_reason, level_shift
from tests.analytics.forecasting.test_forecast import FAST, _history

TZ = "Europe/London"
END = datetime(2025, 6, 29, 23)  # the last local hour of the history; truth runs a day on
CHANGE = timedelta(days=10)  # the shift and the move happen this long before the origin


def _network() -> tuple[pl.DataFrame, datetime]:
    """Six counters, 16 weeks and a day of counts, and the origin (a day before the end)."""
    history = _history(TZ, END, 16, series=6, noise=0.2)
    last = history["ts"].max()
    assert isinstance(last, datetime)
    return history, last - timedelta(hours=23)


def _corrupt(history: pl.DataFrame, origin: datetime, broken: str) -> pl.DataFrame:
    """s0 breaks three weeks before the origin (``broken``: zeros or a trickle of 0-2 an hour),
    s1 counts 40% of before from ten days before it on, s2 is moved to a place twice as busy
    whose day peaks in the evening (its counts become s5's, shifted by five hours, halved)."""
    ts, name = pl.col("ts"), pl.col("series")
    after_break = ts >= origin - timedelta(weeks=3)
    after_change = ts >= origin - CHANGE
    trickle = (pl.int_range(pl.len()) % 3).cast(pl.Float64)
    evening = history.filter(name == "s5").select(
        ts.dt.offset_by("5h"), (pl.col("count") * 1.0).alias("moved")
    )  # s5 is three times s2's level: half of it is 1.5x, a place half as busy again
    out = history.join(evening, on="ts", how="left").with_columns(
        pl.when((name == "s0") & after_break)
        .then(0.0 if broken == "zeros" else trickle)
        .when((name == "s1") & after_change)
        .then((pl.col("count") * 0.4).round())
        .when((name == "s2") & after_change & pl.col("moved").is_not_null())
        .then(pl.col("moved"))
        .otherwise(pl.col("count"))
        .alias("count")
    )
    return out.drop("moved")


def _mae(forecast: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    joined = forecast.join(truth, on=["series", "ts"])
    errors = joined.group_by("series").agg((pl.col("forecast") - pl.col("count")).abs().mean())
    return dict(errors.iter_rows())


def _naive_mae(history: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """The seasonal naive's error: each hour forecast by the count a week earlier."""
    week_ago = history.select("series", pl.col("ts").dt.offset_by("1w"), pl.col("count").alias("f"))
    joined = truth.join(week_ago, on=["series", "ts"])
    errors = joined.group_by("series").agg((pl.col("f") - pl.col("count")).abs().mean())
    return dict(errors.iter_rows())


@pytest.mark.parametrize("broken", ["zeros", "trickle"])
def test_broken_shifted_and_moved_counters(broken: str) -> None:
    """The broken counter reads "unknown" (no published forecast); the shifted one is forecast
    at its new level within 25%; the moved one no worse than twice the seasonal naive; the
    three sound counters' errors change by under 10% against forecasts from a clean network."""
    clean, origin = _network()
    history = _corrupt(clean, origin, broken)
    known, truth = history.filter(pl.col("ts") < origin), history.filter(pl.col("ts") >= origin)
    cal = Calendar(TZ)
    published = forecast_series(known, 24, calendar=cal, params=FAST)
    assert "s0" not in set(published["series"])
    assert {"s1", "s2", "s3", "s4", "s5"} <= set(published["series"])
    everything = forecast_series(known, 24, calendar=cal, params=FAST, include_unknown=True)
    s0 = everything.filter(pl.col("series") == "s0")
    assert s0.height == 24  # still forecast, for scoring, when asked
    if broken == "trickle":  # the new level is followed, not the old one
        assert s0.select(pl.col("forecast").mean()).item() < 10
    shifted = everything.join(truth, on=["series", "ts"]).filter(pl.col("series") == "s1")
    ratio = shifted.select(pl.col("forecast").sum() / pl.col("count").sum()).item()
    assert 0.75 < ratio < 1.25, ratio
    mae = _mae(everything, truth)
    naive = _naive_mae(known, truth)
    assert mae["s2"] < 2 * naive["s2"], (mae["s2"], naive["s2"])
    before = _mae(
        forecast_series(clean.filter(pl.col("ts") < origin), 24, calendar=cal, params=FAST),
        clean.filter(pl.col("ts") >= origin),
    )
    for name in ("s3", "s4"):  # s5 lent its counts to s2, but is itself sound
        assert abs(mae[name] / before[name] - 1) < 0.10, (name, mae[name], before[name])
    assert abs(mae["s5"] / before["s5"] - 1) < 0.10


def test_shift_needs_a_lasting_departure_in_one_direction() -> None:
    """No shift for a departure inside the dead band, or a day against the last three, or
    opposite directions; a lasting one moves the base by its part beyond the band."""
    w24 = np.array([0.2, -2.0, -2.0, 1.5, np.nan])
    w72 = np.array([0.3, -0.3, -2.5, -1.5, -2.0])
    got = level_shift(w24, w72)
    assert got[:2].tolist() == [0.0, 0.0]
    assert got[2] == pytest.approx(-(2.0 - DEADBAND))
    assert got[3] == 0.0 and got[4] == 0.0


def test_broken_means_silent_or_a_trickle() -> None:
    """Unknown when fewer than 8 of 24 hours counted or under 5% of a usual day; else sound."""
    assert "7 of the last 24" in str(broken_reason(7, 5000.0, 5000.0))
    assert "2%" in str(broken_reason(24, 100.0, 5000.0))
    assert broken_reason(24, 1500.0, 5000.0) is None
    assert broken_reason(24, 0.0, None) is None  # nothing to compare with: not our call


def test_stuck_values_and_spikes_are_faults() -> None:
    """Six hours of one count of 5 or more, or a day of any one count, or an hour of over ten
    times the highest of the weeks before are made missing; a lasting jump keeps all but its
    first hour, and ordinary varying counts are kept."""
    history = _history(TZ, END, 6, series=1, noise=0.2)
    n = history.height
    count = history["count"].to_list()
    count[100:106] = [37.0] * 6  # stuck
    count[300:324] = [1.0] * 24  # stuck on a small value for a day
    count[500] = 50 * max(count[:500])  # a glitch
    count[800:] = [c * 30 for c in count[800:]]  # a lasting jump to a much busier place
    grid = build_grid(clean_history(history.with_columns(pl.Series("count", count))), Calendar(TZ))
    y = grid["y"].to_list()
    assert all(v is None for v in y[100:106] + y[300:324]) and y[500] is None
    missing = {i for i, v in enumerate(y) if v is None}
    assert missing & set(range(800, n)) <= {800}  # at most the jump's first hour
    assert not missing - {*range(100, 106), *range(300, 324), 500, 800}
