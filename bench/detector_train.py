"""Training of the learned jolt detector (offline only): labelled candidates, trees, plain JSON.

Candidates come from :func:`analytics.potholes.window_features.candidates`. Labels:

- Pittsburgh: within each press's match window [press - 3 s, press + 1 s] the candidate with the
  largest peak is the pothole; the other candidates of a match window are left out (the press
  says a pothole was hit, not which sample), every candidate outside all windows is a negative.
- González: the largest candidate of a pothole clip is the pothole (its other candidates are
  left out); every candidate of another class is a negative.

The trees are lightgbm's, exported node by node to the JSON that
:mod:`analytics.potholes.jolt_model` walks; lightgbm is not needed at inference.
"""

from collections.abc import Callable, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from analytics.potholes.detector import Sample
from analytics.potholes.jolt_model import JoltModel, from_lightgbm_dump
from analytics.potholes.window_features import FEATURES, Candidate, WindowParams, candidates
from bench.detector_data import Clip, Drive, matches

TREES = 60
LEAVES = 7
MIN_LEAF = 10
LEARNING_RATE = 0.1


Finder = Callable[[Sequence[Sample], WindowParams], list[Candidate]]
"""The candidates of a trace, with their features."""


def window_candidates(samples: Sequence[Sample], window: WindowParams) -> list[Candidate]:
    """The candidates of :func:`~analytics.potholes.window_features.candidates`."""
    return candidates(samples, window)[1]


def labelled(
    drives: list[Drive],
    clips: list[Clip],
    window: WindowParams,
    find: Finder = window_candidates,
) -> tuple[list[tuple[float, ...]], list[int]]:
    """Features and labels (1 = pothole) of the training candidates of drives and clips."""
    xs: list[tuple[float, ...]] = []
    ys: list[int] = []
    for d in drives:
        found = find(d.samples, window)
        best: set[int] = set()
        windowed: set[int] = set()
        for p in d.presses:
            inside = [i for i, c in enumerate(found) if matches(c.t, p)]
            windowed.update(inside)
            if inside:
                best.add(max(inside, key=lambda i: found[i].peak_g))
        for i, c in enumerate(found):
            if i in best or i not in windowed:
                xs.append(c.features)
                ys.append(int(i in best))
    for clip in clips:
        found = find(clip.samples, window)
        if clip.label == "potholes":
            if found:
                xs.append(max(found, key=lambda c: c.peak_g).features)
                ys.append(1)
        else:
            xs.extend(c.features for c in found)
            ys.extend(0 for _ in found)
    return xs, ys


def fit(
    xs: list[tuple[float, ...]], ys: list[int], seed: int, names: Sequence[str] = FEATURES
) -> lgb.Booster:
    """Small gradient-boosted trees on the candidates, deterministic for a ``seed``."""
    params: dict[str, Any] = {
        "objective": "binary",
        "num_leaves": LEAVES,
        "min_data_in_leaf": MIN_LEAF,
        "learning_rate": LEARNING_RATE,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbose": -1,
        # Potholes are few among the candidates: weigh the classes equally, so that a score of
        # 0.5 sits between them rather than deep in the negatives' side.
        "scale_pos_weight": (len(ys) - sum(ys)) / max(1, sum(ys)),
    }
    data = lgb.Dataset(np.array(xs, dtype=np.float64), label=np.array(ys), feature_name=list(names))
    return lgb.train(params, data, num_boost_round=TREES)


def export(booster: lgb.Booster, threshold: float, window: WindowParams) -> JoltModel:
    """The booster as a :class:`JoltModel`."""
    return from_lightgbm_dump(booster.dump_model(), threshold, window)
