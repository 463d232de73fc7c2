"""``smartstreets bins …``: when bins reach a fill threshold, from a CSV of their readings."""

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from analytics.routing.fill_backtest import METHODS, backtest
from analytics.routing.fill_boost import forecast_bins
from analytics.routing.fill_readings import FillReading
from ingest.kernel.cli import fail

bins_app = typer.Typer(help="Bin fill forecasts from a CSV of readings.", no_args_is_help=True)

_COLUMNS = ("bin_id", "timestamp", "fill_pct")
HistoryOption = typer.Option(
    ...,
    "--history",
    help="CSV with bin_id,timestamp,fill_pct (RFC 3339 with offset, or YYYY-MM-DD).",
)
ThresholdOption = typer.Option(
    "80", "--threshold", metavar="PCT", help="Fill (percent, above 0, at most 100) that is full."
)


def _number(text: str, name: str, lo: float, hi: float) -> float:
    """A number in ``(lo, hi]`` from an option's text, or a one-line error (exit 2)."""
    try:
        value = float(text)
    except ValueError:
        fail(f"{name}: expected a number, got {text!r}", 2)
    if not lo < value <= hi:
        fail(f"{name}: expected a number above {lo:g} and at most {hi:g}, got {text}", 2)
    return value


def _when(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset, or a plain date (midnight UTC)."""
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise ValueError("no UTC offset")
    return ts


def read_history(path: Path) -> dict[str, list[FillReading]]:
    """Readings per bin from the CSV, or a one-line error."""
    if not path.is_file():
        fail(f"no such file: {path}")
    try:
        frame = pl.read_csv(path, infer_schema_length=0)  # all text: parsed and checked here
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: unreadable CSV: {str(exc).splitlines()[0] if str(exc) else exc}")
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        fail(f"{path}: missing column(s): {', '.join(missing)}")
    out: dict[str, list[FillReading]] = {}
    for line, (bin_id, stamp, fill) in enumerate(frame.select(_COLUMNS).iter_rows(), start=2):
        if not bin_id or stamp is None or fill is None:
            fail(f"{path}:{line}: empty bin_id, timestamp or fill_pct")
        try:
            ts = _when(stamp)
        except ValueError:
            fail(f"{path}:{line}: unparseable timestamp {stamp!r}")
        try:
            pct = float(fill)
        except ValueError:
            fail(f"{path}:{line}: fill_pct is not a number: {fill!r}")
        if not 0 <= pct <= 100:
            fail(f"{path}:{line}: fill_pct {pct:g} outside 0-100")
        out.setdefault(bin_id, []).append(FillReading(ts, pct))
    if not out:
        fail(f"{path}: no readings")
    return out


def _iso(ts: datetime | None) -> str:
    return ts.isoformat() if ts is not None else ""


@bins_app.command("forecast")
def bins_forecast(
    history: Path = HistoryOption,
    threshold: str = ThresholdOption,
    horizon_days: str = typer.Option(
        "14", "--horizon-days", metavar="D", help="How far ahead to look, in days (at most 366)."
    ),
) -> None:
    """Print CSV bin_id,last_reading,fill_now_pct,full_at,full_lo80,full_hi80: when each bin
    first reaches the threshold, with an 80% interval; empty when not within the horizon."""
    pct = _number(threshold, "--threshold", 0, 100)
    days = _number(horizon_days, "--horizon-days", 0, 366)
    histories = read_history(history)
    print("bin_id,last_reading,fill_now_pct,full_at,full_lo80,full_hi80")
    for f in forecast_bins(histories, pct, horizon_days=days):
        print(
            f"{f.bin_id},{_iso(f.last_reading)},{f.fill_now_pct:g},{_iso(f.full_at)},"
            f"{_iso(f.full_lo)},{_iso(f.full_hi)}"
        )


def _table(rows: Sequence[tuple[str, str]]) -> Table:
    table = Table(show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for row in rows:
        table.add_row(*row)
    return table


@bins_app.command("backtest")
def bins_backtest(
    history: Path = HistoryOption,
    threshold: str = ThresholdOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead."),
) -> None:
    """Backtest the forecasts from daily origins: mean absolute error in days to the threshold
    against two baselines (the bin's median past cycle less the days since its last emptying;
    its mean daily rise from the current fill), and the 80% interval's coverage."""
    pct = _number(threshold, "--threshold", 0, 100)
    histories = read_history(history)
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=as_json or len(histories) < 20) as bar:
        task = bar.add_task("backtest", total=len(histories))
        result = backtest(histories, pct, on_bin=lambda _: bar.advance(task))
    if as_json:
        print(json.dumps(result.as_dict()))
        return
    rows = [("bins scored", str(result.bins)), ("origins scored", str(result.origins))]
    rows += [(f"mae_days {m}", f"{result.mae_days[m]:.2f}") for m in METHODS]
    rows += [
        ("improvement over better baseline", f"{result.improvement_pct:.1f}%"),
        ("80% interval coverage", f"{result.coverage:.3f}"),
    ]
    Console().print(_table(rows))
