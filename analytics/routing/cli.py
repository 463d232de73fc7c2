"""``smartstreets routes …``."""

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import psycopg
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from analytics.routing.cvrplib import InstanceError, solve_cvrp
from analytics.routing.errors import RoutingError
from analytics.routing.evaluate import BOUND, POLICIES, EvaluationParams, evaluate
from analytics.routing.io import plan_timezone, set_depot, set_windows
from analytics.routing.replay import replay_command
from analytics.routing.settings import RoutingSettings
from ingest.contract.decode import describe_validation_error
from ingest.db.connect import connect
from ingest.kernel.cli import DatabaseUrlOption, database_url_or_fail, fail

routes_app = typer.Typer(help="Collection routes.", no_args_is_help=True)


@routes_app.command("solve")
def routes_solve(
    instance: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A CVRPLIB instance in VRPLIB format (.vrp)."
    ),
    seconds: float = typer.Option(10.0, min=0.01, max=86400, help="Time limit of the search."),
    seed: int = typer.Option(1, help="Seed of the search."),
    vehicles: int | None = typer.Option(
        None,
        min=1,
        help="Vehicles available (default: the set's convention, k of '-kN' for the older sets,"
        " no limit for set X).",
    ),
) -> None:
    """Solve a CVRPLIB instance and print {"cost", "routes", "seconds"} as one JSON object.

    Routes list customer ids as numbered in the instance file (the depot excluded); distances
    are Euclidean rounded to the nearest integer, as CVRPLIB computes them.
    """
    try:
        solution = solve_cvrp(instance, seconds, seed, vehicles)
    except InstanceError as exc:
        fail(str(exc))
    if not solution.feasible:
        fail(f"no feasible solution found in {seconds} s")
    print(
        json.dumps({"cost": solution.cost, "routes": solution.routes, "seconds": solution.seconds})
    )


def routing_settings_or_fail(**overrides: object) -> RoutingSettings:
    try:
        return RoutingSettings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        fail(f"bad setting: {describe_validation_error(exc)}", 2)


def parse_latlon_or_fail(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(p) for p in text.split(","))
    except ValueError:
        fail(f"--depot: expected LAT,LON, got {text!r}", 2)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        fail(f"--depot: {text!r} is not a latitude,longitude", 2)
    return lat, lon


def _parse_window(text: str) -> tuple[str, tuple[dt.time, dt.time]]:
    match = re.fullmatch(r"([^=]+)=(\d\d):(\d\d)-(\d\d):(\d\d)", text.strip())
    try:
        if match is None:
            raise ValueError
        zone, h1, m1, h2, m2 = match.groups()
        early, late = dt.time(int(h1), int(m1)), dt.time(int(h2), int(m2))
    except ValueError:
        fail(f"--window: expected ZONE=HH:MM-HH:MM, got {text!r}", 2)
    if late <= early:
        fail(f"--window: {text!r} ends before it starts", 2)
    return zone, (early, late)


@routes_app.command("depot")
def routes_depot(
    council: str = typer.Option(..., help="Council slug."),
    lat: float = typer.Option(..., min=-90, max=90, help="Latitude of the depot."),
    lon: float = typer.Option(..., min=-180, max=180, help="Longitude of the depot."),
    name: str = typer.Option("depot", help="Name of the depot."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Register (or move) the depot where a council's vehicles start, tip and finish."""
    url = database_url_or_fail(database_url)
    try:
        with connect(url) as conn:
            plan_timezone(conn, council)
            set_depot(conn, council, lat, lon, name)
    except (RoutingError, psycopg.OperationalError) as exc:
        fail(str(exc).strip())
    print(f"depot of {council}: {lat:.6f},{lon:.6f}")


@routes_app.command("windows")
def routes_windows(
    council: str = typer.Option(..., help="Council slug."),
    window: list[str] = typer.Option(
        [], help="ZONE=HH:MM-HH:MM, repeatable; none clears them (e.g. high-street=07:00-10:00)."
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Set the local times within which each zone's bins must be emptied."""
    windows = dict(_parse_window(w) for w in window)
    url = database_url_or_fail(database_url)
    try:
        with connect(url) as conn:
            plan_timezone(conn, council)
            set_windows(conn, council, windows)
    except (RoutingError, psycopg.OperationalError) as exc:
        fail(str(exc).strip())
    print(f"{len(windows)} collection window(s) set for {council}")


@routes_app.command("evaluate")
def routes_evaluate(
    days: int = typer.Option(28, min=1, max=366, help="Days compared (after a warm-up)."),
    seed: int = typer.Option(1, help="Seed of the town, its litter and the route search."),
    seeds: list[int] = typer.Option(
        [], "--seeds", help="Several seeds, one table each (overrides --seed)."
    ),
    bins: int = typer.Option(150, min=5, max=2000, help="Bins in the simulated town."),
    iterations: int = typer.Option(
        3000,
        min=10,
        max=1_000_000,
        help="Route search iterations per plan (a count, not a time, so runs are reproducible).",
    ),
    horizon_days: int = typer.Option(
        5, min=1, max=14, help="Days ahead the multi-day policy chooses each bin's visit day in."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    replay: Path | None = typer.Option(
        None,
        "--replay",
        metavar="FILE.csv",
        help="Instead, replay real bins' daily fill (bin_id,date,fullness_0_10,"
        "fullness_threshold[,status] or bin_id,timestamp,fill_pct): smartstreets' lifts against "
        "the council's, holding each bin to the council's own time over its threshold.",
    ),
) -> None:
    """Replay a simulated town and compare fixed daily, fixed every-other-day, smartstreets'
    single-day and multi-day collection on the same litter: km driven, bins lifted, overflow
    bin-hours, crew hours.

    'foresight' runs the single-day planner on the true future fill (how far better forecasts
    alone could take it); 'lower bound' is km no policy can beat without overflow, and each
    row's gap to it is shown."""
    if replay is not None:
        replay_command(replay, as_json)
        return
    for s in seeds or [seed]:
        params = EvaluationParams(
            days=days, seed=s, bins=bins, iterations=iterations, horizon_days=horizon_days
        )
        _evaluate_one(params, as_json)


def _evaluate_one(params: EvaluationParams, as_json: bool) -> None:
    days, seed, bins = params.days, params.seed, params.bins
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as bar:
        tasks = {p: bar.add_task(p, total=days) for p in POLICIES}
        try:
            results = evaluate(params, lambda policy, day: bar.update(tasks[policy], completed=day))
        except RoutingError as exc:
            fail(str(exc))
    by = {r.policy: r for r in results}
    daily, bound = by["daily"], by[BOUND]

    def fewer(policy: str) -> float:
        return round(100 * (1 - by[policy].km / daily.km), 1) if daily.km else 0.0

    def gap(km: float) -> float | None:
        return round(100 * (km / bound.km - 1), 1) if bound.km else None

    if as_json:
        rows = [dict(dataclasses.asdict(r), gap_to_bound_pct=gap(r.km)) for r in results]
        summary = {"km_saved_vs_daily_pct": fewer("smartstreets")}
        summary["multiday_km_saved_vs_daily_pct"] = fewer("multi-day")
        print(json.dumps({"days": days, "seed": seed, "bins": bins, "policies": rows, **summary}))
        return
    table = Table(
        title=f"{days} days, {bins} bins, seed {seed}, horizon {params.horizon_days} days",
        title_justify="left",
    )
    columns = ("policy", "km driven", "vs daily", "gap to bound")
    for column in (*columns, "bins lifted", "overflow bin-hours", "crew hours"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for r in results:
        g = gap(r.km)
        table.add_row(
            r.policy,
            f"{r.km:.1f}",
            f"{-fewer(r.policy):+.1f}%",
            "" if g is None else f"{g:+.1f}%",
            str(r.bins_lifted),
            f"{r.overflow_bin_hours:.1f}",
            "" if r.policy == BOUND else f"{r.crew_hours:.1f}",
        )
    out = Console()
    out.print(table)
    out.print(
        f"Multi-day smartstreets drove {fewer('multi-day'):.1f}% fewer km than daily collection "
        f"(single-day {fewer('smartstreets'):.1f}%), with "
        f"{by['multi-day'].overflow_bin_hours:.1f} overflow bin-hours against "
        f"{daily.overflow_bin_hours:.1f}.\n"
        f"No policy without overflow can drive less than the lower bound, {bound.km:.1f} km "
        f"({fewer(BOUND):.1f}% fewer than daily): on the true litter, the least km per day "
        f"giving every window of days a tour of the depot and the bins that must be emptied "
        f"within it, and each bin's fewest emptyings times its shortest arc in "
        f"(analytics/routing/bound.py)."
    )
