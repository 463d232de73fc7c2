"""Benchmark: estimated IRI on real drives over roads labelled good, fair and bad.

Reads the CMU Pittsburgh 2017 "Good_Road_Bad_Road" drives (a phone's 5-10 Hz accelerometer, g
with gravity, and GPS speed; files named ``good*``, ``bad*`` and ``*FAIR*``) from
``$SMARTSTREETS_SHARED_DATA/potholes/cmu_pittsburgh_2017/Good_Road_Bad_Road`` or from
``../shared/data/…`` beside the checkout, runs :func:`analytics.potholes.roughness.roughness`
on each and prints the median IRI per drive, then the median of those medians per condition and
whether the ranking bad > fair > good holds. It reports; it does not assert. Run from the
repository root::

    .venv/bin/python bench/roughness.py
"""

import argparse
import sys
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
# Ahead of bench/ itself, whose ingest.py would otherwise shadow the ingest package.
sys.path.insert(0, str(REPO))

from analytics.potholes.cli import TraceError, read_trace  # noqa: E402
from analytics.potholes.roughness import RoughnessParams, iri_class, roughness  # noqa: E402
from bench.detector_data import data_root  # noqa: E402

CONDITIONS = ("good", "fair", "bad")


def _data_dir() -> Path:
    return data_root() / "cmu_pittsburgh_2017" / "Good_Road_Bad_Road"


def _condition(path: Path) -> str | None:
    name = path.name.lower()
    return next((c for c in CONDITIONS if name.startswith(c) or f"_{c}_" in name), None)


def main() -> None:
    """Print the table of drives and the ranking of conditions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=_data_dir(), help="Folder of the drives.")
    args = parser.parse_args()
    files = sorted(p for p in args.data.glob("*sensors*.csv") if _condition(p))
    if not files:
        sys.exit(f"error: no *sensors*.csv drives under {args.data}")
    params = RoughnessParams()
    print(
        f"IRI ≈ {params.iri_per_g:g} m/km/g * sd(vertical g) * "
        f"({params.reference_speed_mps:.1f} m/s / speed)^{params.speed_exponent:g}, "
        f"per {params.stretch_m:g} m, samples under {params.min_speed_mps:g} m/s left out"
    )
    print(f"{'file':<36} {'condition':<9} {'stretches':>9} {'median IRI':>10}  class")
    by_condition: dict[str, list[float]] = {c: [] for c in CONDITIONS}
    for path in files:
        condition = _condition(path)
        assert condition is not None  # filtered above
        try:
            samples = [s for _, s in read_trace(path)]
        except TraceError as exc:
            print(f"{path.name:<36} {condition:<9} skipped: {exc}")
            continue
        stretches = roughness(samples, params)
        if not stretches:
            print(f"{path.name:<36} {condition:<9} {0:>9} {'-':>10}  -")
            continue
        iri = median(s.iri_m_per_km for s in stretches)
        by_condition[condition].append(iri)
        print(f"{path.name:<36} {condition:<9} {len(stretches):>9} {iri:>10.2f}  {iri_class(iri)}")
    print()
    print(f"{'condition':<9} {'drives':>6} {'median of medians':>17}  class")
    summary: dict[str, float] = {}
    for condition in CONDITIONS:
        values = by_condition[condition]
        if values:
            summary[condition] = median(values)
            iri = summary[condition]
            print(f"{condition:<9} {len(values):>6} {iri:>17.2f}  {iri_class(iri)}")
        else:
            print(f"{condition:<9} {0:>6} {'-':>17}  -")
    if len(summary) == len(CONDITIONS):
        holds = summary["bad"] > summary["fair"] > summary["good"]
        print(f"\nranking bad > fair > good: {'holds' if holds else 'does NOT hold'}")
    else:
        print("\nranking bad > fair > good: not measurable (a condition has no drive)")


if __name__ == "__main__":
    main()
