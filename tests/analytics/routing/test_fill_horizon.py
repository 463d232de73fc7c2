"""Time to a fill threshold on any cadence: stepwise daily bins, dense bins, the backtest."""

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from analytics.routing.fill import fit_fill_model
from analytics.routing.fill_backtest import backtest
from analytics.routing.fill_horizon import HorizonParams, forecast_full
from analytics.routing.fill_readings import FillReading
from tests.conftest import shared_data

D0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
WYNDHAM = shared_data("waste/wyndham_compactor_bins_2018_2019.csv.gz")


def stepwise(days: int, seed: int, dwell: tuple[int, ...] = (1, 2)) -> list[FillReading]:
    """Daily readings of a compactor gauge in 20-point steps: each step lasts one of ``dwell``
    days at random; the bin is emptied the day after it reads 80% or more."""
    rng = random.Random(seed)
    out, level, left = [], 0, rng.choice(dwell)
    for day in range(days):
        out.append(FillReading(D0 + timedelta(days=day), float(level)))
        if level >= 80:
            level, left = 0, rng.choice(dwell)
            continue
        left -= 1
        if left == 0:
            level, left = level + 20, rng.choice(dwell)
    return out


def test_params_are_validated() -> None:
    """Out-of-range parameters raise ValueError naming the parameter."""
    with pytest.raises(ValueError, match="other_weekday_weight"):
        HorizonParams(other_weekday_weight=2.0)
    with pytest.raises(ValueError, match="dwell_scale_days"):
        HorizonParams(dwell_scale_days=0.0)


@pytest.mark.parametrize("dwell", [(1,), (2,), (3,)])
def test_regular_daily_cycles_are_forecast_to_the_day(dwell: tuple[int, ...]) -> None:
    """A bin stepping up every ``dwell`` days reaches 80% when its past cycles say it will."""
    readings = stepwise(120, 1, dwell)
    cut = next(
        i for i in range(100, 120) if readings[i].fill_pct == 20 and (readings[i - 1].fill_pct == 0)
    )  # the first day of a 20% step
    f = forecast_full("b", readings[: cut + 1])
    truth = next(r.ts for r in readings[cut:] if r.fill_pct >= 80)
    assert f.full_at is not None and f.full_lo is not None and f.full_hi is not None
    assert abs((f.full_at - truth).total_seconds()) <= 86_400
    assert f.full_lo <= truth <= f.full_hi


def test_random_daily_cycles_beat_the_baselines_with_calibrated_intervals() -> None:
    """On bins with random step lengths the backtest's error is low and the 80% interval
    covers about 80% of held-out outcomes (somewhat more: in whole days, an interval from the
    10% to the 90% quantile of a few-valued outcome holds more than 80% of it)."""
    histories = {f"b{k}": stepwise(200, k, (1, 2, 3)) for k in range(6)}
    result = backtest(histories, 80.0)
    assert result.origins > 500
    assert result.mae_days["model"] <= min(result.mae_days["median_cycle"], 1.5)
    assert 0.7 <= result.coverage <= 0.95


def test_a_full_bin_is_full_now_and_a_far_one_is_beyond_the_horizon() -> None:
    """At the threshold all three times are the last reading; beyond the horizon, empty."""
    readings = stepwise(60, 3)
    full = next(i for i, r in enumerate(readings) if i > 30 and r.fill_pct >= 80)
    f = forecast_full("b", readings[: full + 1])
    assert f.full_at == f.full_lo == f.full_hi == readings[full].ts
    slow = [FillReading(D0 + timedelta(days=d), float(2 * (d // 10) * 10 % 80)) for d in range(200)]
    f = forecast_full("b", slow[:-5], horizon_days=1)
    assert f.full_at is None


def test_dense_smooth_readings_use_the_fill_model_unchanged() -> None:
    """Half-hourly readings are forecast by the hour-of-week FillModel exactly as before."""
    rng = random.Random(2)
    readings = [
        FillReading(D0 + timedelta(hours=h / 2), round(5 + 0.5 * h / 2 + rng.gauss(0, 1), 1))
        for h in range(200)
    ]
    f = forecast_full("b", readings, tz="Europe/London")
    model = fit_fill_model("b", readings, readings[-1].ts, tz="Europe/London")
    assert (f.full_at, f.full_lo, f.full_hi) == model.time_to(80.0, 14 * 24)
    assert f.full_at is not None
    hours = (f.full_at - readings[-1].ts).total_seconds() / 3600
    assert hours == pytest.approx((80 - (5 + 0.5 * 99.5)) / 0.5, rel=0.15)


def test_daily_emptyings_are_collections_of_the_fill_model() -> None:
    """One daily fall to 0 is a collection of `fit_fill_model` too (no 3 readings needed)."""
    readings = stepwise(40, 4)
    model = fit_fill_model("b", readings, readings[-1].ts)
    last_empty = max(
        r.ts for i, r in enumerate(readings) if i and r.fill_pct < readings[i - 1].fill_pct
    )
    assert model.last_collection_at == last_empty


@pytest.mark.skipif(WYNDHAM is None, reason="shared Wyndham data not on this machine")
def test_real_compactors_beat_the_better_baseline() -> None:
    """On Wyndham's 33 real compactors the model's error in days to 80% is at least 10% below
    the better baseline's (14% measured) and its 80% interval covers 70-90%."""
    assert WYNDHAM is not None
    frame = pl.read_csv(WYNDHAM, columns=["bin_id", "date", "fullness_0_10"])
    histories: dict[str, list[FillReading]] = {}
    for bin_id, day, level in frame.iter_rows():
        ts = datetime.fromisoformat(day).replace(tzinfo=UTC)
        histories.setdefault(str(bin_id), []).append(FillReading(ts, 10.0 * level))
    result = backtest(histories, 80.0)
    assert result.improvement_pct > 10
    assert 0.7 <= result.coverage <= 0.9
    assert np.isfinite(result.mae_days["model"])
