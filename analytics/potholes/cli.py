"""``smartstreets potholes …``: the reference detector run over a phone's recorded trace."""

import csv
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analytics.potholes.assets import AssetError, import_assets
from analytics.potholes.confirm import ConfirmParams
from analytics.potholes.detector import DetectorParams, Sample, detect
from analytics.potholes.evaluate import EvaluationParams, evaluate
from analytics.potholes.evaluate_report import format_table, score_dict
from ingest.kernel.cli import DatabaseUrlOption, fail, on_database

potholes_app = typer.Typer(
    help="Potholes found in phones' accelerometer traces.", no_args_is_help=True
)

COLUMNS = (
    "timestamp",
    "latitude",
    "longitude",
    "speed",
    "accelerometerX",
    "accelerometerY",
    "accelerometerZ",
)
"""Columns a trace must have, in any order; others are ignored."""
OUTPUT_HEADER = ("timestamp", "latitude", "longitude", "severity")


class TraceError(ValueError):
    """A trace that cannot be read: the message names the line and column at fault."""


def read_trace(path: Path) -> Iterator[tuple[float, Sample]]:
    """Stream a trace CSV as ``(unix_seconds, sample)``, ``sample.t`` counting from the first row.

    Parameters
    ----------
    path
        CSV with a header holding at least ``COLUMNS``; time in Unix seconds, speed in m/s,
        acceleration in g with gravity included.

    Yields
    ------
    tuple[float, Sample]
        The row's Unix time and its sample; times relative to the first row keep full precision.

    Raises
    ------
    TraceError
        A missing column, a value that is not a finite number, or a time not after the last.
    """
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise TraceError(f"{path}: empty file, expected a header line")
        names = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise TraceError(f"{path}: missing column(s) {', '.join(missing)}")
        index = [names.index(c) for c in COLUMNS]
        start: float | None = None
        last = -math.inf
        for row in reader:
            if not row:
                continue  # a blank line, as some exporters leave at the end
            line = reader.line_num
            values = [_number(path, line, row, i, c) for i, c in zip(index, COLUMNS, strict=True)]
            t = values[0]
            if t <= last:
                raise TraceError(
                    f"{path}, line {line}: timestamp {row[index[0]].strip()} "
                    "is not after the previous one"
                )
            last = t
            start = t if start is None else start
            yield t, Sample(t - start, *values[1:])


def read_trace_or_fail(trace: Path) -> list[tuple[float, Sample]]:
    """The rows of a trace file, or a one-line error for a missing, unreadable or empty one."""
    if not trace.is_file():
        fail(f"{trace}: no such file")
    try:
        rows = list(read_trace(trace))
    except TraceError as exc:
        fail(str(exc))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        fail(f"{trace}: cannot read: {exc}")
    if not rows:
        fail(f"{trace}: empty trace, no samples after the header")
    return rows


def _number(path: Path, line: int, row: list[str], i: int, column: str) -> float:
    text = row[i].strip() if i < len(row) else ""
    try:
        value = float(text)
    except ValueError:
        raise TraceError(
            f"{path}, line {line}, column {column}: expected a number, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise TraceError(f"{path}, line {line}, column {column}: expected a finite number")
    return value


T = TypeVar("T")


@potholes_app.command("detect")
def potholes_detect(
    trace: Path = typer.Argument(
        ...,
        metavar="TRACE.csv",
        help="CSV with timestamp (Unix s), latitude, longitude, speed (m/s) and "
        "accelerometerX/Y/Z (g, gravity included); other columns are ignored.",
    ),
    params_threshold_g: float | None = typer.Option(
        None, help="Smallest vertical jolt (g) that may be a pothole (default: the detector's)."
    ),
) -> None:
    """Print one CSV row per jolt found: timestamp,latitude,longitude,severity.

    Severity is the jolt's peak vertical acceleration scaled to [0, 1] (1 at 3 g and above).
    """
    try:
        params = (
            DetectorParams()
            if params_threshold_g is None
            else DetectorParams(threshold_g=params_threshold_g)
        )
    except ValueError as exc:
        fail(f"--params-threshold-g: {exc}", 2)
    rows = read_trace_or_fail(trace)
    t0 = rows[0][0]
    events = detect([s for _, s in rows], params)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(OUTPUT_HEADER)
    for e in events:
        out.writerow((f"{t0 + e.t:.3f}", f"{e.lat:.6f}", f"{e.lon:.6f}", f"{e.severity:.3f}"))


@potholes_app.command("assets")
def potholes_assets(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="CSV (asset_id,kind,lat,lon[,radius_m]) or GeoJSON of Point features with "
        "properties asset_id, kind and radius_m; kind is speed_hump, manhole or level_crossing.",
    ),
    council: str = typer.Option(..., help="Council slug."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Import the council's road assets, whose jolts are not potholes (same ids are replaced)."""
    if not file.is_file():
        fail(f"{file}: no such file")
    n = on_database(database_url, lambda conn: import_assets(conn, council, file), AssetError)
    print(f"imported {n} assets for {council}")


@potholes_app.command("evaluate")
def potholes_evaluate(
    seed: int = typer.Option(..., help="First simulated town's seed."),
    towns: int = typer.Option(1, help="Towns to simulate (seeds SEED..SEED+N-1)."),
    trips: int = typer.Option(400, help="Trips per town."),
    merge_m: float = typer.Option(
        ConfirmParams().merge_m,
        help="Merge clusters of any heading whose centres are this close (m); 0 keeps "
        "each direction of travel apart.",
    ),
    min_devices: int = typer.Option(
        ConfirmParams().min_devices, help="Distinct phones needed to confirm a pothole."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Score confirmation on simulated towns, with and without the asset layer.

    Confirmed potholes are matched to true potholes within 15 m; a progress bar goes to stderr.
    """
    if towns < 1:
        fail("--towns: expected at least 1", 2)
    try:
        params = EvaluationParams(seeds=tuple(range(seed, seed + towns)), trips=trips)
    except ValueError as exc:
        fail(f"--trips: {exc}" if "trips" in str(exc) else str(exc), 2)
    try:
        confirm_params = ConfirmParams(merge_m=merge_m, min_devices=min_devices)
    except ValueError as exc:
        option = "--merge-m" if "merge_m" in str(exc) else "--min-devices"
        fail(f"{option}: {exc}", 2)
    console = Console(stderr=True)
    with Progress(
        TextColumn("simulating trips"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("trips", total=trips * towns)
        scores = evaluate(params, confirm_params, progress=lambda n: bar.advance(task, n))
    if as_json:
        print(json.dumps({name: score_dict(s) for name, s in scores.items()}, indent=2))
    else:
        print(format_table(scores))
