"""The open datasets: what each publishes, the date window of a request, and the suppression
of small counts. Pure functions over query rows; no I/O.

Disclosure control follows common statistical practice: an hourly zone count under
``MIN_PEOPLE`` is withheld (null, with ``suppressed`` true) so that few people in a quiet
street are never singled out, and a zone-day's fill statistics are withheld when fewer than
``MIN_BINS`` bins reported, since so few bins describe single bins rather than a zone.
Potholes never carry phone or report counts; a road segment's roughness is published only
when at least ``MIN_PHONES`` distinct phones measured it (the heatmap's k-anonymity).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analytics.potholes.heatmap import MIN_PHONES
from analytics.potholes.roughness import iri_class
from api.open_data_formats import Column, Geometry, Row, no_geometry

MIN_PEOPLE = 10
"""Smallest hourly zone count published."""
MIN_BINS = 3
"""Fewest bins reporting for a zone-day's fill statistics to be published."""
DEFAULT_DAYS = 30
MAX_DAYS = 366
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"


@dataclass(frozen=True, slots=True)
class Dataset:
    """One open dataset of every council."""

    slug: str
    title: str
    description: str
    frequency: str
    """Code of the EU frequency vocabulary (HOURLY, DAILY, IRREG)."""
    columns: tuple[Column, ...]
    geometry: Geometry
    """Each row's GeoJSON geometry (``no_geometry`` for datasets without places)."""
    keywords: tuple[str, ...]


def _point(row: Row) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [row["lon"], row["lat"]]}


FOOTFALL = Dataset(
    slug="footfall-hourly",
    title="Hourly footfall per town-centre zone",
    description=(
        "People counted per zone and hour by the council's pedestrian counters. Counts under "
        f"{MIN_PEOPLE} are withheld (empty, suppressed true). Zones have no stored boundary, "
        "so GeoJSON features have a null geometry."
    ),
    frequency="HOURLY",
    columns=(
        Column("zone", "string", "Town-centre zone the counters stand in."),
        Column("zone_name", "string", "The zone's name as the council gives it."),
        Column("hour_start", "datetime", "Start of the hour (UTC, ISO 8601)."),
        Column("hour_end", "datetime", "End of the hour (UTC, ISO 8601)."),
        Column("count", "integer", f"People counted in the hour; empty when under {MIN_PEOPLE}."),
        Column("counters", "integer", "Counters in the zone that reported in the hour."),
        Column("suppressed", "boolean", "Whether the count is withheld as too small."),
    ),
    geometry=no_geometry,
    keywords=("footfall", "pedestrians", "town centre"),
)

BIN_FILL = Dataset(
    slug="bin-fill-daily",
    title="Daily litter bin fill per zone",
    description=(
        "Per local day and zone, fill-level statistics over all readings of the council's "
        f"sensor-equipped litter bins. Statistics are withheld when fewer than {MIN_BINS} bins "
        "reported. Bins without a zone are grouped under an empty zone; zones have no stored "
        "boundary, so GeoJSON features have a null geometry."
    ),
    frequency="DAILY",
    columns=(
        Column("date", "date", "Local calendar day of the council."),
        Column("zone", "string", "Zone of the bins (empty for bins without one)."),
        Column("zone_name", "string", "The zone's name as the council gives it."),
        Column("bins_reporting", "integer", "Bins that sent at least one reading that day."),
        Column("readings", "integer", "Fill readings received that day."),
        Column("mean_fill_pct", "number", "Mean fill over the readings, percent."),
        Column("median_fill_pct", "number", "Median fill over the readings, percent."),
        Column("p90_fill_pct", "number", "90th percentile of fill over the readings, percent."),
        Column("bins_at_or_over_80", "integer", "Bins with a reading of 80% full or more."),
        Column(
            "suppressed", "boolean", f"Whether statistics are withheld (under {MIN_BINS} bins)."
        ),
    ),
    geometry=no_geometry,
    keywords=("waste", "litter bins", "fill level"),
)

POTHOLES = Dataset(
    slug="potholes",
    title="Confirmed potholes",
    description=(
        "Potholes confirmed from jolts reported by several residents' phones, with their state "
        "(confirmed, reported to the works system, repaired, reopened). Positions are rounded to "
        "about 1 m; nothing about the phones is published. from/to select potholes seen in the "
        "period; without them, all."
    ),
    frequency="IRREG",
    columns=(
        Column("id", "integer", "Pothole id, stable across exports."),
        Column("lat", "number", "Latitude (WGS 84), 5 decimals."),
        Column("lon", "number", "Longitude (WGS 84), 5 decimals."),
        Column("street", "string", "Where, in words: the street and a cross street, if known."),
        Column("severity", "number", "Severity from 0 (slight) to 1 (severe)."),
        Column("confidence", "number", "Confidence from 0 to 1 that the pothole is real."),
        Column("first_seen", "datetime", "First jolt attributed to it (UTC, ISO 8601)."),
        Column("last_seen", "datetime", "Latest jolt attributed to it (UTC, ISO 8601)."),
        Column("state", "string", "One of confirmed, reported, repaired, reopened."),
    ),
    geometry=_point,
    keywords=("potholes", "roads", "highways"),
)


def _line(row: Row) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": row["_coordinates"]}


ROAD_ROUGHNESS = Dataset(
    slug="road-roughness",
    title="Road roughness per road segment",
    description=(
        "Estimated International Roughness Index (IRI, m/km) of each road segment: the median "
        "over the stretches of about 100 m that residents' phones measured on it in the last 30 "
        f"days. Published only for segments measured by at least {MIN_PHONES} phones; nothing "
        "about the phones is published. Phone estimates rank roads well but are not a "
        "profilometer survey. from/to select segments refreshed in the period; without them, all."
    ),
    frequency="IRREG",
    columns=(
        Column("segment_id", "string", "Road segment id, stable while the road data is."),
        Column("name", "string", "Street name (empty when the road data has none)."),
        Column("road_class", "string", "Class of the road in the council's road data."),
        Column("length_m", "number", "Length of the segment, metres."),
        Column("iri_m_per_km", "number", "Median estimated IRI, m/km."),
        Column("roughness", "string", "good (< 2), fair (2-4), poor (4-6) or very poor (> 6)."),
        Column("refreshed_at", "datetime", "When the figure was computed (UTC, ISO 8601)."),
    ),
    geometry=_line,
    keywords=("roads", "highways", "road roughness", "IRI"),
)

DATASETS = {d.slug: d for d in (FOOTFALL, BIN_FILL, POTHOLES, ROAD_ROUGHNESS)}


def date_window(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The inclusive days of a request: ``end`` defaults to today, ``start`` to
    ``DEFAULT_DAYS`` days ending at ``end``; at most ``MAX_DAYS`` days, start not after end."""
    last = end or today
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValueError(f"'from' ({first}) is after 'to' ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(
            f"at most {MAX_DAYS} days per request; {first} to {last} is "
            f"{(last - first).days + 1} days"
        )
    return first, last


def day_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """The instants starting ``first`` and ending ``last`` in the council's time zone."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def footfall_rows(rows: list[Row], names: Mapping[str, str]) -> list[Row]:
    """Hourly zone rows with counts under ``MIN_PEOPLE`` withheld; ``names`` are the zones'
    display names."""
    out = []
    for r in rows:
        small = r["count"] < MIN_PEOPLE
        out.append(
            {
                "zone": r["zone"],
                "zone_name": names.get(r["zone"], r["zone"]),
                "hour_start": _utc(r["bucket"]),
                "hour_end": _utc(r["bucket"] + timedelta(hours=1)),
                "count": None if small else int(r["count"]),
                "counters": int(r["counters"]),
                "suppressed": small,
            }
        )
    return out


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def bin_fill_rows(rows: list[Row], names: Mapping[str, str]) -> list[Row]:
    """Zone-day rows with statistics of fewer than ``MIN_BINS`` bins withheld; ``names`` are
    the zones' display names."""
    out = []
    for r in rows:
        few = r["bins_reporting"] < MIN_BINS
        out.append(
            {
                "date": r["day"],
                "zone": r["zone"],
                "zone_name": names.get(r["zone"] or "", r["zone"]),
                "bins_reporting": int(r["bins_reporting"]),
                "readings": int(r["readings"]),
                "mean_fill_pct": None if few else _round(r["mean_fill_pct"]),
                "median_fill_pct": None if few else _round(r["median_fill_pct"]),
                "p90_fill_pct": None if few else _round(r["p90_fill_pct"]),
                "bins_at_or_over_80": None if few else int(r["bins_at_or_over_80"]),
                "suppressed": few,
            }
        )
    return out


def pothole_rows(rows: list[Row]) -> list[Row]:
    """Pothole rows with positions rounded to about 1 m (5 decimals of a degree)."""
    return [
        {
            "id": int(r["pothole_id"]),
            "lat": round(float(r["lat"]), 5),
            "lon": round(float(r["lon"]), 5),
            "street": r["street"],
            "severity": _round(r["severity"], 2),
            "confidence": _round(r["confidence"], 2),
            "first_seen": _utc(r["first_seen"]),
            "last_seen": _utc(r["last_seen"]),
            "state": r["state"],
        }
        for r in rows
    ]


def roughness_rows(rows: list[Row]) -> list[Row]:
    """Segment rows measured by at least ``MIN_PHONES`` phones, with their IRI class and
    their line (kept out of the columns, for GeoJSON only)."""
    return [
        {
            "segment_id": r["segment_id"],
            "name": r["name"],
            "road_class": r["road_class"],
            "length_m": _round(r["length_m"]),
            "iri_m_per_km": _round(r["iri_m_per_km"], 2),
            "roughness": iri_class(float(r["iri_m_per_km"])),
            "refreshed_at": _utc(r["refreshed_at"]),
            "_coordinates": [
                [round(lon, 6), round(lat, 6)]
                for lat, lon in zip(r["lats"], r["lons"], strict=True)
            ],
        }
        for r in rows
        if r["iri_phones"] >= MIN_PHONES
    ]
