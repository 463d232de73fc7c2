"""Benchmark: how fast real litter bins fill, against the simulated town's bins.

Reads the shared Edinburgh (Enevo) and Wyndham (compactor) files at run time (never copied into
the project) and prints quantiles side by side:

* **daily fill, per bin** (physical % of the bin per day): Edinburgh's rise between collections
  summed per bin over the days it covers (each bin once, not each interval: a bin emptied daily
  would otherwise count seven times a week for one weekly bin); the simulated town's realised
  litter over the replayed days, weekly pattern, weather and events included;
* **per interval**, as the calibration has used so far (each interval between collections once);
* **days from empty to 80%**: Wyndham's cycles (a drop to 0 on the 0-10 gauge, then the first
  day at 8 or more), Edinburgh's ``80 / rate``, the simulator's ``80 / realised daily fill``;
* **days between collections** in Edinburgh (how often real litter bins are emptied).

Run from the repository root::

    .venv/bin/python bench/fill_rates.py [--seeds 1 2 3] [--days 28]
"""

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.routing.calibration import (  # noqa: E402
    edinburgh_bin_rates,
    edinburgh_fill_rates,
    edinburgh_intervals,
)
from simulators.waste import draw_truth  # noqa: E402
from simulators.world import build_world  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "waste"
EDINBURGH = DATA / "edinburgh_enevo_collections_2016.csv.gz"
WYNDHAM = DATA / "wyndham_compactor_bins_2018_2019.csv.gz"
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def wyndham_cycles(path: Path) -> list[float]:
    """Days from each emptying (a reading of 0 after a higher one) to the first reading of 8
    or more on the 0-10 gauge, cycles that reach it only."""
    frame = pl.read_csv(path, try_parse_dates=True).sort("bin_id", "date")
    cycles: list[float] = []
    for _, group in frame.group_by("bin_id", maintain_order=True):
        days = group["date"].to_list()
        level = group["fullness_0_10"].to_list()
        emptied = None
        for k in range(1, len(level)):
            if level[k] == 0 and level[k - 1] > 0:
                emptied = days[k]
            elif emptied is not None and level[k] >= 8:
                cycles.append(float((days[k] - emptied).days))
                emptied = None
    return cycles


def simulated(seeds: list[int], days: int, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean daily fill (realised) and per-bin-day fill of the evaluation's towns."""
    per_bin, per_day = [], []
    for seed in seeds:
        world = build_world("evaluation", seed=seed, bins=bins, counters=0)
        truth = draw_truth(world.town.bins, date(2026, 9, 7), days, seed)
        steps_per_day = 24 * 60 // truth.step_min
        daily = truth.increments[:, : days * steps_per_day].reshape(len(world.town.bins), days, -1)
        daily = daily.sum(axis=2)
        per_bin.append(daily.mean(axis=1))
        per_day.append(daily.ravel())
    return np.concatenate(per_bin), np.concatenate(per_day)


def row(name: str, values: np.ndarray | list[float]) -> str:
    q = np.quantile(np.asarray(values, dtype=np.float64), QUANTILES)
    cells = " ".join(f"{v:>6.1f}" for v in q)
    return f"{name:<52} {cells}  (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--bins", type=int, default=150)
    args = parser.parse_args()
    for path in (EDINBURGH, WYNDHAM):
        if not path.exists():
            sys.exit(f"no data at {path}")
    per_bin, per_day = simulated(args.seeds, args.days, args.bins)
    ed_bins = np.asarray(edinburgh_bin_rates(EDINBURGH))
    header = " ".join(f"{'p' + str(round(100 * q)):>6}" for q in QUANTILES)
    print(f"{'':<52} {header}")
    print("physical fill, % of the bin per day")
    print(row("  Edinburgh, per bin (time-weighted)", ed_bins))
    print(row("  Edinburgh, per interval between collections", edinburgh_fill_rates(EDINBURGH)))
    print(row("  simulator, per bin (realised mean)", per_bin))
    print(row("  simulator, per bin-day", per_day))
    print("days from empty to 80%")
    print(row("  Wyndham compactors, cycles (0 -> 8/10)", wyndham_cycles(WYNDHAM)))
    print(row("  Edinburgh, 80 / per-bin rate", 80 / np.maximum(ed_bins, 1.0)))
    print(row("  simulator, 80 / per-bin rate", 80 / np.maximum(per_bin, 1.0)))
    print("days between collections")
    print(row("  Edinburgh", edinburgh_intervals(EDINBURGH)))
    due = float(np.mean(80 / np.maximum(per_bin, 1.0) <= 2.0))
    print(f"\nsimulated bins reaching 80% from empty within 2 days: {100 * due:.0f}%")


if __name__ == "__main__":
    main()
