"""Benchmark: server-side pothole confirmation, end to end on simulated towns.

Drives ``--trips`` random trips through each generated town (seeds ``1..--towns``) with a pool of
``--phones`` phones at 20, 50 or 100 Hz; the reference detector's ``bump`` reports go through
``confirm`` once with the council's asset layer (the towns' speed humps and manholes) and once
without it, so that the detector and clustering alone are visible. Confirmed potholes are matched
to true potholes within 15 m. Run from the repository root::

    .venv/bin/python bench/potholes.py [--towns 3] [--trips 500] [--phones 250]
"""

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Ahead of bench/ itself, whose ingest.py would otherwise shadow the ingest package.
sys.path.insert(0, str(REPO))

from analytics.potholes.confirm import ConfirmParams  # noqa: E402
from analytics.potholes.evaluate import EvaluationParams, evaluate  # noqa: E402
from analytics.potholes.evaluate_report import format_table  # noqa: E402

TARGETS = "precision >= 0.90, recall (>= 5 phones) >= 0.85, humps confirmed <= 5%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=3, help="Generated towns (seeds 1..N).")
    parser.add_argument("--trips", type=int, default=500, help="Trips per town.")
    parser.add_argument("--phones", type=int, default=250, help="Distinct phones per town.")
    parser.add_argument("--min-devices", type=int, default=3, help="Phones that confirm.")
    args = parser.parse_args()
    if args.towns < 1:
        parser.error("--towns must be at least 1")
    params = EvaluationParams(
        seeds=tuple(range(1, args.towns + 1)), trips=args.trips, phones=args.phones
    )
    started = time.perf_counter()
    scores = evaluate(params, ConfirmParams(min_devices=args.min_devices))
    print(
        f"Confirmation on {args.towns} towns x {args.trips} trips, {args.phones} phones per town "
        f"at {'/'.join(f'{r:g}' for r in params.rates_hz)} Hz, confirm with "
        f">= {args.min_devices} phones; match within {params.match_m:g} m"
    )
    print(format_table(scores))
    print(
        "precision = confirmed within 15 m of a true pothole / confirmed; recall>=5 = potholes "
        "hit by >= 5 distinct phones\n(outside the first/last 200 m of their trips, which phones "
        "keep to themselves) that were confirmed;\nincl. ends = the same counting hits in trip "
        "ends too (the cost of that privacy rule); recall all = potholes\nhit at least once; "
        "humps conf. = humps hit by >= 5 phones with a false confirmed pothole on them."
    )
    print(f"Targets: {TARGETS}. Wall time {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
