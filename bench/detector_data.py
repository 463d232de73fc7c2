"""Real labelled pothole recordings for the benchmarks, read at run time from ``shared/data``.

Neither source states a licence, so nothing here is copied into the project: the files are
read from ``$SMARTSTREETS_SHARED_DATA/potholes`` or ``../shared/data/potholes`` beside the
repository. Both become lists of :class:`~analytics.potholes.detector.Sample`:

- Pittsburgh (CMU 2017): an iPhone in a car, about 5 Hz, three axes in g with gravity; each
  drive comes with the times a passenger pressed "pothole", up to about 3 s after the jolt.
- González et al. (2017): clips of vertical acceleration only (m/s², gravity included) at
  50 Hz, one class each. The clips carry no speed, so they are given :data:`CLIP_SPEED_MPS`
  throughout and the vertical on the phone's z axis.
"""

import csv
import os
import random
from dataclasses import dataclass
from pathlib import Path

from analytics.potholes.detector import Sample

REPO = Path(__file__).resolve().parents[1]
PITTSBURGH_HZ = 5.0
"""The Pittsburgh ``timestamp`` is a sample number; the recordings are about 5 Hz."""
CLIP_HZ = 50.0
CLIP_SPEED_MPS = 10.0
"""Speed given to every González sample (36 km/h), which the clips do not record."""
STANDARD_GRAVITY = 9.80665
CLIP_CLASSES = ("potholes", "asphalt_bumps", "metal_bumps", "regular_road", "worn_out_road")
MATCH_BEFORE_S = 3.0
MATCH_AFTER_S = 1.0
"""A detection matches a press when it lies within [press - 3 s, press + 1 s]."""


@dataclass(frozen=True)
class Drive:
    """One Pittsburgh drive: its samples and the times (s) of the "pothole" presses."""

    name: str
    samples: tuple[Sample, ...]
    presses: tuple[float, ...]


@dataclass(frozen=True)
class Clip:
    """One González clip and its class."""

    name: str
    label: str
    samples: tuple[Sample, ...]


def data_root() -> Path:
    """Where the pothole recordings are: ``$SMARTSTREETS_SHARED_DATA/potholes`` or the default."""
    env = os.environ.get("SMARTSTREETS_SHARED_DATA")
    base = Path(env) if env else REPO.parent / "shared" / "data"
    return base / "potholes"


def load_drives(root: Path) -> list[Drive]:
    """Every ``tripN`` drive of the Pittsburgh recordings, by name."""
    drives = []
    folder = root / "cmu_pittsburgh_2017"
    for path in sorted(folder.glob("trip*_sensors.csv")):
        with path.open(newline="") as f:
            samples = tuple(
                Sample(
                    t=float(r["timestamp"]) / PITTSBURGH_HZ,
                    lat=float(r["latitude"]),
                    lon=float(r["longitude"]),
                    speed=float(r["speed"]),
                    ax=float(r["accelerometerX"]),
                    ay=float(r["accelerometerY"]),
                    az=float(r["accelerometerZ"]),
                )
                for r in csv.DictReader(f)
            )
        press_path = path.with_name(path.name.replace("_sensors", "_potholes"))
        with press_path.open(newline="") as f:
            presses = tuple(float(r["timestamp"]) / PITTSBURGH_HZ for r in csv.DictReader(f))
        drives.append(Drive(path.name.split("_")[0], samples, presses))
    return drives


def load_clips(root: Path) -> list[Clip]:
    """Every González clip listed in ``index.csv``."""
    folder = root / "gonzalez_2017_half"
    clips = []
    with (folder / "index.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        with (folder / row["file"]).open(newline="") as f:
            values = [float(r["acc_z"]) for r in csv.DictReader(f)]
        samples = tuple(
            Sample(i / CLIP_HZ, 0.0, 0.0, CLIP_SPEED_MPS, 0.0, 0.0, v / STANDARD_GRAVITY)
            for i, v in enumerate(values)
        )
        clips.append(Clip(row["file"], row["label"], samples))
    return clips


def clip_folds(clips: list[Clip], folds: int, seed: int) -> list[int]:
    """The fold of each clip: stratified by class, shuffled with ``seed``."""
    fold = [0] * len(clips)
    rng = random.Random(f"detector-folds-{seed}")
    for label in sorted({c.label for c in clips}):
        members = [i for i, c in enumerate(clips) if c.label == label]
        rng.shuffle(members)
        for n, i in enumerate(members):
            fold[i] = n % folds
    return fold


def matches(t: float, press: float) -> bool:
    """Whether a detection at ``t`` matches a press at ``press``."""
    return press - MATCH_BEFORE_S <= t <= press + MATCH_AFTER_S
