"""Benchmark: pothole detectors on real labelled recordings, cross-validated.

Pittsburgh (three drives, ~5 Hz, presses up to ~3 s after the jolt) is scored leave-one-drive-out:
an event is right when it lies within [press - 3 s, press + 1 s] of some press, a press is found
when some event lies in its window. González (250 clips at 50 Hz, five classes) is scored by
stratified k-fold: a clip is flagged when the detector reports at least one event in it.
Contenders, each trained on the training folds only:

- ``previous``: ``analytics.potholes.detector.detect`` with the thresholds it had before it met
  real data (0.5 g, standout 5, jolts under 0.15 s, heaves filtered), tuned on the simulator;
- ``reference``: ``detect`` with its shipped default thresholds (no training: they were chosen on
  all of this data, so its figures are in-sample and flatter it; ``tuned`` is the honest one);
- ``tuned``: ``detect`` with thresholds chosen on the training folds (``bench/detector_tuned.py``);
- ``threshold``: an event at every candidate peak of |vertical dynamic acceleration| at or above
  one threshold, chosen on the training folds of the same source (Pittsburgh: best F1;
  González: the lowest flagging at most 5% of the training regular-road clips);
- ``trees``: the learned detector (``analytics.potholes.jolt_model``), trained on the training
  folds of the source under test plus all of the other source;
- ``rich``: trained as ``trees`` over the features of ``bench/detector_rich.py`` (window shape
  on an offset-free trace); a bench experiment, scored by lightgbm itself;
- ``logit``: class-weighted logistic regression over the same features (plain weights).

Run from the repository root::

    .venv/bin/python bench/detector.py [--folds 5] [--seed 1]
    .venv/bin/python bench/detector.py --train analytics/potholes/jolt_model.json
    .venv/bin/python bench/detector.py --choose   # the thresholds chosen on all the data
"""

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if __name__ == "__main__":  # bench/ first on sys.path would shadow the ingest package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
    sys.path.insert(0, str(REPO))

from analytics.potholes.detector import DetectorParams, Sample, detect  # noqa: E402
from analytics.potholes.jolt_model import JoltModel, detect_jolts, merge, score  # noqa: E402
from analytics.potholes.window_features import WindowParams, candidates  # noqa: E402
from bench.detector_data import (  # noqa: E402
    CLIP_CLASSES,
    CLIP_SPEED_MPS,
    Clip,
    Drive,
    clip_folds,
    data_root,
    load_clips,
    load_drives,
    matches,
)
from bench.detector_rich import logit_scorer, rich_scorer  # noqa: E402
from bench.detector_train import export, fit, labelled  # noqa: E402
from bench.detector_tuned import choose as choose_thresholds  # noqa: E402
from bench.detector_tuned import describe, tuned  # noqa: E402

Detector = Callable[[Sequence[Sample]], list[float]]
"""A trained detector: the times (s) of the events it reports in a trace."""
Trainer = Callable[[list[Drive], list[Clip], str], Detector]
"""Trains a detector on drives and clips; the third argument names the source under test."""

WINDOW = WindowParams()
MERGE_S = 1.0
INNER_FOLDS = 3
SCORE_GRID = tuple(round(0.02 * i, 2) for i in range(1, 50))
MAX_REGULAR_SHARE = 0.05
THRESHOLDS_G = tuple(round(0.05 * i, 2) for i in range(1, 61))


PREVIOUS = DetectorParams(threshold_g=0.5, min_standout=5.0, max_jolt_s=0.15, max_heave_share=0.5)
"""The reference detector's thresholds before they were chosen on real recordings."""


def previous(drives: list[Drive], clips: list[Clip], source: str) -> Detector:
    """detect() with its thresholds from before real data (tuned on the simulator)."""
    return lambda samples: [e.t for e in detect(samples, PREVIOUS)]


def reference(drives: list[Drive], clips: list[Clip], source: str) -> Detector:
    """detect() with its shipped defaults, untrained (chosen on all of this data: in-sample)."""
    return lambda samples: [e.t for e in detect(samples)]


Scored = dict[int, tuple[list[float], list[float]]]
"""Candidate times and scores of each trace, by ``id`` of its samples."""


def _events(scored: tuple[list[float], list[float]], threshold: float) -> list[float]:
    times, scores = scored
    return [times[i] for i in merge(times, scores, threshold, MERGE_S)]


def choose(
    drives: list[Drive], clips: list[Clip], source: str, scored: Scored, grid: Sequence[float]
) -> float:
    """The threshold on the scores that does best on the training data of the source under test.

    Pittsburgh: the best F1; González: the lowest that flags at most 5% of regular-road clips.
    """
    if source == "pittsburgh":
        return max(
            grid,
            key=lambda g: _f1(pittsburgh_counts(drives, lambda s: _events(scored[id(s)], g))),
        )
    regular = [c for c in clips if c.label == "regular_road"]
    return next(
        (
            g
            for g in grid
            if sum(bool(_events(scored[id(c.samples)], g)) for c in regular)
            <= MAX_REGULAR_SHARE * len(regular)
        ),
        grid[-1],
    )


def _peaks(samples: Sequence[Sample]) -> tuple[list[float], list[float]]:
    _, found = candidates(samples, WINDOW)
    return [c.t for c in found], [c.peak_g for c in found]


def threshold(drives: list[Drive], clips: list[Clip], source: str) -> Detector:
    """An event at each candidate peak >= one threshold (g), chosen on the source's train folds."""
    traces = [d.samples for d in drives] + [c.samples for c in clips]
    best = choose(drives, clips, source, {id(s): _peaks(s) for s in traces}, THRESHOLDS_G)
    return lambda samples: _events(_peaks(samples), best)


def _model(drives: list[Drive], clips: list[Clip], threshold: float) -> JoltModel:
    xs, ys = labelled(drives, clips, WINDOW)
    return export(fit(xs, ys, seed=1), threshold, WINDOW)


def _scores(model: JoltModel, samples: Sequence[Sample]) -> tuple[list[float], list[float]]:
    _, found = candidates(samples, model.window)
    return [c.t for c in found], [score(model, c.features) for c in found]


Scorer = Callable[[Sequence[Sample]], tuple[list[float], list[float]]]
"""A trace's candidate times and scores."""


def _tree_scorer(drives: list[Drive], clips: list[Clip]) -> Scorer:
    model = _model(drives, clips, 0.5)
    return lambda samples: _scores(model, samples)


def out_of_fold(
    drives: list[Drive],
    clips: list[Clip],
    source: str,
    train: Callable[[list[Drive], list[Clip]], Scorer] = _tree_scorer,
) -> Scored:
    """Scores of the source's training traces, each by a scorer trained without it.

    Pittsburgh: leave one training drive out (with all clips); González: stratified inner folds
    of the training clips (with all drives).
    """
    out: Scored = {}
    if source == "pittsburgh":
        for d in drives:
            out[id(d.samples)] = train([x for x in drives if x is not d], clips)(d.samples)
        return out
    fold = clip_folds(clips, INNER_FOLDS, seed=0)
    for f in range(INNER_FOLDS):
        scorer = train(drives, [c for c, k in zip(clips, fold, strict=True) if k != f])
        for c, k in zip(clips, fold, strict=True):
            if k == f:
                out[id(c.samples)] = scorer(c.samples)
    return out


def trees(drives: list[Drive], clips: list[Clip], source: str) -> Detector:
    """Trees on the train folds plus all of the other source; threshold from inner folds."""
    best = choose(drives, clips, source, out_of_fold(drives, clips, source), SCORE_GRID)
    model = _model(drives, clips, best)
    return lambda samples: [e.t for e in detect_jolts(samples, model)]


def learned(train: Callable[[list[Drive], list[Clip]], Scorer], doc: str) -> Trainer:
    """A contender trained as ``trees`` is, with another scorer (a bench experiment)."""

    def trainer(drives: list[Drive], clips: list[Clip], source: str) -> Detector:
        best = choose(drives, clips, source, out_of_fold(drives, clips, source, train), SCORE_GRID)
        scorer = train(drives, clips)
        return lambda samples: _events(scorer(samples), best)

    trainer.__doc__ = doc
    return trainer


CONTENDERS: dict[str, Trainer] = {
    "previous": previous,
    "reference": reference,
    "tuned": tuned,
    "threshold": threshold,
    "trees": trees,
    "rich": learned(rich_scorer, "As trees, over the richer shape features of detector_rich.py."),
    "logit": learned(logit_scorer, "Logistic regression over the same rich features."),
}


def pittsburgh_counts(drives: list[Drive], detector: Detector) -> tuple[int, int, int, int]:
    """Events, events matching a press, presses, presses with an event."""
    events = right = presses = found = 0
    for d in drives:
        times = detector(d.samples)
        events += len(times)
        right += sum(any(matches(t, p) for p in d.presses) for t in times)
        presses += len(d.presses)
        found += sum(any(matches(t, p) for t in times) for p in d.presses)
    return events, right, presses, found


def chance(drives: list[Drive]) -> tuple[int, int]:
    """Moving samples (at least the candidates' minimum speed) and those in a press's window.

    Their ratio is the precision of events placed at random while moving: the press windows are
    4 s wide and the presses dense, so a precision near it says nothing.
    """
    moving = [(s, d) for d in drives for s in d.samples if s.speed >= WINDOW.min_speed_mps]
    return len(moving), sum(any(matches(s.t, p) for p in d.presses) for s, d in moving)


def clip_counts(clips: list[Clip], detector: Detector) -> Counter[str]:
    """Clips flagged (at least one event), by class."""
    return Counter(c.label for c in clips if detector(c.samples))


def _f1(counts: tuple[int, int, int, int]) -> float:
    events, right, presses, found = counts
    p = right / events if events else 0.0
    r = found / presses if presses else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


def run_pittsburgh(drives: list[Drive], clips: list[Clip], trainer: Trainer) -> None:
    """Leave one drive out; print one row per held-out drive and the total."""
    total = [0, 0, 0, 0]
    for held in drives:
        rest = [d for d in drives if d is not held]
        counts = pittsburgh_counts([held], trainer(rest, clips, "pittsburgh"))
        total = [a + b for a, b in zip(total, counts, strict=True)]
        _pittsburgh_row(held.name, counts, chance([held]))
    _pittsburgh_row("all", (total[0], total[1], total[2], total[3]), chance(drives))


def _pittsburgh_row(name: str, c: tuple[int, int, int, int], luck: tuple[int, int]) -> None:
    events, right, presses, found = c
    print(
        f"  {name:<8} {events:>6} {right:>6} {_ratio(right, events):>9} "
        f"{_ratio(luck[1], luck[0]):>6} {presses:>7} {found:>6} {_ratio(found, presses):>6}"
    )


def run_gonzalez(
    drives: list[Drive], clips: list[Clip], trainer: Trainer, folds: int, seed: int
) -> None:
    """Stratified k-fold; print the share of clips flagged by class, per fold and in total."""
    fold = clip_folds(clips, folds, seed)
    total: Counter[str] = Counter()
    for f in range(folds):
        test = [c for c, k in zip(clips, fold, strict=True) if k == f]
        train = [c for c, k in zip(clips, fold, strict=True) if k != f]
        flagged = clip_counts(test, trainer(drives, train, "gonzalez"))
        total.update(flagged)
        _gonzalez_row(f"fold {f + 1}", flagged, Counter(c.label for c in test))
    _gonzalez_row("all", total, Counter(c.label for c in clips))


def _gonzalez_row(name: str, flagged: Counter[str], sizes: Counter[str]) -> None:
    cells = " ".join(
        f"{_ratio(flagged[k], sizes[k]):>5} ({flagged[k]:>2}/{sizes[k]:>2})" for k in CLIP_CLASSES
    )
    print(f"  {name:<8} {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="González folds (stratified).")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the González folds.")
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help="Comma-separated contenders."
    )
    parser.add_argument(
        "--train",
        type=Path,
        metavar="OUT.json",
        help="Instead of evaluating, train the trees on all the data and write them to OUT.json.",
    )
    parser.add_argument(
        "--choose",
        action="store_true",
        help="Instead of evaluating, print the detector's thresholds chosen on all the data.",
    )
    args = parser.parse_args()
    names = args.contenders.split(",")
    if args.folds < 2 or any(n not in CONTENDERS for n in names):
        parser.error(f"--folds must be at least 2; contenders are {', '.join(CONTENDERS)}")
    root = data_root()
    drives, clips = load_drives(root), load_clips(root)
    if args.choose:
        print(f"Chosen on all drives and clips: {describe(choose_thresholds(drives, clips))}")
        return 0
    if args.train is not None:
        best = choose(drives, clips, "gonzalez", out_of_fold(drives, clips, "gonzalez"), SCORE_GRID)
        model = _model(drives, clips, best)
        args.train.write_text(json.dumps(model.to_json(), indent=1) + "\n")
        print(f"Trained on all drives and clips, threshold {best:g}; wrote {args.train}.")
        return 0
    print(f"Data: {root} ({len(drives)} Pittsburgh drives, {len(clips)} González clips)")
    print(
        f"González clips have only acc_z: it is put on the phone's z axis, at a constant "
        f"{CLIP_SPEED_MPS:g} m/s (not recorded)."
    )
    for name in names:
        print(f"\n{name}: {CONTENDERS[name].__doc__}")
        print(f"{name}: Pittsburgh, leave one drive out (match [press - 3 s, press + 1 s])")
        print(
            f"  {'held out':<8} {'events':>6} {'right':>6} {'precision':>9} {'chance':>6} "
            f"{'presses':>7} {'found':>6} {'recall':>6}"
        )
        run_pittsburgh(drives, clips, CONTENDERS[name])
        print(f"{name}: González, {args.folds}-fold stratified (seed {args.seed}), share flagged")
        print(f"  {'fold':<8} " + " ".join(f"{k[:13]:>13}" for k in CLIP_CLASSES))
        run_gonzalez(drives, clips, CONTENDERS[name], args.folds, args.seed)
    print(
        "\nchance = share of the moving samples (>= "
        f"{WINDOW.min_speed_mps:g} m/s) that lie in a press's match window: the precision of "
        "events placed at random while moving."
    )
    print(
        "References (published, not measured here): Pittsburgh SVM precision 0.78, recall 0.42; "
        "González ~93% of pothole clips, <2% of regular road. Targets: Pittsburgh precision "
        ">= 0.8, recall >= 0.6; González >= 90% potholes, <= 5% regular road."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
