"""A learned pothole detector: gradient-boosted trees over candidate jolts, walked in plain Python.

The trees are trained offline (``bench/detector.py --train``) and stored as plain JSON:
per tree a list of nodes, each either ``{"leaf": value}`` or ``{"f": feature, "t": threshold,
"l": left, "r": right}`` (go left when the feature is at most the threshold). The score of a
candidate is the logistic of the sum of its leaves, so the same file runs in a phone's browser
with a dozen lines of script and no runtime.
"""

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analytics.potholes.detector import (
    DetectorParams,
    JoltEvent,
    Sample,
    _event,
    vertical_dynamic,
)
from analytics.potholes.window_features import FEATURES, WindowParams, candidates, sample_rate
from ingest.kernel.params import require_in

Node = dict[str, float]
"""``{"leaf": v}`` or ``{"f": i, "t": x, "l": j, "r": k}`` (indices within the tree)."""


@dataclass(frozen=True)
class JoltModel:
    """Trees, the score above which a candidate is a pothole, and how candidates are found.

    Parameters
    ----------
    features
        Names of the features the trees read, which must be :data:`FEATURES`.
    trees
        The trees, each a list of nodes with the root first.
    threshold
        Smallest score (0 to 1) of a reported jolt.
    merge_s
        Jolts closer than this are one event.
    window
        Candidate windows, as in training.
    """

    features: tuple[str, ...]
    trees: tuple[tuple[Node, ...], ...]
    threshold: float
    merge_s: float = 1.0
    window: WindowParams = field(default_factory=WindowParams)

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ValueError(f"Expected features {FEATURES}.")
        require_in("threshold", self.threshold, 0, 1)
        require_in("merge_s", self.merge_s, 0, 60)

    def to_json(self) -> dict[str, Any]:
        """The model as plain data, as :func:`model_from_json` reads it."""
        return {
            "features": list(self.features),
            "threshold": self.threshold,
            "merge_s": self.merge_s,
            "window": {
                name: getattr(self.window, name) for name in WindowParams.__dataclass_fields__
            },
            "trees": [list(tree) for tree in self.trees],
        }


def model_from_json(data: dict[str, Any]) -> JoltModel:
    """A model from its plain-data form."""
    return JoltModel(
        features=tuple(data["features"]),
        trees=tuple(tuple(tree) for tree in data["trees"]),
        threshold=float(data["threshold"]),
        merge_s=float(data["merge_s"]),
        window=WindowParams(**data["window"]),
    )


def load_model(path: Path) -> JoltModel:
    """The model stored in ``path`` (as written by ``bench/detector.py --train``)."""
    return model_from_json(json.loads(path.read_text()))


def from_lightgbm_dump(
    dump: dict[str, Any], threshold: float, window: WindowParams | None = None
) -> JoltModel:
    """A model from lightgbm's ``Booster.dump_model()`` of a binary model over :data:`FEATURES`.

    Only numeric ``<=`` splits are supported; the features are never missing, so lightgbm's
    default directions for missing values do not arise.
    """
    if dump["feature_names"] != list(FEATURES):
        raise ValueError(f"Expected features {FEATURES}.")
    trees = tuple(tuple(_flatten(t["tree_structure"])) for t in dump["tree_info"])
    window = WindowParams() if window is None else window
    return JoltModel(features=FEATURES, trees=trees, threshold=threshold, window=window)


def _flatten(root: dict[str, Any]) -> list[Node]:
    nodes: list[Node] = []

    def visit(node: dict[str, Any]) -> int:
        at = len(nodes)
        if "leaf_value" in node:
            nodes.append({"leaf": float(node["leaf_value"])})
            return at
        if node["decision_type"] != "<=":
            raise ValueError(f"Unsupported split {node['decision_type']!r}.")
        nodes.append({})
        left = visit(node["left_child"])
        right = visit(node["right_child"])
        nodes[at] = {
            "f": node["split_feature"],
            "t": float(node["threshold"]),
            "l": left,
            "r": right,
        }
        return at

    visit(root)
    return nodes


def raw_score(trees: Sequence[Sequence[Node]], x: Sequence[float]) -> float:
    """Sum of the leaves that ``x`` reaches, one per tree (the trees' raw margin)."""
    total = 0.0
    for tree in trees:
        node = tree[0]
        while "leaf" not in node:
            node = tree[int(node["l"] if x[int(node["f"])] <= node["t"] else node["r"])]
        total += node["leaf"]
    return total


def score(model: JoltModel, x: Sequence[float]) -> float:
    """Probability-like score in [0, 1] that the candidate with features ``x`` is a pothole."""
    return 1 / (1 + math.exp(-raw_score(model.trees, x)))


def merge(
    times: Sequence[float], scores: Sequence[float], threshold: float, merge_s: float
) -> list[int]:
    """Which candidates are events: those scoring at least ``threshold``, one per group.

    Kept candidates (in time order) less than ``merge_s`` apart form a group, as the down-then-up
    of one pothole or its front and rear wheel do; the group's best-scoring candidate is its event.
    """
    groups: list[list[int]] = []
    for i, (t, s) in enumerate(zip(times, scores, strict=True)):
        if s < threshold:
            continue
        if groups and t - times[groups[-1][-1]] < merge_s:
            groups[-1].append(i)
        else:
            groups.append([i])
    return [max(g, key=lambda i: scores[i]) for g in groups]


def detect_jolts(samples: Sequence[Sample], model: JoltModel) -> list[JoltEvent]:
    """Find pothole jolts with a learned model, as :func:`~analytics.potholes.detector.detect` does.

    Parameters
    ----------
    samples
        The trace, at 5 to 100 Hz, from a phone in any fixed orientation.
    model
        Trees and threshold, e.g. :func:`load_model`.

    Returns
    -------
    list[JoltEvent]
        One event per group of pothole candidates less than ``merge_s`` apart, at the candidate
        with the highest score, in time order.
    """
    trace, found = candidates(samples, model.window)
    scores = [score(model, c.features) for c in found]
    chosen = merge([c.t for c in found], scores, model.threshold, model.merge_s)
    if not chosen:
        return []
    hz = sample_rate(trace)
    params = DetectorParams(gravity_tau_s=model.window.gravity_tau_s)
    dyn = vertical_dynamic(trace, model.window.gravity_tau_s)
    return [_event(trace, dyn, found[i].index, hz, params) for i in chosen]
