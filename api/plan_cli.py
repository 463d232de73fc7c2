"""``smartstreets routes plan``: a shift's plan as a table, JSON, GeoJSON or GPX, and the crews'
printable pages. It lives with the pages it renders; ``deploy.cli`` adds it to ``routes``."""

import datetime as dt
import json
from pathlib import Path

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from analytics.routing.cli import parse_latlon_or_fail, routing_settings_or_fail
from analytics.routing.errors import RoutingError
from analytics.routing.export import plan_geojson, plan_gpx
from analytics.routing.fill_words import visit_words
from analytics.routing.schema import Plan
from analytics.routing.shifts import plan_day
from analytics.routing.travel import TravelError
from api.map_queries import roads_credit, roads_in_bbox
from api.pages.route import route_map_bbox, route_page
from ingest.db.connect import connect
from ingest.db.council_profile import load_profile
from ingest.kernel.cli import DatabaseUrlOption, database_url_or_fail, fail


def _print_table(plan: Plan) -> None:
    console = Console()
    for route in plan.routes:
        table = Table(
            title=f"Vehicle {route.vehicle}: {len(route.stops)} bins, "
            f"{route.distance_m / 1000:.1f} km, {route.duration_s / 3600:.1f} h",
            title_justify="left",
        )
        for column in ("#", "bin", "street", "arrive", "fill", "reason"):
            table.add_column(column)
        zone = plan.shift_start.tzinfo
        for n, stop in enumerate(route.stops, start=1):
            table.add_row(
                str(n),
                stop.device_id,
                stop.street or stop.zone or "",
                f"{stop.arrival:%H:%M}",
                visit_words(
                    stop.fill_now_pct,
                    stop.fill_at_visit_pct,
                    stop.overflow_at,
                    stop.overflow_likely,
                    stop.arrival,
                    zone,
                ),
                stop.reason,
            )
        console.print(table)
    if plan.left_out:
        console.print(f"[bold red]{len(plan.left_out)} bins did not fit:[/]")
        for b in plan.left_out:
            console.print(f"  {b.device_id}: {b.reason}")
    console.print(f"{len(plan.skipped)} bins left for another day.")
    if plan.saving:
        s = plan.saving
        console.print(
            f"Saving: {s.plan_distance_m / 1000:.1f} km for {s.bins_planned} bins against "
            f"{s.all_bins_distance_m / 1000:.1f} km to empty all {s.bins_all}: "
            f"{s.distance_saved_pct:.0f}% less driving."
        )


def routes_plan(
    council: str = typer.Option(..., help="Council slug."),
    day: dt.datetime = typer.Option(
        ..., "--date", formats=["%Y-%m-%d"], help="Shift date (YYYY-MM-DD), local to the council."
    ),
    output: str = typer.Option(
        "table", "--format", help="table, json, geojson or gpx (on stdout)."
    ),
    html: Path | None = typer.Option(
        None, file_okay=False, help="Also write a printable page per vehicle into this folder."
    ),
    depot: str | None = typer.Option(None, help="Depot as LAT,LON (default: the registered one)."),
    vehicles: int | None = typer.Option(None, min=1, max=200, help="Vehicles available."),
    capacity: int | None = typer.Option(None, min=100, help="Litres per vehicle trip."),
    seconds: float | None = typer.Option(None, min=0.1, max=600, help="Route search time."),
    save: bool = typer.Option(True, help="Store the plan for crews and the API."),
    compare: bool = typer.Option(True, help="Also route all bins, to show the saving."),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Plan a shift: which bins need emptying, on which vehicle, in which order."""
    if output not in ("table", "json", "geojson", "gpx"):
        fail(f"--format: expected table, json, geojson or gpx, got {output!r}", 2)
    settings = routing_settings_or_fail(
        vehicles=vehicles, capacity_litres=capacity, seconds=seconds
    )
    where = parse_latlon_or_fail(depot) if depot else None
    url = database_url_or_fail(database_url)
    try:
        with connect(url) as conn:
            plan = plan_day(
                conn, council, day.date(), settings, depot=where, compare=compare, save=save
            )
            profile, credit = load_profile(conn, council), roads_credit(conn, council)
            roads = {
                r.vehicle: roads_in_bbox(
                    conn, council, route_map_bbox(plan, r.vehicle, settings.tile_url)
                )
                for r in plan.routes
                if html is not None
            }
    except (RoutingError, TravelError, psycopg.OperationalError) as exc:
        fail(str(exc).strip())
    if output == "json":
        print(plan.model_dump_json(indent=2))
    elif output == "geojson":
        print(json.dumps(plan_geojson(plan)))
    elif output == "gpx":
        print(plan_gpx(plan))
    else:
        _print_table(plan)
    if html is not None:
        html.mkdir(parents=True, exist_ok=True)
        for route in plan.routes:
            page = route_page(
                plan,
                route.vehicle,
                tile_url=settings.tile_url,
                roads=roads[route.vehicle],
                roads_credit=credit,
                profile=profile,
            )
            (html / f"{plan.council}-{plan.shift_date}-vehicle-{route.vehicle}.html").write_text(
                page, encoding="utf-8"
            )
