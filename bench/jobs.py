"""Benchmark: each analytics job at council and national size, its figure against its target.

One subcommand per job; each generates its input (seeded, not timed), runs the job as the
platform runs it and prints the figure, the target, PASS or FAIL and the load average (other
benches may share the machine: figures are then pessimistic). Run from the repository root::

    .venv/bin/python bench/jobs.py routing [--bins 2000] [--vehicles 15] [--seconds 60]
                                           [--long-seconds 600]
    .venv/bin/python bench/jobs.py forecast [--counters 1000]
    .venv/bin/python bench/jobs.py potholes [--reports 1000000]
    .venv/bin/python bench/jobs.py coverage [--drives 10000] [--roads oakham|generated]

``routing`` plans one day twice with the same planner: within ``--seconds`` (the target) and
for ``--long-seconds`` (the reference, 10 minutes by default), and compares their costs.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Ahead of bench/ itself, whose ingest.py would otherwise shadow the ingest package.
sys.path.insert(0, str(REPO))

from bench.args import Parser, positive  # noqa: E402
from bench.jobs_run import coverage_job, forecast_job, potholes_job, routing_job  # noqa: E402


def main() -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="Seed of every generated input.")
    jobs = parser.add_subparsers(dest="job", required=True)
    routing = jobs.add_parser("routing", help="Plan one council's day.")
    routing.add_argument("--bins", type=positive, default=2000)
    routing.add_argument("--vehicles", type=positive, default=15)
    routing.add_argument("--seconds", type=positive, default=60, help="Target time to plan.")
    routing.add_argument(
        "--long-seconds", type=positive, default=600, help="The reference run's search time."
    )
    forecast = jobs.add_parser("forecast", help="Refresh 48-hour footfall forecasts.")
    forecast.add_argument("--counters", type=positive, default=1000)
    forecast.add_argument(
        "--profile", type=Path, help="Write a cProfile of the job (not the generation) here."
    )
    potholes = jobs.add_parser("potholes", help="Confirm potholes from bump reports.")
    potholes.add_argument("--reports", type=positive, default=1_000_000)
    potholes.add_argument(
        "--profile", type=Path, help="Write a cProfile of the job (not the generation) here."
    )
    potholes.add_argument(
        "--keep-samples",
        action="store_true",
        help="Keep each report's window of samples after scoring (as before the refresh dropped "
        "them): shows their memory.",
    )
    coverage = jobs.add_parser("coverage", help="Match drives' coverage tracks to segments.")
    coverage.add_argument("--drives", type=positive, default=10_000)
    coverage.add_argument(
        "--roads",
        choices=("oakham", "generated"),
        default="oakham",
        help="Oakham's real streets (OpenStreetMap) or the simulator's generated town.",
    )
    coverage.add_argument(
        "--profile", type=Path, help="Write a cProfile of the job (not the generation) here."
    )
    args = parser.parse_args()
    run = {
        "routing": routing_job,
        "forecast": forecast_job,
        "potholes": potholes_job,
        "coverage": coverage_job,
    }[args.job]
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
