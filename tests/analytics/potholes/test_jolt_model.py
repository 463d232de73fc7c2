"""The learned jolt detector: lightgbm's trees walked in plain Python, and its events."""

import json
import random
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from analytics.potholes.detector import Sample
from analytics.potholes.jolt_model import (
    JoltModel,
    detect_jolts,
    from_lightgbm_dump,
    load_model,
    model_from_json,
    raw_score,
    score,
)
from analytics.potholes.window_features import FEATURES

PEAK = FEATURES.index("peak_g")


def _stump(split_g: float = 0.5, threshold: float = 0.5) -> JoltModel:
    """One tree: a candidate is a pothole when its peak is above ``split_g``."""
    tree = ({"f": PEAK, "t": split_g, "l": 1, "r": 2}, {"leaf": -5.0}, {"leaf": 5.0})
    return JoltModel(features=FEATURES, trees=(tree,), threshold=threshold)


def _trace(jolts: dict[float, float], hz: float = 50.0, speed: float = 10.0) -> list[Sample]:
    """20 s at 1 g along z, plus a one-sample jolt of the given size at each given time."""
    out = []
    for i in range(round(20 * hz)):
        t = i / hz
        up = next((g for at, g in jolts.items() if abs(t - at) < 0.5 / hz), 0.0)
        out.append(Sample(t, 52.67, -0.72, speed, 0.0, 0.0, 1.0 + up))
    return out


def _booster(seed: int) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, size=(400, len(FEATURES)))
    y = (x[:, PEAK] + 0.5 * x[:, 3] + rng.normal(0, 0.3, 400) > 2.0).astype(int)
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": seed}
    data = lgb.Dataset(x, label=y, feature_name=list(FEATURES))
    return lgb.train(params, data, num_boost_round=25), x


@pytest.mark.parametrize("seed", [1, 2])
def test_tree_walk_matches_lightgbm(seed: int) -> None:
    """The exported trees give lightgbm's own raw scores and probabilities."""
    booster, x = _booster(seed)
    model = from_lightgbm_dump(booster.dump_model(), threshold=0.5)
    raw = booster.predict(x, raw_score=True)
    prob = booster.predict(x)
    for row, r, p in zip(x.tolist(), raw, prob, strict=True):
        assert raw_score(model.trees, row) == pytest.approx(r, abs=1e-9)
        assert score(model, row) == pytest.approx(p, abs=1e-9)


def test_plain_json_round_trip(tmp_path: Path) -> None:
    """A model written as JSON reads back equal, with the same scores."""
    booster, x = _booster(3)
    model = from_lightgbm_dump(booster.dump_model(), threshold=0.7)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model.to_json()))
    back = load_model(path)
    assert back == model
    assert model_from_json(model.to_json()) == model
    row = x[0].tolist()
    assert score(back, row) == score(model, row)


def test_features_other_than_the_extractors_are_refused() -> None:
    """A model reading other features cannot be built."""
    with pytest.raises(ValueError, match="Expected features"):
        JoltModel(features=("peak_g",), trees=(), threshold=0.5)


def test_detects_jolts_the_model_accepts_and_merges_close_ones() -> None:
    """Big jolts are events, small ones are not, two within ``merge_s`` are one event."""
    events = detect_jolts(_trace({3.0: 1.0, 8.0: 0.3, 12.0: 1.2, 12.5: 0.9}), _stump())
    assert [round(e.t, 2) for e in events] == [3.0, 12.0]
    assert events[1].peak_z_g == pytest.approx(1.2)
    assert events[0].sample_hz == pytest.approx(50.0)


def test_no_events_when_standing() -> None:
    """A phone below the minimum speed reports nothing."""
    assert detect_jolts(_trace({3.0: 1.0}, speed=0.5), _stump()) == []


@pytest.mark.parametrize("hz", [5.0, 20.0, 100.0])
def test_runs_at_any_rate(hz: float) -> None:
    """The same model finds the same jolt at 5 to 100 Hz."""
    rng = random.Random(hz)
    at = round(rng.uniform(4, 15) * 5) / 5  # on a sample at every rate
    events = detect_jolts(_trace({at: 1.0}, hz=hz), _stump())
    assert [e.t for e in events] == [pytest.approx(at)]
