"""``smartstreets forecast backtest --window …``: a rolling-origin backtest over named windows,
printed per window and per series."""

import sys
from collections.abc import Sequence

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analytics.forecasting.calendar import Calendar
from analytics.forecasting.rolling import backtest_windows, window_table
from analytics.forecasting.scoring import WORSE_FACTOR, breakdown, methods_of
from analytics.forecasting.statistical import StatisticalParams
from analytics.forecasting.windows import Window

_SHORT = {
    "smartstreets": "smartstreets",
    "seasonal_naive": "seasonal naive",
    "four_week_mean": "4-week mean",
    "statistical": "MSTL/ETS",
}


def run_windows(
    history: pl.DataFrame,
    windows: Sequence[Window],
    horizon: int,
    calendar: Calendar,
    *,
    statistical: bool,
) -> pl.DataFrame:
    """Scored hours of every window, with a progress bar per window on stderr."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        tasks = {w.name: bar.add_task(w.name, total=len(w.days())) for w in windows}
        return backtest_windows(
            history,
            windows,
            horizon,
            calendar=calendar,
            statistical=StatisticalParams() if statistical else None,
            progress=lambda name, done, total: bar.update(tasks[name], completed=done, total=total),
        )


def print_windows(points: pl.DataFrame, output: str) -> None:
    """Per window: each method's MASE and 80% coverage, smartstreets' gain on the better naive
    baseline (and on the statistical model), and the series over twice the seasonal naive's
    error; then every series of every window. ``output`` is ``table`` or ``csv``."""
    per_series = breakdown(points, ("window",))
    if output == "csv":
        per_series.write_csv(sys.stdout)
        return
    methods = methods_of(points)
    console = Console()
    table = Table(title="Backtest by window: MASE (80% coverage)", title_justify="left")
    for column in ("window", "origins", "hours", *(_SHORT[m] for m in methods)):
        table.add_column(column, justify="left" if column == "window" else "right")
    table.add_column("vs naive", justify="right")
    if "statistical" in methods:
        table.add_column("vs MSTL/ETS", justify="right")
    table.add_column(f">{WORSE_FACTOR:g}x naive", justify="right")
    for r in window_table(points).iter_rows(named=True):
        cells = [r["window"], str(r["origins"]), str(r["hours"])]
        cells += [f"{r['mase_' + m]:.3f} ({r['cover_' + m]:.0%})" for m in methods]
        cells.append(f"{r['gain_naive']:+.1%}")
        if "statistical" in methods:
            cells.append(f"{r['gain_statistical']:+.1%}")
        cells.append(str(r["worse"]))
        table.add_row(*cells)
    console.print(table)
    series = Table(title="Per series: MASE and against the seasonal naive", title_justify="left")
    for column in ("window", "series", "hours", "smartstreets", "seasonal naive", "ratio"):
        series.add_column(column, justify="left" if column in ("window", "series") else "right")
    for r in per_series.iter_rows(named=True):
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}" + (" !" if r["worse"] else "")
        series.add_row(
            r["window"],
            r["series"],
            str(r["hours"]),
            f"{r['mase_smartstreets']:.3f}",
            f"{r['mase_seasonal_naive']:.3f}",
            ratio,
        )
    console.print(series)
