"""``smartstreets routes …``."""

import json
from pathlib import Path

import typer

from analytics.routing.cvrplib import InstanceError, solve_cvrp
from deploy.cli_support import fail

routes_app = typer.Typer(help="Collection routes.", no_args_is_help=True)


@routes_app.command("solve")
def routes_solve(
    instance: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A CVRPLIB instance in VRPLIB format (.vrp)."
    ),
    seconds: float = typer.Option(10.0, min=0.01, max=86400, help="Time limit of the search."),
    seed: int = typer.Option(1, help="Seed of the search."),
    vehicles: int | None = typer.Option(
        None, min=1, help="Vehicles available (default: the instance's own fleet, '-kN')."
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
