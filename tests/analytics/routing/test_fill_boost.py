"""Boosted time-to-threshold forecasts for coarse bins: no look-ahead, readings' grid, the CLI's
path through `forecast_bins`."""

from datetime import timedelta

import numpy as np
import pytest

from analytics.routing.fill_boost import (
    BoostParams,
    fit_boosters,
    forecast_bins,
    on_readings,
    rolling_estimates,
)
from analytics.routing.fill_features import FEATURES, rows_for
from analytics.routing.fill_horizon import bin_series, forecast_full
from analytics.routing.fill_readings import FillReading
from tests.analytics.routing.test_fill_horizon import D0, stepwise


def _fleet(n: int = 8, days: int = 240) -> dict[str, list[FillReading]]:
    """Half the bins step every 1-2 days, half every 3-4."""
    return {f"b{k}": stepwise(days, k, (1, 2) if k % 2 else (3, 4)) for k in range(n)}


def test_params_are_validated() -> None:
    """Out-of-range settings raise ValueError naming the setting."""
    with pytest.raises(ValueError, match="quantiles"):
        BoostParams(quantiles=(0.6, 0.9))
    with pytest.raises(ValueError, match="analog_weight"):
        BoostParams(analog_weight=1.5)


def test_rows_carry_features_and_the_truth() -> None:
    """One row per reading below the threshold, each feature present, and the truth is the
    hours to the next reading at 80% or more."""
    readings = stepwise(60, 1, (2,))
    s = bin_series(readings, 25.0)
    rows = rows_for({"a": s}, {"a": 80.0})
    assert rows.x.shape == (int((s.y < 80).sum()), len(FEATURES))
    first_zero = int(np.flatnonzero(rows.x[:, FEATURES.index("level")] == 0)[0])
    assert rows.remaining[first_zero] == pytest.approx(8 * 24)  # four 20-point steps of 2 days
    assert rows.resolved[first_zero] == rows.t[first_zero] + 8 * 24


def test_a_backtest_never_learns_from_cycles_not_yet_over() -> None:
    """Rewriting every truth that became known after a refit leaves that period's forecasts
    unchanged: each period's boosters learn only from what was known when it began."""
    fleet = {b: bin_series(r, 25.0) for b, r in _fleet().items()}
    rows = rows_for(fleet, dict.fromkeys(fleet, 80.0))
    bp = BoostParams(min_cycles=50, refit_days=28.0, rounds=30)
    wanted = np.flatnonzero(np.isfinite(rows.remaining) & (rows.t >= rows.t.min() + 150 * 24))
    before = rolling_estimates(rows, wanted, bp)
    start = rows.t[wanted].min()
    later = rows.resolved > start
    assert later.any()
    rows.remaining[later] *= 3  # truths nobody knew at the first refit
    after = rolling_estimates(rows, wanted, bp)
    first = rows.t[wanted] < start + 28 * 24
    assert first.any() and np.array_equal(before[first], after[first])
    assert not np.array_equal(before[~first], after[~first])  # later refits do see them


def test_too_few_cycles_fall_back_to_the_analogs() -> None:
    """Below min_cycles there are no boosters and the estimates are the analogs'."""
    fleet = {b: bin_series(r, 25.0) for b, r in _fleet(2, 60).items()}
    rows = rows_for(fleet, dict.fromkeys(fleet, 80.0))
    assert fit_boosters(rows, np.inf, BoostParams(min_cycles=10_000)) is None
    wanted = np.flatnonzero(np.isfinite(rows.remaining))
    got = rolling_estimates(rows, wanted, BoostParams(min_cycles=10_000))
    assert np.array_equal(got, rows.analog[wanted])


def test_intervals_are_put_on_the_readings_grid() -> None:
    """The lower bound goes down to a reading, the upper up to one, the median to the nearest."""
    est = np.array([[30.0, 13.0, 50.0], [36.1, 24.0, 48.0]])
    assert on_readings(est, 24.0).tolist() == [[24.0, 0.0, 72.0], [48.0, 24.0, 48.0]]
    assert on_readings(est, 0.0) is est


def test_forecast_bins_tells_fast_bins_from_slow_ones_on_daily_readings() -> None:
    """Boosted forecasts fall on midnights (the daily readings' grid), bracket the truth, and
    a fast bin at 20% is due sooner than a slow one at 20%; dense bins are forecast as before."""
    fleet = _fleet()
    cut = {
        b: next(i for i in range(200, 240) if r[i].fill_pct == 20 and r[i - 1].fill_pct == 0)
        for b, r in fleet.items()
    }
    known = {b: r[: cut[b] + 1] for b, r in fleet.items()}
    dense = [FillReading(D0 + timedelta(minutes=30 * h), 5 + 0.4 * h) for h in range(100)]
    known["dense"] = dense
    out = {f.bin_id: f for f in forecast_bins(known, 80.0, horizon_days=30, boost=BoostParams())}
    assert list(out) == sorted(known)
    assert out["dense"] == forecast_full("dense", dense, horizon_days=30)
    hit = 0
    for b, r in fleet.items():
        f = out[b]
        assert f.full_at is not None and f.full_lo is not None and f.full_hi is not None
        assert {f.full_at.hour, f.full_lo.hour, f.full_hi.hour} == {0}
        truth = next(x.ts for x in r[cut[b] :] if x.fill_pct >= 80)
        hit += f.full_lo <= truth <= f.full_hi
    assert hit >= 6  # of 8, for an 80% interval
    left = {b: out[b].full_at - out[b].last_reading for b in fleet}  # type: ignore[operator]
    fast = [left[b] for b in fleet if int(b[1:]) % 2]
    slow = [left[b] for b in fleet if not int(b[1:]) % 2]
    assert max(fast) < min(slow)
