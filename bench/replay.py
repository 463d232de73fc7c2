"""Benchmark: Wyndham City's 33 solar compactors replayed under smartstreets' lift policy.

Reads the shared Wyndham file at run time (never copied into the project), recovers the
council's lifts and the daily litter, replays smartstreets' policy on it
(:mod:`analytics.routing.replay`) and prints lifts, days at or over threshold, the longest such
run, allowance violations and overflow days: first the default replay, then variants that show
the trade-off between lifts and overflow. Run from the repository root::

    .venv/bin/python bench/replay.py [--data PATH]  # default: the shared Wyndham file
"""

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.routing.replay import (  # noqa: E402
    ReplayParams,
    ReplayResult,
    pct_fewer,
    replay,
    replay_command,
)
from analytics.routing.replay_io import read_replay  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "waste" / "wyndham_compactor_bins_2018_2019.csv.gz"
VARIANTS = {
    "default (daily forecast, q0.9, due, spread)": ReplayParams(),
    "lift ahead of the threshold": ReplayParams(lift="ahead"),
    "upper quantile 0.95": ReplayParams(upper_quantile=0.95),
    "upper quantile 0.95, 56 days of history": ReplayParams(upper_quantile=0.95, history_days=56),
    "fill model (fit_fill_model)": ReplayParams(forecaster="fill-model"),
    "arrivals as read (no spreading)": ReplayParams(spread=False),
}


def summary(name: str, result: ReplayResult) -> str:
    """One line: lifts, % fewer, days over, longest run, violations, overflow days."""
    c, s = result.council, result.smartstreets
    worse = sum(b.smartstreets.overflow_days > b.council.overflow_days for b in result.bins)
    return (
        f"{name:<44} {c.lifts:>6} {s.lifts:>6} {pct_fewer(c.lifts, s.lifts):>6.1f}% "
        f"{c.over_days:>6} {s.over_days:>6} {c.longest_over_run:>4} {s.longest_over_run:>4} "
        f"{len(result.violations):>4} {c.overflow_days:>5} {s.overflow_days:>5} {worse:>5}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="The Wyndham file.")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"no data at {args.data}: pass --data")
    replay_command(args.data, as_json=False)
    series = read_replay(args.data)
    censored = sum(b.censored_days for b in replay(series).bins)
    print(
        f"\n{len(series)} bins; {censored} bin-days stuck at 10/10 (arrivals unknown, taken as 0)"
    )
    print(
        f"\n{'variant':<44} {'lifts':>6} {'':>6} {'fewer':>7} {'days over':>13} "
        f"{'run':>9} {'viol':>4} {'overflow':>11} {'worse':>5}"
    )
    print(
        f"{'':<44} {'cncl':>6} {'smart':>6} {'':>7} {'cncl':>6} {'smart':>6} "
        f"{'cncl':>4} {'smrt':>4} {'':>4} {'cncl':>5} {'smart':>5} {'bins':>5}"
    )
    for name, params in VARIANTS.items():
        print(summary(name, replay(series, params)))


if __name__ == "__main__":
    main()
