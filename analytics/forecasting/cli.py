"""``smartstreets forecast …``: forecasts from a CSV of counts, and their backtest."""

import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analytics.forecasting.backtest import METHODS, backtest
from analytics.forecasting.calendar import Calendar, zone_exists
from analytics.forecasting.calendars import CALENDARS
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.io import read_events, read_history, write_forecasts
from analytics.forecasting.model import MAX_HORIZON, forecast_series
from analytics.forecasting.weather import read_weather
from analytics.forecasting.windows import Window
from analytics.forecasting.windows_report import print_windows, run_windows
from ingest.kernel.cli import fail

forecast_app = typer.Typer(
    help="Hourly footfall forecasts with 80% prediction intervals, and their backtest.",
    no_args_is_help=True,
)

HistoryOption = typer.Option(
    ..., "--history", help="CSV of hourly counts with columns series,timestamp,count."
)
TzOption = typer.Option(
    None,
    "--tz",
    help="IANA time zone of naive timestamps (required for them), and of the weekly pattern "
    "(default: the calendar's, else UTC).",
)
CalendarOption = typer.Option(
    "none",
    "--calendar",
    help="Built-in holidays: vic (Victoria 2012-2015), akl (Auckland 2019-2025), england or none.",
)
EventsOption = typer.Option(
    None, "--events", help="CSV of the council's events: date,name[,uplift] (local dates)."
)


def _calendar(name: str, tz: str | None, events: Path | None) -> Calendar:
    """The calendar the options describe, or a one-line error."""
    if name not in CALENDARS:
        fail(f"--calendar: expected {', '.join(CALENDARS)}, got {name!r}", 2)
    if tz is not None and not zone_exists(tz):
        fail(f"--tz: unknown time zone {tz!r}", 2)
    calendar = CALENDARS[name]()
    if tz is not None:
        calendar = calendar.with_timezone(tz)
    if events is not None:
        try:
            calendar = calendar.with_events(read_events(events))
        except HistoryError as exc:
            fail(str(exc))
    return calendar


def _history(path: Path, tz: str | None) -> pl.DataFrame:
    if not path.is_file():
        fail(f"--history: no such file {str(path)!r}", 2)
    try:
        return read_history(path, tz)
    except HistoryError as exc:
        fail(str(exc))


def _check_range(option: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        fail(f"{option}: expected {low} to {high}, got {value}", 2)


@forecast_app.command("predict")
def forecast_predict(
    history: Path = HistoryOption,
    horizon: int = typer.Option(48, "--horizon", help=f"Hours to forecast (1-{MAX_HORIZON})."),
    tz: str | None = TzOption,
    calendar: str = CalendarOption,
    events: Path | None = EventsOption,
    weather: Path | None = typer.Option(
        None,
        "--weather",
        help="Hourly weather, past and forecast: Open-Meteo JSON or CSV ts,temp_c,rain_mm.",
    ),
) -> None:
    """Train on the whole file; print CSV series,timestamp,forecast,lo80,hi80 on stdout.

    Each series gets the HORIZON hours after its own last timestamp.
    Timestamps are printed in local time with their UTC offset.
    lo80..hi80 is the 80% prediction interval.
    """
    _check_range("--horizon", horizon, 1, MAX_HORIZON)
    cal = _calendar(calendar, tz, events)
    frame = _history(history, tz)
    try:
        hourly = read_weather(weather) if weather is not None else None
        forecasts = forecast_series(frame, horizon, calendar=cal, weather=hourly)
    except HistoryError as exc:
        fail(str(exc))
    write_forecasts(forecasts, sys.stdout, cal.timezone)


def _print_metrics(metrics: pl.DataFrame, console: Console) -> None:
    table = Table(title="Backtest: MASE, MAE and 80% interval coverage", title_justify="left")
    for column in ("series", "method", "hours", "MASE", "MAE", "coverage"):
        table.add_column(column, justify="left" if column in ("series", "method") else "right")
    for row in metrics.iter_rows(named=True):
        table.add_row(
            row["series"] or "[bold]overall[/]",
            row["method"],
            str(row["hours"]),
            f"{row['mase']:.3f}",
            f"{row['mae']:.1f}",
            f"{row['coverage80']:.1%}",
        )
    console.print(table)
    overall = {
        r["method"]: r["mase"]
        for r in metrics.filter(pl.col("series").is_null()).iter_rows(named=True)
    }
    best = min(METHODS[1:], key=lambda m: overall[m])
    gain = 1 - overall["smartstreets"] / overall[best]
    console.print(f"smartstreets MASE is {gain:.1%} below the better baseline ({best}).")


def _backtest_windows(
    frame: pl.DataFrame,
    specs: list[str],
    horizon: int,
    cal: Calendar,
    statistical: bool,
    output: str,
) -> None:
    try:
        windows = [Window.parse(spec) for spec in specs]
    except ValueError as exc:
        fail(f"--window: {exc}", 2)
    try:
        points = run_windows(frame, windows, horizon, cal, statistical=statistical)
    except (HistoryError, ValueError) as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(f"--statistical: {exc}")
    print_windows(points, output)


@forecast_app.command("backtest")
def forecast_backtest(
    history: Path = HistoryOption,
    horizon: int = typer.Option(
        24, "--horizon", help=f"Hours forecast from each origin (1-{MAX_HORIZON})."
    ),
    origins: int = typer.Option(
        30, "--origins", help="Daily origins (local midnights), the last N days."
    ),
    tz: str | None = TzOption,
    calendar: str = CalendarOption,
    events: Path | None = EventsOption,
    last_origin: datetime | None = typer.Option(
        None,
        "--last-origin",
        formats=["%Y-%m-%d"],
        help="Local date of the last origin (default: the last whose horizon is in the file).",
    ),
    output: str = typer.Option("table", "--format", help="table, or csv of the metrics."),
    window: list[str] = typer.Option(
        [],
        "--window",
        metavar="NAME=FIRST..LAST[/DAYS]",
        help="Instead of the last N days: origins from FIRST to LAST (local dates), every DAYS "
        "days (default 1); repeat for several windows, scored per window and per series.",
    ),
    statistical: bool = typer.Option(
        False, "--statistical", help="With --window: also score MSTL/ETS (statsforecast)."
    ),
) -> None:
    """Backtest over daily origins: MASE, MAE and 80% coverage, per series and overall.

    Compares smartstreets with the seasonal naive and the four-week mean.
    Origins are local midnights; the model is refit weekly.
    MASE divides by each series' in-sample seasonal naive error.
    Scored hours have a count and a count a week earlier: outages are not scored.
    """
    _check_range("--horizon", horizon, 1, MAX_HORIZON)
    _check_range("--origins", origins, 1, 3650)
    if output not in ("table", "csv"):
        fail(f"--format: expected table or csv, got {output!r}", 2)
    cal = _calendar(calendar, tz, events)
    frame = _history(history, tz)
    if window:
        _backtest_windows(frame, window, horizon, cal, statistical, output)
        return
    last: date | None = last_origin.date() if last_origin else None
    columns = (TextColumn("backtest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("backtest", total=origins)
        try:
            metrics = backtest(
                frame,
                horizon,
                origins,
                calendar=cal,
                last_origin=last,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except HistoryError as exc:
            bar.stop()
            fail(str(exc))
    if output == "csv":
        metrics.write_csv(sys.stdout)
    else:
        _print_metrics(metrics, Console())
