"""Solving CVRPLIB instances: feasible, every customer once, the cost CVRPLIB would compute."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.routing.cvrplib import InstanceError, fleet_size, solve_cvrp
from tests.conftest import REPO, shared_data

CVRPLIB = shared_data("cvrplib")
# Set X is not in the shared data (no licence to redistribute it): a folder of its .vrp files,
# where SMARTSTREETS_CVRPLIB_X points or beside the checkout.
CVRPLIB_X = Path(os.environ.get("SMARTSTREETS_CVRPLIB_X") or REPO.parent / "cvrplib-x")

# A small instance of our own, so the test runs without the shared data: 6 customers,
# capacity 10, depot at the origin.
TINY = """NAME : tiny-n7-k2
TYPE : CVRP
DIMENSION : 7
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 10 0
3 12 3
4 11 -4
5 -10 0
6 -12 2
7 -9 -5
DEMAND_SECTION
1 0
2 4
3 3
4 3
5 5
6 2
7 3
DEPOT_SECTION
1
-1
EOF
"""


def test_tiny_instance_is_solved_with_file_ids(tmp_path: Path) -> None:
    """Two routes, one per side of the depot, with customers numbered as in the file and the
    cost of rounded Euclidean distances."""
    path = tmp_path / "tiny.vrp"
    path.write_text(TINY)
    assert fleet_size(path) == 2
    solution = solve_cvrp(path, 0.5, seed=1)
    assert solution.feasible
    assert sorted(c for r in solution.routes for c in r) == [2, 3, 4, 5, 6, 7]
    assert sorted(sorted(r) for r in solution.routes) == [[2, 3, 4], [5, 6, 7]]
    xy = {1: (0, 0), 2: (10, 0), 3: (12, 3), 4: (11, -4), 5: (-10, 0), 6: (-12, 2), 7: (-9, -5)}
    cost = sum(
        round(math.dist(xy[a], xy[b]))
        for r in solution.routes
        for a, b in zip([1, *r], [*r, 1], strict=True)
    )
    assert solution.cost == cost


def test_cli_prints_one_json_object(tmp_path: Path) -> None:
    """`routes solve` prints cost, routes and seconds; a broken file is a one-line error."""
    path = tmp_path / "tiny.vrp"
    path.write_text(TINY)
    done = subprocess.run(
        [sys.executable, "-m", "deploy", "routes", "solve", str(path), "--seconds", "0.3"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    out = json.loads(done.stdout)
    assert set(out) == {"cost", "routes", "seconds"} and out["cost"] > 0
    broken = tmp_path / "broken.vrp"
    broken.write_text("NAME : x\nDIMENSION : 3\n")
    bad = subprocess.run(
        [sys.executable, "-m", "deploy", "routes", "solve", str(broken)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("error: ")
    assert "Traceback" not in bad.stderr
    with pytest.raises(InstanceError):
        solve_cvrp(broken, 0.1)


@pytest.mark.skipif(CVRPLIB is None, reason="needs the shared CVRPLIB instances")
def test_small_cvrplib_instance_reaches_its_best_known_cost() -> None:
    """P-n16-k8 (15 customers, 8 vehicles) is solved to its best-known cost of 450."""
    assert CVRPLIB is not None
    solution = solve_cvrp(CVRPLIB / "P" / "P-n16-k8.vrp", 1.0, seed=1)
    assert solution.cost == 450 and len(solution.routes) <= 8


# Three pairs of customers 100 apart in three directions, 6 units of demand per pair, vehicles
# of 10: two vehicles suffice (k = 2) but three routes, one per direction, are much shorter.
THREE_WAYS = """NAME : {name}
TYPE : CVRP
DIMENSION : 7
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 100 0
3 100 4
4 -50 87
5 -54 85
6 -50 -87
7 -54 -85
DEMAND_SECTION
1 0
2 3
3 3
4 3
5 3
6 3
7 3
DEPOT_SECTION
1
-1
EOF
"""


@pytest.mark.parametrize(
    ("name", "fleet"),
    [("X-n101-k25", None), ("A-n32-k5", 5), ("E-n101-k8", 8), ("P-n16-k8", 8), ("mine", None)],
)
def test_fleet_follows_the_sets_convention(tmp_path: Path, name: str, fleet: int | None) -> None:
    """Set X leaves the number of routes free; the older sets' k is the fleet."""
    path = tmp_path / "instance.vrp"
    path.write_text(THREE_WAYS.format(name=name))
    assert fleet_size(path) == fleet


def test_set_x_may_use_more_routes_than_k(tmp_path: Path) -> None:
    """An X-named instance uses three routes where k is 2; an A-named one keeps to two, and
    --vehicles overrides either."""
    x, a = tmp_path / "x.vrp", tmp_path / "a.vrp"
    x.write_text(THREE_WAYS.format(name="X-n7-k2"))
    a.write_text(THREE_WAYS.format(name="A-n7-k2"))
    free, fixed = solve_cvrp(x, 0.3, seed=1), solve_cvrp(a, 0.3, seed=1)
    assert free.feasible and fixed.feasible
    assert len(free.routes) == 3 and len(fixed.routes) == 2 and free.cost < fixed.cost
    assert len(solve_cvrp(x, 0.3, seed=1, vehicles=2).routes) == 2


@pytest.mark.skipif(
    not (CVRPLIB_X / "X-n101-k25.vrp").exists(), reason="needs CVRPLIB set X (see bench/routing.py)"
)
def test_x_instance_whose_best_known_has_more_routes_than_k() -> None:
    """X-n101-k25, whose best-known solution (27591) has 26 routes, is solved within 1.5 %."""
    solution = solve_cvrp(CVRPLIB_X / "X-n101-k25.vrp", 5.0, seed=1)
    assert solution.feasible
    assert solution.cost <= 27591 * 1.015


@pytest.mark.skipif(CVRPLIB is None, reason="needs the shared CVRPLIB instances")
def test_older_set_keeps_k_vehicles() -> None:
    """A-n32-k5 is solved with at most its 5 vehicles, at its best-known cost of 784."""
    assert CVRPLIB is not None
    path = CVRPLIB / "A" / "A-n32-k5.vrp"
    assert fleet_size(path) == 5
    solution = solve_cvrp(path, 1.0, seed=1)
    assert solution.cost == 784 and len(solution.routes) <= 5
