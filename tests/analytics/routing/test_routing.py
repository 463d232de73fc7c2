"""Solving CVRPLIB instances: feasible, every customer once, the cost CVRPLIB would compute."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.routing.cvrplib import InstanceError, fleet_size, solve_cvrp
from tests.conftest import REPO, shared_data

CVRPLIB = shared_data("cvrplib")

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
