"""Benchmark: smartstreets' footfall forecasts against the two baselines on real Melbourne counts.

Rolls daily origins (local midnights) over a period of the City of Melbourne pedestrian counts
(39 sensors, 2012-2015), forecasts the next 24 hours from each with smartstreets, the weekly
seasonal naive and the four-week mean, and prints each method's overall MASE (scaled by each
sensor's in-sample seasonal naive error), MAE and 80% interval coverage, smartstreets'
improvement on the better baseline, and the wall time. Run from the repository root::

    .venv/bin/python bench/forecast.py [--first 2014-03-01] [--last 2014-08-31] [--per-series]
"""

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.forecasting.backtest import METHODS, backtest_points, summarise  # noqa: E402
from analytics.forecasting.calendars import victoria  # noqa: E402
from analytics.forecasting.io import localise  # noqa: E402
from analytics.forecasting.params import ForecastParams  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "footfall" / "melbourne_39sensors_2012_2015_hourly.csv.gz"


def melbourne(path: Path, tz: str) -> pl.DataFrame:
    """The Melbourne file as a history: ``series`` (sensor name), ``ts`` (UTC), ``count``.

    Naive local times are localised as ``smartstreets forecast`` does: nonexistent ones
    dropped, an ambiguous one taken as its first occurrence.
    """
    raw = pl.read_csv(path, schema_overrides={"count": pl.Float64})
    naive = pl.col("timestamp_local").str.to_datetime("%Y-%m-%dT%H:%M:%S")
    occurrence = pl.int_range(pl.len()).over("sensor", "timestamp_local")
    return raw.select(
        pl.col("sensor").alias("series"),
        localise(naive, tz, occurrence).alias("ts"),
        "count",
    ).drop_nulls("ts")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="The Melbourne counts (.csv.gz).")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2014, 3, 1))
    parser.add_argument("--last", type=date.fromisoformat, default=date(2014, 8, 31))
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads.")
    parser.add_argument("--per-series", action="store_true", help="Also print every sensor.")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"error: no such file {args.data}", file=sys.stderr)
        return 1
    calendar = victoria()
    started = time.perf_counter()
    history = melbourne(args.data, calendar.timezone)
    origins = (args.last - args.first).days + 1
    points = backtest_points(
        history,
        args.horizon,
        origins,
        calendar=calendar,
        last_origin=args.last,
        params=ForecastParams(threads=args.threads),
    )
    metrics = summarise(points)
    seconds = time.perf_counter() - started
    overall = {
        r["method"]: r for r in metrics.filter(pl.col("series").is_null()).iter_rows(named=True)
    }
    best = min(METHODS[1:], key=lambda m: overall[m]["mase"])
    print(
        f"Melbourne, {points['series'].n_unique()} sensors, {origins} daily origins "
        f"{args.first}..{args.last}, horizon {args.horizon} h, "
        f"{overall['smartstreets']['hours']} scored hours"
    )
    print(f"{'method':16s} {'MASE':>7s} {'MAE':>8s} {'cover80':>8s} {'vs best baseline':>17s}")
    for m in METHODS:
        row = overall[m]
        gain = 1 - row["mase"] / overall[best]["mase"]
        print(
            f"{m:16s} {row['mase']:7.3f} {row['mae']:8.1f} {row['coverage80']:8.1%} {gain:+17.1%}"
        )
    print(f"better baseline: {best}; wall time {seconds:.0f} s")
    if args.per_series:
        wide = metrics.filter(pl.col("series").is_not_null()).pivot(
            "method", index="series", values="mase"
        )
        with pl.Config(tbl_rows=100, tbl_width_chars=120, fmt_str_lengths=40):
            print(wide.sort("series"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
