"""Open-data tables as CSV, GeoJSON and Parquet, from one column list per dataset.

Each dataset declares its columns once (name, type, description); the same list writes the CSV
header, types the Parquet file and describes the table in the catalogue, so they cannot drift.
"""

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

import polars as pl

Kind = Literal["string", "integer", "number", "boolean", "date", "datetime"]

_POLARS: dict[Kind, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us", "UTC"),
}

XSD: dict[Kind, str] = {
    "string": "xsd:string",
    "integer": "xsd:integer",
    "number": "xsd:double",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
"""The XML Schema datatype of each kind, for the catalogue's table schemas."""


@dataclass(frozen=True, slots=True)
class Column:
    """One published column: its name, type and what it means."""

    name: str
    kind: Kind
    description: str


class Format(StrEnum):
    """The file formats every dataset is published in."""

    CSV = "csv"
    GEOJSON = "geojson"
    PARQUET = "parquet"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.GEOJSON: "application/geo+json",
    Format.PARQUET: "application/vnd.apache.parquet",
}

Row = dict[str, Any]
Geometry = Callable[[Row], dict[str, Any] | None]


def _text(value: Any) -> str:
    """A value as CSV text: ISO 8601 times, lower-case booleans, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return str(value)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def to_csv(columns: Sequence[Column], rows: Sequence[Row]) -> bytes:
    """UTF-8 CSV with a header row of the column names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow([_text(row[c.name]) for c in columns])
    return out.getvalue().encode()


def to_geojson(columns: Sequence[Column], rows: Sequence[Row], geometry: Geometry) -> bytes:
    """A FeatureCollection, one Feature per row with the columns as properties; a row without
    a place has a null geometry (RFC 7946, section 3.2)."""
    features = [
        {
            "type": "Feature",
            "geometry": geometry(row),
            "properties": {c.name: _json(row[c.name]) for c in columns},
        }
        for row in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def no_geometry(row: Row) -> None:
    """The geometry of rows of datasets without places (zones have no stored boundary)."""
    return None


def to_parquet(columns: Sequence[Column], rows: Sequence[Row]) -> bytes:
    """A Parquet file typed from the columns (an empty table keeps its schema)."""
    frame = pl.DataFrame(
        {c.name: [row[c.name] for row in rows] for c in columns},
        schema={c.name: _POLARS[c.kind] for c in columns},
    )
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def encode(
    fmt: Format, columns: Sequence[Column], rows: Sequence[Row], geometry: Geometry
) -> bytes:
    """The rows in ``fmt``."""
    if fmt is Format.CSV:
        return to_csv(columns, rows)
    if fmt is Format.GEOJSON:
        return to_geojson(columns, rows, geometry)
    return to_parquet(columns, rows)
