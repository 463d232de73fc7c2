"""Benchmark: PyVRP on CVRPLIB sets A, B, E and P against the best-known solutions.

Each instance is solved as ``smartstreets routes solve INSTANCE --seconds S`` solves it; the
bench checks every route independently (capacity, each customer once, cost recomputed from the
coordinates with rounded Euclidean distances) and prints the gap to the best-known cost per
instance, per set, and for instances of 100 to 300 customers. Run from the repository root::

    .venv/bin/python bench/routing.py [--seconds 10] [--data ../shared/data/cvrplib]
"""

import argparse
import csv
import math
import re
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.routing.cvrplib import solve_cvrp  # noqa: E402


def _section(text: str, name: str) -> list[list[str]]:
    match = re.search(rf"{name}\s*\n(.*?)(?:\n[A-Z_]+_SECTION|\nEOF|\Z)", text, re.S)
    return [line.split() for line in (match.group(1) if match else "").splitlines() if line.strip()]


def check(path: Path, routes: list[list[int]]) -> tuple[int, str | None]:
    """Recompute the cost; return it with a problem, if any (capacity, coverage)."""
    text = path.read_text()
    capacity = int(re.search(r"CAPACITY\s*:\s*(\d+)", text).group(1))  # type: ignore[union-attr]
    xy = {int(r[0]): (float(r[1]), float(r[2])) for r in _section(text, "NODE_COORD_SECTION")}
    demand = {int(r[0]): int(r[1]) for r in _section(text, "DEMAND_SECTION")}
    depot = int(_section(text, "DEPOT_SECTION")[0][0])
    weights = [int(float(w)) for row in _section(text, "EDGE_WEIGHT_SECTION") for w in row]
    lower: dict[tuple[int, int], int] = {}
    if weights:  # EXPLICIT, LOWER_ROW: rows 2..n, each against the nodes before it
        it = iter(weights)
        for i in range(2, len(demand) + 1):
            for j in range(1, i):
                lower[i, j] = next(it)

    def dist(a: int, b: int) -> int:
        if lower:
            return 0 if a == b else lower[max(a, b), min(a, b)]
        return round(math.dist(xy[a], xy[b]))

    visited = [c for r in routes for c in r]
    if sorted(visited) != sorted(set(demand) - {depot}):
        return -1, "customers not visited exactly once"
    if any(sum(demand[c] for c in r) > capacity for r in routes):
        return -1, "a route exceeds the capacity"
    cost = sum(dist(a, b) for r in routes for a, b in zip([depot, *r], [*r, depot], strict=True))
    return cost, None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "cvrplib")
    parser.add_argument("--sets", default="A,B,E,P")
    args = parser.parse_args()
    bks_file = args.data / "bks.csv"
    if not bks_file.exists():
        parser.error(f"{bks_file} not found (use --data)")
    wanted = set(args.sets.split(","))
    with bks_file.open() as f:
        rows = [r for r in csv.DictReader(f) if r["set"] in wanted]
    gaps: dict[str, list[float]] = {}
    large: list[float] = []
    print(f"{'instance':<14} {'n':>4} {'bks':>7} {'cost':>7} {'gap %':>7}  check")
    for row in rows:
        path = args.data / row["set"] / f"{row['instance']}.vrp"
        if not path.exists():
            continue
        bks = int(row["recomputed_cost_rounded_euc2d"])
        solution = solve_cvrp(path, args.seconds, args.seed)
        cost, problem = check(path, solution.routes)
        ok = problem is None and cost == solution.cost
        gap = 100 * (cost - bks) / bks
        gaps.setdefault(row["set"], []).append(gap)
        n = int(row["n_customers"])
        if 100 <= n <= 300:
            large.append(gap)
        print(
            f"{row['instance']:<14} {n:>4} {bks:>7} {cost:>7} {gap:>7.2f}  "
            f"{'ok' if ok else problem or 'cost mismatch'}",
            flush=True,
        )
    print(f"\nPyVRP, {args.seconds:g} s per instance, seed {args.seed}, rounded EUC_2D")
    all_gaps = [g for v in gaps.values() for g in v]
    for name, values in sorted(gaps.items()):
        print(
            f"set {name}: {len(values)} instances, mean gap {statistics.mean(values):.3f} %, "
            f"max {max(values):.2f} %"
        )
    if large:
        print(f"100-300 customers: {len(large)} instances, mean gap {statistics.mean(large):.3f} %")
    if all_gaps:
        mean = statistics.mean(all_gaps)
        print(
            f"{'PASS' if mean <= 1 else 'FAIL'}  mean gap over {len(all_gaps)} instances "
            f"{mean:.3f} % (target <= 1 %)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
