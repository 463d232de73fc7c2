"""Solve capacitated vehicle routing instances in VRPLIB format with PyVRP.

Distances are Euclidean rounded to the nearest integer (EUC_2D), as CVRPLIB computes them, so
costs compare directly with CVRPLIB's best-known solutions.
"""

import re
import time
from dataclasses import dataclass
from pathlib import Path

from pyvrp import read, solve
from pyvrp.stop import MaxRuntime

from ingest.kernel.params import require, require_in


class InstanceError(ValueError):
    """A file that is not a usable VRPLIB instance."""


@dataclass(frozen=True)
class CvrpSolution:
    """A solution: its cost, and per route the customer ids as numbered in the instance file."""

    cost: int
    routes: list[list[int]]
    seconds: float
    feasible: bool


def _node_ids(path: Path) -> tuple[int, list[int]]:
    """The depot's id and the customers' ids, in file order."""
    text = path.read_text(encoding="utf-8", errors="replace")
    coords = re.search(r"NODE_COORD_SECTION\s*\n(.*?)(?:\n[A-Z_]+_SECTION|\nEOF|\Z)", text, re.S)
    depot = re.search(r"DEPOT_SECTION\s*\n\s*(-?\d+)", text)
    dimension = re.search(r"DIMENSION\s*:\s*(\d+)", text)
    if depot is None or (coords is None and dimension is None):
        raise InstanceError(
            f"{path} has no DEPOT_SECTION, or neither NODE_COORD_SECTION nor DIMENSION"
        )
    if coords is not None:
        ids = [int(line.split()[0]) for line in coords.group(1).splitlines() if line.strip()]
    else:  # explicit edge weights: nodes are numbered 1..DIMENSION
        assert dimension is not None
        ids = list(range(1, int(dimension.group(1)) + 1))
    depot_id = int(depot.group(1))
    if not ids or ids[0] != depot_id:
        raise InstanceError(f"{path}: the depot must be the first node")
    return depot_id, ids[1:]


def instance_name(path: Path) -> str:
    """The instance's ``NAME``, else the file name without its suffix."""
    head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    match = re.search(r"^\s*NAME\s*:\s*(\S+)", head, re.M)
    return match.group(1) if match else path.stem


def fleet_size(path: Path) -> int | None:
    """How many vehicles an instance allows, by its set's convention; ``None`` for no limit.

    The one place where CVRPLIB's fleet conventions are decided:

    - Set X (Uchoa et al. 2017, ``X-n101-k25``): the number of routes is free. ``k`` is only
      the fewest vehicles the demand needs, and several best-known solutions use more routes
      (X-n101-k25's has 26), so there is no limit.
    - The older sets (A, B, E, F, M, P and the like, ``A-n32-k5``): ``k`` in the name, or
      "No of trucks" in the comment, is the fleet, and the best-known costs use at most that
      many routes.
    - Anything else without a ``k`` (XML100, the XXL sets, our own files): no limit.
    """
    name = instance_name(path)
    if re.match(r"X-n\d+-k\d+$", name):
        return None
    head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    match = re.search(r"No of trucks:\s*(\d+)", head) or re.search(r"-k(\d+)$", name)
    return int(match.group(1)) if match else None


def solve_cvrp(
    path: Path, seconds: float, seed: int = 1, vehicles: int | None = None
) -> CvrpSolution:
    """Solve the instance at ``path`` for ``seconds`` with PyVRP's hybrid genetic search.

    Parameters
    ----------
    path
        A VRPLIB ``.vrp`` file with one depot, first among the nodes.
    seconds
        Wall-clock time limit of the search.
    seed
        Seed of the search; the same seed and time give the same result on the same machine
        load (the time limit makes runs machine-dependent).
    vehicles
        How many vehicles may be used; by default the fleet its set's convention gives
        (:func:`fleet_size`: ``k`` for the older sets, no limit for set X), where no limit
        means as many vehicles as there are customers.
    """
    require_in("seconds", seconds, 0, 86_400, lo_open=True)
    _, customers = _node_ids(path)
    try:
        data = read(str(path), round_func="round")
    except (ValueError, KeyError, IndexError) as exc:
        raise InstanceError(f"cannot read {path}: {exc}") from exc
    if data.num_depots != 1 or data.num_clients != len(customers):
        raise InstanceError(f"{path}: expected one depot and {len(customers)} customers")
    fleet = vehicles if vehicles is not None else fleet_size(path)
    if fleet is not None:
        require(fleet >= 1, "Expected vehicles >= 1.")
        data = data.replace(vehicle_types=[data.vehicle_type(0).replace(num_available=fleet)])
    started = time.perf_counter()
    result = solve(data, stop=MaxRuntime(seconds), seed=seed, display=False)
    elapsed = time.perf_counter() - started
    routes = [
        [customers[activity.idx] for activity in route if activity.is_client()]
        for route in result.best.routes()
    ]
    return CvrpSolution(round(result.cost()), routes, round(elapsed, 3), result.is_feasible())
