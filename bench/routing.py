"""Benchmark: PyVRP on CVRPLIB sets A, B, E and P against the best-known solutions.

Each instance is solved as ``smartstreets routes solve INSTANCE --seconds S`` solves it; the
bench checks every route independently (capacity, each customer once, cost recomputed from the
coordinates with rounded Euclidean distances) and prints the gap to the best-known cost per
instance, per set, and for instances of 100 to 300 customers. Run from the repository root::

    .venv/bin/python bench/routing.py [--seconds 10] [--data ../shared/data/cvrplib]

With ``--x-instances DIR`` it solves instead set X of Uchoa et al. (2017), 100 to 300
customers, from ``X-n*.vrp`` files with their ``.sol`` best-known solutions in DIR (kept outside
the repository: CVRPLIB's files carry no licence to redistribute them). The best-known cost is
recomputed from the ``.sol`` routes and must match its Cost line. Set X leaves the number of
routes free, so the bench also prints the routes used against ``k``::

    .venv/bin/python bench/routing.py --x-instances DIR --seconds 30 [--every 3]
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


def best_known(vrp: Path) -> tuple[int, int]:
    """The best-known cost, recomputed from the ``.sol`` beside ``vrp``, and its routes."""
    text = vrp.with_suffix(".sol").read_text()
    # .sol files number the depot 0 and customers from 1; the .vrp numbers the depot 1.
    routes = [
        [int(c) + 1 for c in line.split(":", 1)[1].split()]
        for line in text.splitlines()
        if line.startswith("Route")
    ]
    cost, problem = check(vrp, routes)
    stated = int(float(re.search(r"Cost\s+(\S+)", text).group(1)))  # type: ignore[union-attr]
    if problem is not None or cost != stated:
        raise SystemExit(
            f"{vrp.name}: best-known solution {problem or 'cost'} ({cost} vs {stated})"
        )
    return cost, len(routes)


def bench_x(folder: Path, seconds: float, seed: int, every: int) -> int:
    """Solve set X instances of 100 to 300 customers; print gaps and routes against k."""
    paths = sorted(
        (p for p in folder.glob("X-n*-k*.vrp") if 101 <= int(p.stem.split("-")[1][1:]) <= 301),
        key=lambda p: int(p.stem.split("-")[1][1:]),
    )[::every]
    if not paths:
        print(f"no X-n*-k*.vrp of 100-300 customers in {folder}", file=sys.stderr)
        return 1
    gaps: list[float] = []
    print(
        f"{'instance':<14} {'n':>4} {'k':>3} {'bks':>7} {'bks-r':>6} {'cost':>7} {'routes':>6}"
        f" {'gap %':>7}  check"
    )
    for path in paths:
        bks, bks_routes = best_known(path)
        k = int(path.stem.split("-k")[1])
        solution = solve_cvrp(path, seconds, seed)
        cost, problem = check(path, solution.routes)
        ok = problem is None and cost == solution.cost and solution.feasible
        gap = 100 * (cost - bks) / bks
        gaps.append(gap)
        print(
            f"{path.stem:<14} {int(path.stem.split('-')[1][1:]) - 1:>4} {k:>3} {bks:>7} "
            f"{bks_routes:>6} {cost:>7} {len(solution.routes):>6} {gap:>7.2f}  "
            f"{'ok' if ok else problem or 'infeasible or cost mismatch'}",
            flush=True,
        )
    mean = statistics.mean(gaps)
    print(
        f"\nPyVRP, {seconds:g} s per instance, seed {seed}, rounded EUC_2D, set X, fleet unlimited"
    )
    print(
        f"{'PASS' if mean <= 1 else 'FAIL'}  mean gap over {len(gaps)} instances {mean:.3f} %, "
        f"max {max(gaps):.2f} % (target <= 1 %)"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "cvrplib")
    parser.add_argument("--sets", default="A,B,E,P")
    parser.add_argument(
        "--x-instances", type=Path, help="folder of set X .vrp and .sol files (bench set X)"
    )
    parser.add_argument("--every", type=int, default=1, help="with --x-instances: every Nth")
    args = parser.parse_args()
    if args.x_instances is not None:
        return bench_x(args.x_instances, args.seconds, args.seed, max(1, args.every))
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
