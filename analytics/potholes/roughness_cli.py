"""``smartstreets potholes roughness``: a recorded trace in, estimated IRI per ~100 m out as CSV."""

import csv
import sys
from pathlib import Path

import typer

from analytics.potholes.cli import read_trace_or_fail
from analytics.potholes.roughness import RoughnessParams, roughness
from ingest.kernel.cli import fail

OUTPUT_HEADER = (
    "start_time",
    "end_time",
    "latitude",
    "longitude",
    "distance_m",
    "speed_mps",
    "iri_m_per_km",
    "class",
)


def potholes_roughness(
    trace: Path = typer.Argument(
        ...,
        metavar="TRACE.csv",
        help="CSV with timestamp (Unix s), latitude, longitude, speed (m/s) and "
        "accelerometerX/Y/Z (g, gravity included); other columns are ignored.",
    ),
    stretch_m: float = typer.Option(
        RoughnessParams.stretch_m, help="Length (m) of each stretch reported."
    ),
    min_speed_mps: float = typer.Option(
        RoughnessParams.min_speed_mps,
        help="Samples slower than this (m/s) are left out: at walking pace IRI means nothing.",
    ),
    iri_per_g: float = typer.Option(
        RoughnessParams.iri_per_g,
        help="Calibration: IRI (m/km) per g of vertical standard deviation at 80 km/h "
        "(an assumption; calibrate against a profiler).",
    ),
) -> None:
    """Print the estimated road roughness (IRI, m/km) of each ~100 m driven, as CSV.

    Columns: start_time,end_time (Unix s),latitude,longitude (the stretch's midpoint),
    distance_m,speed_mps (mean),iri_m_per_km,class (good < 2, fair < 4, poor < 6, very poor).
    """
    try:
        params = RoughnessParams(
            stretch_m=stretch_m,
            min_stretch_m=min(RoughnessParams.min_stretch_m, stretch_m / 2),
            min_speed_mps=min_speed_mps,
            iri_per_g=iri_per_g,
        )
    except ValueError as exc:
        fail(f"bad option: {exc}", 2)
    rows = read_trace_or_fail(trace)
    t0 = rows[0][0]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(OUTPUT_HEADER)
    for r in roughness([s for _, s in rows], params):
        out.writerow(
            (
                f"{t0 + r.start_time:.3f}",
                f"{t0 + r.end_time:.3f}",
                f"{r.latitude:.6f}",
                f"{r.longitude:.6f}",
                f"{r.distance_m:.1f}",
                f"{r.speed_mps:.2f}",
                f"{r.iri_m_per_km:.2f}",
                r.road_class,
            )
        )
