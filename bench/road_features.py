"""Benchmark: what real road features look like in a phone's vertical acceleration, next to what
the simulator's phones feel, so the simulator can be calibrated against real roads.

Reads the González et al. (IEEE T-ITS 2017) clips in the shared reference data (50 Hz vertical
acceleration from a phone fixed in a car, m/s² with gravity; 50 clips per class: potholes,
asphalt bumps, metal bumps, regular road, worn-out road) at run time — the data carries no
licence and is never copied into the project — and prints, per class, the median and the 10th to
90th percentile of:

* ``peak g``: the largest |vertical acceleration - its median| in the clip, in g;
* ``p2p g``: the peak-to-peak of the whole clip, in g;
* ``rms g``: the clip's RMS about its median (the road texture for regular and worn-out road);
* ``standout``: peak over a robust noise level (median |a| / 0.6745);
* ``wide s``: how long the main event stays above half its peak (first to last crossing);
* ``Hz``: the frequency with most energy between 1 and 20 Hz (an FFT of the whole clip).

Then the same figures for clips made by the simulator's own waveforms (``simulators/ride.py``:
each feature crossed once at 6-14 m/s with the road texture laid over), so the two can be
compared side by side. It reports; it does not assert. Run from the repository root::

    .venv/bin/python bench/road_features.py [--data ../shared/data/potholes]
"""

import argparse
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Ahead of bench/ itself, whose ingest.py would otherwise shadow the ingest package.
sys.path.insert(0, str(REPO))

from bench.detector_data import CLIP_CLASSES, CLIP_HZ, data_root, load_clips  # noqa: E402
from simulators import ride  # noqa: E402
from simulators.features import _PLACEMENT, FeatureKind, RoadFeature  # noqa: E402

HZ = CLIP_HZ
FIGURES = ("peak g", "p2p g", "rms g", "standout", "wide s", "Hz")


def read_clips(root: Path) -> dict[str, list[np.ndarray]]:
    """Vertical acceleration of every clip, in g, by class."""
    clips: dict[str, list[np.ndarray]] = {c: [] for c in CLIP_CLASSES}
    for clip in load_clips(root):
        clips.setdefault(clip.label, []).append(np.asarray([s.az for s in clip.samples]))
    return clips


def figures(z: np.ndarray) -> dict[str, float]:
    """The figures of one clip (see the module's description)."""
    dyn = z - np.median(z)
    mag = np.abs(dyn)
    k = int(np.argmax(mag))
    noise = float(np.median(mag)) / 0.6745
    above = np.flatnonzero(mag >= 0.5 * mag[k])
    spectrum = np.abs(np.fft.rfft(dyn * np.hanning(len(dyn))))
    freqs = np.fft.rfftfreq(len(dyn), 1 / HZ)
    band = (freqs >= 1) & (freqs <= 20)
    return {
        "peak g": float(mag[k]),
        "p2p g": float(dyn.max() - dyn.min()),
        "rms g": float(np.sqrt(np.mean(dyn**2))),
        "standout": float(mag[k] / noise) if noise > 0 else float("inf"),
        "wide s": float((above[-1] - above[0] + 1) / HZ),
        "Hz": float(freqs[band][np.argmax(spectrum[band])]) if band.any() else float("nan"),
    }


def _cell(values: list[float]) -> str:
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return f"{p50:6.2f} ({p10:.2f}-{p90:.2f})"


def report(title: str, clips: dict[str, list[np.ndarray]]) -> None:
    """Print the per-class table of ``clips``."""
    print(f"{title}: median (p10-p90) per class")
    print(f"{'class':<15}{'n':>4}  " + "".join(f"{name:>22}" for name in FIGURES))
    for cls, zs in clips.items():
        rows = [figures(z) for z in zs]
        if not rows:
            continue
        cells = "".join(f"{_cell([r[n] for r in rows]):>22}" for n in FIGURES)
        print(f"{cls:<15}{len(rows):>4}  {cells}")


def simulated_clips(seed: int, per_class: int = 50) -> dict[str, list[np.ndarray]]:
    """Clips made the simulator's way: each feature kind crossed once at a random speed (6-14
    m/s) and a severity from the simulator's own placement ranges, 4 s at 50 Hz, with its road
    texture laid over; "regular road" is the texture alone."""
    rng = random.Random(seed)
    kinds: dict[str, FeatureKind | None] = {
        "potholes": "pothole",
        "manholes": "manhole",
        "speed_humps": "speed_hump",
        "rough": "rough",
        "regular_road": None,
    }
    clips: dict[str, list[np.ndarray]] = {name: [] for name in kinds}
    for name, kind in kinds.items():
        for _ in range(per_class):
            v, n = rng.uniform(6, 14), int(4 * HZ)
            z, sigma = [0.0] * n, [ride._TEXTURE_G * min(1.0, v / 10)] * n
            if kind is not None:
                severity = rng.uniform(*_PLACEMENT[kind][1])
                feature = RoadFeature("f", kind, 0.0, 0.0, severity, 0.0)
                if kind == "rough":
                    sigma = [s + ride._ROUGH_G * severity * min(1.0, v / 10) for s in sigma]
                else:
                    ride._inject(z, HZ, 1.5, v, feature, rng)
            ride._add_texture(z, sigma, HZ, rng)
            clips[name].append(1.0 + np.asarray(z))
    return clips


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=data_root(), help="The pothole recordings' folder."
    )
    parser.add_argument("--seed", type=int, default=1, help="Seed of the simulated clips.")
    args = parser.parse_args()
    if not (args.data / "gonzalez_2017_half" / "index.csv").exists():
        print(
            f"error: no gonzalez_2017_half/index.csv in {args.data} (use --data)", file=sys.stderr
        )
        return 2
    report("Real clips (González et al. 2017, half of the set)", read_clips(args.data))
    print()
    report(f"Simulated clips (simulators/ride.py, seed {args.seed})", simulated_clips(args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
