"""``smartstreets potholes refresh`` and ``potholes roads``: stored potholes and coverage."""

import json
import logging
from pathlib import Path

import psycopg
import typer

from analytics.potholes.coverage import Segment, segments_from_geojson, segments_from_network
from analytics.potholes.coverage_store import refresh_coverage, store_segments
from analytics.potholes.store import refresh_potholes
from ingest.db.connect import connect
from ingest.errors import first_line
from ingest.kernel.cli import DatabaseUrlOption, database_url_or_fail, fail, on_database, repeat

log = logging.getLogger(__name__)


def potholes_refresh(
    council: str = typer.Option(..., help="Council slug."),
    every: float | None = typer.Option(
        None, min=60, max=86400, help="Keep refreshing every this many seconds until stopped."
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Confirm potholes from the council's last 90 days of bump reports, and count each road
    segment's passes over the last 30 days of trip tracks; store both.

    Prints the counts: reports read, clusters found, potholes inserted, updated and whose
    state changed (a repaired pothole hit again by enough new phones is reopened); tracks read
    and road segments passed.
    """
    url = database_url_or_fail(database_url)

    def once() -> None:
        try:
            with connect(url) as conn:
                counts = refresh_potholes(conn, council)
                counts |= refresh_coverage(conn, council)
        except LookupError as exc:
            fail(str(exc))
        except psycopg.OperationalError:
            raise  # repeat() retries a lost connection
        except psycopg.Error as exc:
            fail(first_line(exc))
        print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)

    repeat(every, once, "pothole refresh")


def potholes_roads(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="OpenStreetMap extract (.osm, .osm.pbf) or GeoJSON of LineString features "
        "(properties name and highway or road_class are kept).",
    ),
    council: str = typer.Option(..., help="Council slug."),
    radius_m: float = typer.Option(
        3000.0, min=500, max=50_000, help="OSM only: roads within this distance of the centre."
    ),
    max_length_m: float = typer.Option(
        200.0, min=20, max=2000, help="Longest segment; longer roads are cut."
    ),
    attribution: str | None = typer.Option(
        None,
        help="Credit for the map data, shown under every map drawing these roads (default for "
        "OSM extracts: the OpenStreetMap contributors' ODbL credit; none for GeoJSON).",
    ),
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Import the council's road segments, over which coverage is counted and with which
    places are named and maps drawn (replaces them all)."""
    if not file.is_file():
        fail(f"{file}: no such file")
    segments = _read_segments(file, radius_m, max_length_m)
    if attribution is not None and not 0 < len(attribution) <= 300:
        fail("--attribution: give 1 to 300 characters", 2)
    if attribution is None and _is_osm(file):
        from analytics.geo.osm import OSM_ATTRIBUTION  # osmium loads only for OSM files

        attribution = OSM_ATTRIBUTION
    n = on_database(
        database_url,
        lambda conn: store_segments(conn, council, segments, attribution),
        (LookupError, ValueError),
    )
    km = sum(s.length_m for s in segments) / 1000
    print(f"imported {n} road segments ({km:.1f} km) for {council}")


def _is_osm(file: Path) -> bool:
    return file.name.lower().endswith((".osm", ".osm.pbf", ".pbf", ".osm.xml"))


def _read_segments(file: Path, radius_m: float, max_length_m: float) -> list[Segment]:
    if _is_osm(file):
        from analytics.geo.osm import OsmError, load_osm

        try:
            return segments_from_network(load_osm(file, radius_m=radius_m), max_length_m)
        except (OsmError, ValueError) as exc:
            fail(f"{file}: {exc}")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
        return segments_from_geojson(doc, max_length_m)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{file}: not GeoJSON ({exc})")
    except ValueError as exc:
        fail(f"{file}: {exc}")
