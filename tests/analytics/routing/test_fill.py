"""Per-bin fill forecasting: cleaning, collections, rates, forecasts and their calibration."""

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.routing.calibration import edinburgh_bin_rates, edinburgh_fill_rates
from analytics.routing.fill import (
    FillModel,
    FillParams,
    FillReading,
    council_prior,
    detect_collections,
    fit_fill_model,
)
from simulators.bins import BinSample, BinSensorParams, simulate_bin
from simulators.calendar import day_factors
from simulators.roadgen import TownParams, generate_town
from simulators.town import make_town_on
from tests.conftest import shared_data

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
EDINBURGH = shared_data("waste/edinburgh_enevo_collections_2016.csv.gz")


def _series(
    rate: float, hours: float, *, noise: float = 0.0, start: float = 5.0, seed: int = 1
) -> list[FillReading]:
    """Half-hourly readings of a bin filling at ``rate`` %/h, capped at 100 like a sensor."""
    rng = random.Random(seed)
    return [
        FillReading(
            T0 + timedelta(hours=h / 2),
            round(min(100.0, max(0.0, start + rate * h / 2 + rng.gauss(0, noise))), 1),
        )
        for h in range(int(hours * 2))
    ]


def _model(**changes: object) -> FillModel:
    """A fitted-looking model with flat rates, for forecasting tests."""
    fields: dict[str, object] = {
        "device_id": "b",
        "rate_how": (1.0,) * 168,
        "level_pct": 20.0,
        "as_of": T0,
        "last_reading_at": T0,
        "last_collection_at": None,
        "stuck": False,
        "stale": False,
        "flags": (),
        "spread": (0.5, 2.0),
        "history_h": 500.0,
        "tz": "Europe/London",
    }
    fields.update(changes)
    return FillModel(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stuck_after_h": 0.0}, "stuck_after_h"),
        ({"stale_after_h": -1.0}, "stale_after_h"),
        ({"collection_drop_pct": 120.0}, "collection_drop_pct"),
        ({"min_history_h": -1.0}, "min_history_h"),
        ({"shrink_weight": 0.0}, "shrink_weight"),
        ({"quantiles": (0.9, 0.1)}, "quantiles"),
    ],
)
def test_params_are_validated(changes: dict[str, object], message: str) -> None:
    """Out-of-range parameters raise ValueError naming the parameter."""
    with pytest.raises(ValueError, match=message):
        FillParams(**changes)  # type: ignore[arg-type]


def test_naive_timestamps_are_refused() -> None:
    """A reading or a fit time without a time zone is refused, not guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        FillReading(datetime(2026, 9, 7, 12), 10.0)
    with pytest.raises(ValueError, match="timezone-aware"):
        fit_fill_model("b", _series(1.0, 10), datetime(2026, 9, 8))


@pytest.mark.parametrize("noise", [0.0, 1.5, 3.0])
def test_noise_does_not_bias_the_rate(noise: float) -> None:
    """Noisy readings of a steady 1 %/h give 1 %/h on average and a level near the truth."""
    rates, level_errors = [], []
    for seed in range(30):
        readings = _series(1.0, 80, noise=noise, seed=seed)
        model = fit_fill_model("b", readings, readings[-1].ts)
        rates.append(np.mean(model.rate_how))
        level_errors.append(abs(model.level_pct - (5 + 79.5)))
    assert np.mean(rates) == pytest.approx(1.0, rel=0.03)
    assert np.median(level_errors) <= 0.1 + 0.6 * noise


def test_full_bin_does_not_drag_the_rate_down() -> None:
    """Days at 100% (a full bin stops rising) leave the 2 %/h rate as it was."""
    readings = _series(2.0, 24 * 6, noise=1.5)
    model = fit_fill_model("b", readings, readings[-1].ts)
    assert np.mean(model.rate_how) == pytest.approx(2.0, rel=0.08)


def _with_collection(at: float, drop: float, readings: list[FillReading]) -> list[FillReading]:
    """The readings with ``drop`` points taken out from ``at`` hours after the start."""
    cut = T0 + timedelta(hours=at)
    return [FillReading(r.ts, round(r.fill_pct - drop, 1)) if r.ts >= cut else r for r in readings]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({}, []),
        ({30: 0.0}, []),  # one spurious low reading
        ({30: 0.0, 31: 1.0}, []),  # two of them
        ({30: 100.0}, []),  # a spike up
    ],
)
def test_single_noisy_readings_are_not_collections(
    edit: dict[int, float], expected: list[datetime]
) -> None:
    """Only a sustained drop is a collection, never one or two odd readings."""
    readings = _series(1.0, 48, noise=1.5, start=40)
    readings = [FillReading(r.ts, edit.get(i, r.fill_pct)) for i, r in enumerate(readings)]
    assert detect_collections(readings) == expected


def test_a_sustained_drop_is_one_collection_at_its_first_low_reading() -> None:
    """Emptying shows as one collection, at the first reading after the drop."""
    readings = _with_collection(20, 58, _series(1.0, 48, noise=1.5, start=40))  # 60% -> 2%
    assert detect_collections(readings) == [T0 + timedelta(hours=20)]
    model = fit_fill_model("b", readings, readings[-1].ts)
    assert model.last_collection_at == T0 + timedelta(hours=20)
    # Counting the 48-point drop as fill would bring the mean rate to about 0.
    assert np.mean(model.rate_how) == pytest.approx(1.0, rel=0.3)
    assert model.level_pct == pytest.approx(2 + 27.5, abs=3)


@pytest.mark.parametrize("logged", [-0.75, -0.25, 0.5, 2.0])
def test_crew_record_near_a_drop_is_that_drop(logged: float) -> None:
    """A crew record logged near a drop is that collection; the drop never counts as fill."""
    readings = _with_collection(20, 58, _series(1.0, 48, noise=1.5, start=40))
    crew = T0 + timedelta(hours=20 + logged)
    model = fit_fill_model("b", readings, readings[-1].ts, collections=[crew])
    assert model.last_collection_at == T0 + timedelta(hours=20)
    assert np.mean(model.rate_how) == pytest.approx(1.0, rel=0.3)
    assert model.level_pct == pytest.approx(2 + 27.5, abs=3)


def test_stuck_sensor_is_dead_reckoned() -> None:
    """A day of frozen readings is flagged stuck and the last genuine level carried forward."""
    readings = _series(1.0, 72, noise=1.5)
    frozen_at = len(readings) - 48
    value = readings[frozen_at].fill_pct
    readings = readings[:frozen_at] + [FillReading(r.ts, value) for r in readings[frozen_at:]]
    now = readings[-1].ts
    model = fit_fill_model("b", readings, now)
    assert model.stuck and model.stale
    assert model.as_of == readings[frozen_at].ts and model.last_reading_at == now
    assert model.predict(now).median_pct == pytest.approx(5 + 71.5, abs=2.5)
    fresh = fit_fill_model("b", readings[: frozen_at + 4], readings[frozen_at + 3].ts)
    assert not fresh.stuck and not fresh.stale  # two hours of one value is not yet stuck


def test_crew_collection_after_the_last_reading_resets_the_level() -> None:
    """A crew-confirmed emptying after the sensor went quiet restarts the fill from 0 then."""
    readings = _series(1.0, 48, noise=1.5, start=50)
    emptied = readings[-1].ts + timedelta(hours=3)
    now = emptied + timedelta(hours=10)
    model = fit_fill_model("b", readings, now, collections=[emptied])
    assert model.as_of == emptied and model.last_collection_at == emptied
    assert model.level_pct == 0.0 and model.stale
    assert model.predict(now).median_pct == pytest.approx(10, abs=1.5)


def test_readings_after_now_are_ignored() -> None:
    """A model fitted at ``now`` only sees readings up to then."""
    readings = _series(1.0, 48)
    now = readings[20].ts
    model = fit_fill_model("b", readings, now)
    assert model.as_of == now and model.last_reading_at == now
    assert model.level_pct == pytest.approx(15, abs=0.01)


def test_no_readings_without_prior_predicts_nothing_new() -> None:
    """A bin that never reported is stale with zero rates and level 0 at ``now``."""
    model = fit_fill_model("b", [], T0)
    assert model.stale and not model.stuck and model.last_reading_at is None
    assert model.predict(T0 + timedelta(days=1)).median_pct == 0.0


def test_prior_carries_a_bin_with_only_a_stuck_sensor() -> None:
    """With every reading frozen, the rates come from the prior."""
    readings = [FillReading(T0 + timedelta(hours=h / 2), 30.0) for h in range(48)]
    prior = tuple(0.5 + (h % 24 == 12) for h in range(168))
    model = fit_fill_model("b", readings, readings[-1].ts, prior=prior)
    assert model.stuck and model.history_h == 0.0
    assert model.rate_how == pytest.approx(prior)
    day = model.predict(model.as_of + timedelta(days=1))
    assert day.median_pct == pytest.approx(30 + 13, abs=0.01)


@pytest.mark.parametrize(("level", "overflowing"), [(20.0, False), (95.0, True)])
def test_forecast_is_not_capped_and_quantiles_bracket_it(level: float, overflowing: bool) -> None:
    """Forecasts above 100 mean overflowing and are kept; lo <= median <= hi."""
    f = _model(level_pct=level).predict(T0 + timedelta(hours=24))
    assert f.median_pct == pytest.approx(level + 24)
    assert f.lo_pct == pytest.approx(level + 12) and f.hi_pct == pytest.approx(level + 48)
    assert (f.median_pct > 100) is overflowing


def test_time_to_threshold() -> None:
    """Median, earliest (upper spread) and latest (lower spread) times to a threshold."""
    model = _model()
    median, earliest, latest = model.time_to(70)
    assert median == T0 + timedelta(hours=50)
    assert earliest == T0 + timedelta(hours=25) and latest == T0 + timedelta(hours=100)
    assert model.time_to(10) == (T0, T0, T0)  # already above
    assert model.time_to(70, horizon_h=60) == (median, earliest, None)


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("Europe/London", datetime(2027, 3, 27, 20, 10, tzinfo=UTC)),
        ("Europe/London", datetime(2026, 10, 24, 20, 10, tzinfo=UTC)),
        ("Australia/Adelaide", datetime(2026, 4, 4, 10, 7, tzinfo=UTC)),  # +10:30 to +9:30
    ],
)
def test_forecast_across_dst_steps_in_utc(tz: str, start: datetime) -> None:
    """Across a clock change, forecasts equal minute steps in UTC at each local hour's rate."""
    rates = tuple(random.Random(4).uniform(0, 3) for _ in range(168))
    model = _model(rate_how=rates, as_of=start, tz=tz, level_pct=0.0)
    zone, total, at = ZoneInfo(tz), 0.0, start
    for _ in range(36 * 60):
        local = at.astimezone(zone)
        total += rates[local.weekday() * 24 + local.hour] / 60
        at += timedelta(minutes=1)
    assert model.predict(at).median_pct == pytest.approx(total, rel=1e-9)
    threshold = total * 0.6
    median = model.time_to(threshold, horizon_h=36)[0]
    assert median is not None
    assert model.predict(median).median_pct == pytest.approx(threshold, rel=1e-6)


@pytest.mark.parametrize("first_day", [date(2027, 3, 22), date(2026, 10, 19)])
def test_rates_are_by_local_hour_through_a_dst_week(first_day: date) -> None:
    """A bin filling at local noon through a clock change gets its rate at local hour 12."""
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=LONDON)
    readings, fill = [], 0.0
    at = start.astimezone(UTC)
    while at < start.astimezone(UTC) + timedelta(days=7):
        local = at.astimezone(LONDON)
        readings.append(FillReading(at, round(fill, 1)))
        fill += 3.0 if local.hour == 12 else 0.1  # 6 %/h at local hour 12, else 0.2
        at += timedelta(minutes=30)
    model = fit_fill_model("b", readings, readings[-1].ts)
    by_day = np.array(model.rate_how).reshape(7, 24)
    assert list(by_day.argmax(axis=1)) == [12] * 7
    assert by_day[:, 12].min() > 5 * by_day[:, [h for h in range(24) if h != 12]].max()


def test_council_prior_is_the_median_of_bins_with_history() -> None:
    """The prior is the hour-by-hour median of bins with enough history; none is an error."""
    models = [_model(rate_how=(r,) * 168, history_h=h) for r, h in [(1, 500), (2, 500), (9, 5)]]
    assert council_prior(models) == pytest.approx((1.5,) * 168)
    with pytest.raises(ValueError, match="enough history"):
        council_prior(models[2:])


# Simulated bins from the town's own mix of location types and fill rates.


@dataclass(frozen=True)
class _Bin:
    """A simulated bin's samples (with the truth) and the readings its sensor sent."""

    samples: list[BinSample]
    readings: list[FillReading]


def _fleet(first_day: date, days: int, bins: int, seed: int, stuck: float = 0.01) -> list[_Bin]:
    town = make_town_on(generate_town(TownParams(), seed=1), "fill", seed=seed, bins=bins)
    factors = day_factors(first_day, days, seed=seed)
    out = []
    for i, b in enumerate(town.bins):
        samples = list(
            simulate_bin(
                b.location_type,
                b.fill_rate_pct_h,
                factors,
                random.Random(f"{seed}-{i}"),
                BinSensorParams(stuck_per_day=stuck),
            )
        )
        out.append(_Bin(samples, [FillReading(s.ts, s.reported_fill, s.flags) for s in samples]))
    return out


@pytest.fixture(scope="module")
def fleet() -> list[_Bin]:
    """Forty bins over eight weeks of autumn."""
    return _fleet(date(2026, 9, 1), 56, 40, seed=5)


def _backtest(bins: list[_Bin], origins: range, per_bin: int, seed: int) -> dict[str, float]:
    """24-h forecasts from random origins with 4 weeks of history, when the bin is left alone:
    median absolute errors of the model and of last reading + mean slope, and coverage."""
    rng = random.Random(seed)
    errors, naive, covered = [], [], []
    for b in bins:
        true = np.array([s.true_fill for s in b.samples])
        for _ in range(per_bin):
            i = rng.choice(origins)
            j = i + 48
            if j >= len(true) or np.any(np.diff(true[i : j + 1]) < -10):
                continue
            history = b.readings[max(0, i - 48 * 28) : i + 1]
            f = fit_fill_model("b", history, b.samples[i].ts).predict(b.samples[j].ts)
            steps = np.diff([r.fill_pct for r in history])
            slope = float(np.mean(steps[steps > -10])) * 2  # %/h at 30-min readings
            truth = true[j]  # the simulator caps the truth at 100, so compare capped values
            errors.append(abs(min(f.median_pct, 100) - truth))
            naive.append(abs(min(history[-1].fill_pct + 24 * slope, 100) - truth))
            covered.append(min(f.lo_pct, 100) - 1e-9 <= truth <= min(f.hi_pct, 100) + 1e-9)
    return {
        "n": len(errors),
        "mae": float(np.median(errors)),
        "naive": float(np.median(naive)),
        "coverage": float(np.mean(covered)),
    }


def test_day_ahead_forecast_beats_mean_slope(fleet: list[_Bin]) -> None:
    """24-h errors are small, well below mean slope's, and 10-90% intervals cover 60-95%."""
    result = _backtest(fleet, range(48 * 28, 48 * 55), 12, seed=1)
    assert result["n"] > 200
    assert result["mae"] < 3.0
    assert result["mae"] < 0.7 * result["naive"]
    assert 0.6 <= result["coverage"] <= 0.95


@pytest.mark.parametrize("first_day", [date(2027, 2, 25), date(2026, 9, 24)])
def test_day_ahead_forecast_holds_through_dst_weeks(first_day: date) -> None:
    """Forecasts from origins in the week the clocks change are as good as in other weeks."""
    bins = _fleet(first_day, 36, 24, seed=6)
    # Days 28-34 hold the last Sunday of March 2027 / October 2026.
    result = _backtest(bins, range(48 * 28, 48 * 34), 12, seed=2)
    assert result["n"] > 100
    assert result["mae"] < 3.0
    assert 0.6 <= result["coverage"] <= 0.95


def test_detected_collections_match_true_emptyings(fleet: list[_Bin]) -> None:
    """Detected collections are true emptyings (at most an hour later) and few are missed."""
    hits = false = missed = 0
    for b in fleet:
        true = [
            s.ts
            for p, s in zip(b.samples, b.samples[1:], strict=False)
            if s.true_fill < p.true_fill - 10
        ]
        found = detect_collections(b.readings)
        matched = {
            t for t in true if any(timedelta(0) <= d - t <= timedelta(hours=1) for d in found)
        }
        hits += len(matched)
        missed += len(true) - len(matched)
        false += sum(
            not any(timedelta(0) <= d - t <= timedelta(hours=1) for t in true) for d in found
        )
    assert hits > 300
    assert hits / (hits + false) >= 0.97
    assert hits / (hits + missed) >= 0.95


def test_stuck_sensors_are_flagged_and_dead_reckoned() -> None:
    """Sensors frozen for 7 h are flagged and dead-reckoned; working ones are not flagged."""
    bins = _fleet(date(2026, 9, 1), 42, 24, seed=7, stuck=0.3)
    rng = random.Random(3)
    confusion = np.zeros((2, 2), dtype=int)
    errors, frozen_errors = [], []
    for b in bins:
        for _ in range(10):
            i = rng.randrange(48 * 14, len(b.samples))
            k = i
            while k > 0 and b.samples[k].stuck:
                k -= 1
            if 0 < i - k < 14:
                continue  # stuck for under 7 h: not yet detectable by design
            model = fit_fill_model("b", b.readings[: i + 1], b.samples[i].ts)
            confusion[int(b.samples[i].stuck), int(model.stuck)] += 1
            fills = [s.true_fill for s in b.samples[k : i + 1]]
            if b.samples[i].stuck and not np.any(np.diff(fills) < -10):
                truth = b.samples[i].true_fill
                errors.append(abs(min(model.predict(b.samples[i].ts).median_pct, 100) - truth))
                frozen_errors.append(abs(b.samples[i].reported_fill - truth))
    assert confusion[0, 1] == 0 and confusion[1, 0] == 0
    assert confusion[1, 1] > 30
    assert np.median(errors) < 3.0 < np.median(frozen_errors)


def test_prior_helps_bins_with_little_history(fleet: list[_Bin]) -> None:
    """A bin with six hours of history forecasts better with the council prior than without."""
    cut = 48 * 28
    models = [fit_fill_model("b", b.readings[:cut], b.samples[cut].ts) for b in fleet[:20]]
    prior = council_prior(models)
    rng = random.Random(4)
    with_prior, without = [], []
    for b in fleet[20:]:
        for _ in range(8):
            i = rng.randrange(cut, len(b.samples) - 48)
            true = [s.true_fill for s in b.samples[i : i + 49]]
            if np.any(np.diff(true) < -10):
                continue
            history = b.readings[i - 12 : i + 1]
            for p, out in ((prior, with_prior), (None, without)):
                f = fit_fill_model("b", history, b.samples[i].ts, prior=p)
                out.append(abs(min(f.predict(b.samples[i + 48].ts).median_pct, 100) - true[-1]))
    assert np.median(with_prior) < 0.8 * np.median(without)


@pytest.mark.skipif(
    EDINBURGH is None,
    reason="shared data waste/edinburgh_enevo_collections_2016.csv.gz is not on this machine",
)
def test_town_fill_rates_match_edinburgh() -> None:
    """The town's bins fill like Edinburgh's, bin by bin: deciles and quartiles within 15%."""
    assert EDINBURGH is not None
    quantiles = [0.1, 0.25, 0.5, 0.75, 0.9]
    real = np.quantile(edinburgh_bin_rates(EDINBURGH), quantiles)
    assert real == pytest.approx([10.7, 16.1, 26.0, 38.1, 48.4], rel=0.05)
    town = make_town_on(generate_town(TownParams(), seed=1), "cal", seed=1, bins=500)
    simulated = np.quantile([b.fill_rate_pct_h * 24 for b in town.bins], quantiles)
    for sim, ref in zip(simulated, real, strict=True):
        assert math.isclose(sim, ref, rel_tol=0.15), (simulated, real)
    # Per interval between collections, bins emptied often count many times: faster.
    per_interval = np.quantile(edinburgh_fill_rates(EDINBURGH), 0.5)
    assert per_interval > 1.25 * real[2]
