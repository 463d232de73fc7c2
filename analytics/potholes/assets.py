"""The council's layer of road assets (speed humps, manholes, level crossings), imported from a
CSV or GeoJSON file so that confirmation can drop the jolts they cause."""

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import psycopg

from analytics.potholes.confirm import Asset, AssetKind
from ingest.db.councils import council_exists


class AssetError(ValueError):
    """An asset file that cannot be imported: the message names the file and the row at fault."""


def read_assets(path: Path) -> list[tuple[str, Asset]]:
    """Read ``(asset_id, asset)`` pairs from a CSV or a GeoJSON file.

    Parameters
    ----------
    path
        ``.csv`` with a header ``asset_id,kind,lat,lon[,radius_m]``, or ``.geojson``/``.json``:
        a FeatureCollection of Point features with properties ``asset_id``, ``kind`` and,
        optionally, ``radius_m``.

    Raises
    ------
    AssetError
        An unreadable file or a bad row, naming the line or feature.
    """
    try:
        if path.suffix.lower() == ".csv":
            return list(_csv_rows(path))
        if path.suffix.lower() in (".geojson", ".json"):
            return list(_geojson_rows(path))
    except (OSError, UnicodeDecodeError, csv.Error, json.JSONDecodeError) as exc:
        raise AssetError(f"{path}: cannot read: {exc}") from None
    raise AssetError(f"{path}: expected a .csv, .geojson or .json file")


def import_assets(conn: psycopg.Connection, council: str, path: Path) -> int:
    """Insert or replace the assets of a file for ``council``; return how many were read.

    Raises
    ------
    AssetError
        A bad file (nothing is imported), or an unknown council.
    """
    assets = read_assets(path)
    with conn.transaction():
        if not council_exists(conn, council):
            raise AssetError(f"unknown council {council!r}")
        conn.cursor().executemany(
            """
            INSERT INTO road_asset (council, asset_id, kind, lat, lon, radius_m)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (council, asset_id) DO UPDATE
            SET kind = excluded.kind, lat = excluded.lat, lon = excluded.lon,
                radius_m = excluded.radius_m
            """,
            [(council, i, a.kind, a.lat, a.lon, a.radius_m) for i, a in assets],
        )
    return len(assets)


def _csv_rows(path: Path) -> Iterator[tuple[str, Asset]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"asset_id", "kind", "lat", "lon"} - set(reader.fieldnames or ())
        if missing:
            raise AssetError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            yield _asset(f"{path}, line {reader.line_num}", row)


def _geojson_rows(path: Path) -> Iterator[tuple[str, Asset]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise AssetError(f"{path}: expected a GeoJSON FeatureCollection")
    for n, feature in enumerate(doc["features"], start=1):
        where = f"{path}, feature {n}"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise AssetError(f"{where}: expected a Point geometry")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            raise AssetError(f"{where}: expected coordinates [lon, lat]")
        props = props if isinstance(props, dict) else {}
        yield _asset(where, {**props, "lon": coords[0], "lat": coords[1]})


def _asset(where: str, row: Mapping[str, Any]) -> tuple[str, Asset]:
    asset_id = str(row.get("asset_id") or "").strip()
    if not asset_id:
        raise AssetError(f"{where}: missing asset_id")
    kind = str(row.get("kind") or "").strip()
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
        radius = row.get("radius_m")
        radius_m = 8.0 if radius in (None, "") else float(radius)
    except (TypeError, ValueError):
        raise AssetError(f"{where}: lat, lon and radius_m must be numbers") from None
    try:
        return asset_id, Asset(cast(AssetKind, kind), lat, lon, radius_m)
    except ValueError as exc:
        raise AssetError(f"{where}: {exc}") from None
