"""Benchmark: smartstreets' footfall forecasts against three baselines, across periods and cities.

For a source of real pedestrian counts (``--source``: Melbourne, 39 sensors 2012-2015, or
Auckland, 21 sensors 2019-2025; see ``bench/footfall_sources.py``) it rolls origins (local
midnights, every ``--stride`` days) over several windows spread over seasons, with and
without holidays, forecasts the next 24 hours from each with smartstreets, the weekly seasonal
naive, the four-week mean and a classical statistical model (MSTL with an ETS trend, from
statsforecast, refitted per series at every origin), all scored on the same hours, and prints
for each window: each method's MASE (scaled by each sensor's in-sample seasonal naive error)
and 80% interval coverage, smartstreets' improvement on the better of the two naive baselines
and on the statistical model, and how many sensors smartstreets forecasts more than twice as
badly as the seasonal naive. Run from the repository root::

    .venv/bin/python bench/forecast.py --source auckland [--data FILE] [--stride 3]
        [--windows NAME=YYYY-MM-DD..YYYY-MM-DD[/DAYS] ...] [--per-series] [--no-statistical]
"""

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.forecasting.params import ForecastParams  # noqa: E402
from analytics.forecasting.rolling import backtest_windows, window_table  # noqa: E402
from analytics.forecasting.scoring import WORSE_FACTOR, breakdown, methods_of  # noqa: E402
from analytics.forecasting.statistical import StatisticalParams  # noqa: E402
from analytics.forecasting.windows import Window  # noqa: E402
from bench.footfall_sources import SOURCES  # noqa: E402

SHORT = {
    "smartstreets": "smart",
    "seasonal_naive": "snaive",
    "four_week_mean": "4wk",
    "statistical": "stat",
}


def _windows(args: argparse.Namespace) -> list[Window]:
    if args.first or args.last:
        if not (args.first and args.last):
            raise SystemExit("error: --first and --last go together")
        return [Window(f"{args.first}..{args.last}", args.first, args.last, args.stride)]
    if args.windows:
        return [Window.parse(w, args.stride) for w in args.windows]
    return [Window(w.name, w.first, w.last, args.stride) for w in SOURCES[args.source].windows]


def _print_table(table: pl.DataFrame, methods: tuple[str, ...]) -> None:
    head = f"{'window':14s} {'orig':>4s} {'hours':>6s} {'sens':>4s}"
    head += "".join(f" {'MASE ' + SHORT[m]:>11s}" for m in methods)
    head += f" {'vs naive':>8s}" + (f" {'vs stat':>8s}" if "statistical" in methods else "")
    head += "".join(f" {'cov ' + SHORT[m]:>10s}" for m in methods)
    head += f" {'>2x':>4s} {'worst':>6s}"
    print(head)
    for r in table.iter_rows(named=True):
        line = f"{r['window']:14s} {r['origins']:4d} {r['hours']:6d} {r['series']:4d}"
        line += "".join(f" {r['mase_' + m]:11.3f}" for m in methods)
        line += f" {r['gain_naive']:+8.1%}"
        if "statistical" in methods:
            line += f" {r['gain_statistical']:+8.1%}"
        line += "".join(f" {r['cover_' + m]:10.1%}" for m in methods)
        worst = r["worst_ratio"]
        line += f" {r['worse']:4d} {worst if worst is not None else float('nan'):6.2f}"
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", choices=sorted(SOURCES), default="melbourne")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="The source's counts (.csv.gz); default: $SMARTSTREETS_FOOTFALL_<SOURCE>, "
        "else its usual place beside the checkout.",
    )
    parser.add_argument(
        "--windows",
        nargs="+",
        metavar="NAME=FIRST..LAST[/DAYS]",
        help="Windows of origins (default: the source's four, over seasons and holidays).",
    )
    parser.add_argument("--first", type=date.fromisoformat, help="One window from this date…")
    parser.add_argument("--last", type=date.fromisoformat, help="…to this one.")
    parser.add_argument("--stride", type=int, default=3, help="Days between origins.")
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads.")
    parser.add_argument(
        "--stat-weeks", type=int, default=4, help="Weeks the statistical model is fitted on."
    )
    parser.add_argument(
        "--no-statistical", action="store_true", help="Leave out the statistical model."
    )
    parser.add_argument("--per-series", action="store_true", help="Also print every sensor.")
    args = parser.parse_args()
    source = SOURCES[args.source]
    path = source.path(args.data)
    if not path.exists():
        print(
            f"error: no such file {path} (give --data FILE or set {source.env}; "
            "bench/footfall_sources.py says where the data come from)",
            file=sys.stderr,
        )
        return 1
    try:
        windows = _windows(args)
    except ValueError as exc:
        parser.error(str(exc))
    calendar = source.calendar()
    stat = None if args.no_statistical else StatisticalParams(train_weeks=args.stat_weeks)
    started = time.perf_counter()
    history = source.read(path, calendar.timezone)
    points = backtest_windows(
        history,
        windows,
        args.horizon,
        calendar=calendar,
        params=ForecastParams(threads=args.threads),
        statistical=stat,
        progress=lambda name, done, total: print(
            f"  {name}: {done}/{total} origins, {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        ),
    )
    seconds = time.perf_counter() - started
    methods = methods_of(points)
    print(
        f"{source.title}: {points['series'].n_unique()} sensors, horizon {args.horizon} h, "
        f"origins every {args.stride} days, every method scored on the same hours"
    )
    _print_table(window_table(points), methods)
    pooled = window_table(points.with_columns(pl.lit("all windows").alias("window")))
    _print_table(pooled.with_columns(pl.col("origins").cast(pl.Int64)), methods)
    print(
        f"vs naive: smartstreets' MASE below the better of seasonal naive and four-week mean; "
        f">2x: sensors where smartstreets' MASE is over {WORSE_FACTOR:g}x the seasonal "
        f"naive's; wall time {seconds:.0f} s"
    )
    if args.per_series:
        with pl.Config(tbl_rows=500, tbl_width_chars=160, fmt_str_lengths=32, tbl_cols=20):
            print(breakdown(points, ("window",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
