"""A council's profile, all in one place: how it and its zones are named for people, where it is
(time zone, bounding box, boundary, depot), its calendar and locale, and what it publishes.

The one home of reading and changing a profile; ``smartstreets councils`` and the admin API both
go through :class:`ProfileChange`, so the same input is refused the same way by both.
"""

import math
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingest.db.councils import UnknownCouncil, require_council

SLUG_PATTERN = r"^[a-z0-9-]{1,40}$"
ZONE_PATTERN = r"^[^\s\x00-\x1f]([^\x00-\x1f]{0,78}[^\s\x00-\x1f])?$"
"""A zone name: up to 80 characters, no control characters, no space at either end."""
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Z]{2})?$"
Name = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f]+$")]


class CouncilExists(ValueError):
    """A slug that is already registered."""


def _ring_ok(ring: Any) -> bool:
    return (
        isinstance(ring, list)
        and len(ring) >= 4
        and all(
            isinstance(p, list)
            and len(p) >= 2
            and all(isinstance(c, int | float) and math.isfinite(c) for c in p[:2])
            and -180 <= p[0] <= 180
            and -90 <= p[1] <= 90
            for p in ring
        )
        and ring[0][:2] == ring[-1][:2]
    )


def check_polygon(geometry: Any) -> dict[str, Any]:
    """``geometry`` if it is a GeoJSON Polygon or MultiPolygon of closed rings (a Feature is
    unwrapped to its geometry); ValueError saying what is wrong otherwise."""
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("expected a GeoJSON Polygon or MultiPolygon")
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise ValueError("a polygon needs coordinates")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon or not all(map(_ring_ok, polygon)):
            raise ValueError(
                "each ring needs at least 4 [lon, lat] positions in range, first = last"
            )
    return {"type": geometry["type"], "coordinates": coords}


class ZoneName(BaseModel):
    """A zone's display name and, optionally, its boundary."""

    model_config = ConfigDict(extra="forbid")

    zone: str = Field(pattern=ZONE_PATTERN, description="The zone as devices name it.")
    display_name: Name
    boundary: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon (lon, lat)."
    )

    @field_validator("boundary")
    @classmethod
    def _polygon(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_polygon(value)


class DepotPlace(BaseModel):
    """Where the council's vehicles start, tip and finish."""

    model_config = ConfigDict(extra="forbid")

    name: Name = "depot"
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class ProfileChange(BaseModel):
    """Fields of a profile to set; those left out (``None``) stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, description="For people: 'Rutland County Council'.")
    timezone: str | None = Field(default=None, description="IANA time zone, e.g. Europe/London.")
    holiday_calendar: str | None = Field(
        default=None, pattern=r"^[a-z0-9-]{1,40}$", description="Built-in holiday calendar."
    )
    locale: str | None = Field(default=None, pattern=LOCALE_PATTERN, description="e.g. en-GB.")
    bbox: tuple[float, float, float, float] | None = Field(
        default=None, description="West, south, east, north in degrees."
    )
    boundary: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon."
    )
    depot: DepotPlace | None = None
    zones: list[ZoneName] | None = Field(
        default=None, max_length=500, description="Zones to name (others are left as they are)."
    )
    publish_counters: bool | None = Field(
        default=None, description="Publish counter-level figures and forecasts, not only zones."
    )
    drives_enabled: bool | None = Field(
        default=None, description="Let residents' phones upload drives."
    )
    open_data_licence: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s\x00-\x1f]+$",
        max_length=500,
        description="URL of the open-data licence (default: the deployment's).",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("bbox")
    @classmethod
    def _bbox(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is None:
            return None
        west, south, east, north = value
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError("bbox is west,south,east,north with west < east and south < north")
        return value

    @field_validator("boundary")
    @classmethod
    def _polygon(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_polygon(value)


@dataclass(frozen=True)
class CouncilProfile:
    """Everything a council has set about itself."""

    slug: str
    name: str
    timezone: str
    holiday_calendar: str
    locale: str
    bbox: tuple[float, float, float, float] | None
    boundary: dict[str, Any] | None
    depot: DepotPlace | None
    zones: tuple[ZoneName, ...]
    publish_counters: bool
    drives_enabled: bool
    open_data_licence: str | None

    def zone_name(self, zone: str | None) -> str | None:
        """The display name of ``zone`` (the zone itself when it has none)."""
        return next((z.display_name for z in self.zones if z.zone == zone), zone)


def load_profile(conn: psycopg.Connection, slug: str) -> CouncilProfile:
    """The council's profile; raises :class:`UnknownCouncil` for an unknown council."""
    row = conn.execute(
        "SELECT c.slug, c.name, c.timezone, c.holiday_calendar, c.locale, c.bbox, c.boundary, "
        "c.publish_counters, c.drives_enabled, c.open_data_licence, d.name, d.lat, d.lon "
        "FROM council c LEFT JOIN collection_depot d ON d.council = c.slug WHERE c.slug = %s",
        (slug,),
    ).fetchone()
    if row is None:
        raise UnknownCouncil(slug)
    depot = None if row[11] is None else DepotPlace(name=row[10], lat=row[11], lon=row[12])
    zones = tuple(
        ZoneName(zone=z, display_name=n, boundary=b)
        for z, n, b in conn.execute(
            "SELECT zone, display_name, boundary FROM council_zone WHERE council = %s "
            "ORDER BY zone",
            (slug,),
        )
    )
    bbox = None if row[5] is None else (row[5][0], row[5][1], row[5][2], row[5][3])
    return CouncilProfile(
        slug=row[0],
        name=row[1],
        timezone=row[2],
        holiday_calendar=row[3],
        locale=row[4],
        bbox=bbox,
        boundary=row[6],
        depot=depot,
        zones=zones,
        publish_counters=bool(row[7]),
        drives_enabled=bool(row[8]),
        open_data_licence=row[9],
    )


_COLUMNS = (
    "name",
    "timezone",
    "holiday_calendar",
    "locale",
    "bbox",
    "boundary",
    "publish_counters",
    "drives_enabled",
    "open_data_licence",
)


def create_council(conn: psycopg.Connection, slug: str, change: ProfileChange) -> CouncilProfile:
    """Register a council with ``change`` as its profile (a name is required); raises
    :class:`CouncilExists` if the slug is taken. The caller commits."""
    if change.name is None:
        raise ValueError("a new council needs a name")
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO council (slug, name) VALUES (%s, %s) ON CONFLICT DO NOTHING "
            "RETURNING slug",
            (slug, change.name),
        ).fetchone()
        if row is None:
            raise CouncilExists(f"council {slug!r} already exists")
        return update_profile(conn, slug, change)


def update_profile(conn: psycopg.Connection, slug: str, change: ProfileChange) -> CouncilProfile:
    """Set the fields of ``change`` that are given, and return the whole profile; raises
    :class:`UnknownCouncil` for an unknown council. The caller commits."""
    with conn.transaction():
        require_council(conn, slug)
        values: dict[str, Any] = {
            c: getattr(change, c) for c in _COLUMNS if getattr(change, c) is not None
        }
        if "bbox" in values:
            values["bbox"] = list(values["bbox"])
        if "boundary" in values:
            values["boundary"] = Jsonb(values["boundary"])
        if values:
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in values
            )
            conn.execute(
                sql.SQL("UPDATE council SET {} WHERE slug = %(slug)s").format(assignments),
                values | {"slug": slug},
            )
        if change.depot is not None:
            set_depot(conn, slug, change.depot)
        for z in change.zones or ():
            conn.execute(
                "INSERT INTO council_zone (council, zone, display_name, boundary) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (council, zone) DO UPDATE SET "
                "display_name = EXCLUDED.display_name, "
                "boundary = COALESCE(EXCLUDED.boundary, council_zone.boundary)",
                (slug, z.zone, z.display_name, None if z.boundary is None else Jsonb(z.boundary)),
            )
        return load_profile(conn, slug)


def set_depot(conn: psycopg.Connection, slug: str, depot: DepotPlace) -> None:
    """Register (or move) the council's depot."""
    conn.execute(
        "INSERT INTO collection_depot (council, name, lat, lon) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (council) DO UPDATE SET name = EXCLUDED.name, lat = EXCLUDED.lat, "
        "lon = EXCLUDED.lon",
        (slug, depot.name, depot.lat, depot.lon),
    )


def zone_names(conn: psycopg.Connection, slug: str) -> dict[str, str]:
    """The council's zones' display names by zone (zones without one are absent)."""
    return {
        str(z): str(n)
        for z, n in conn.execute(
            "SELECT zone, display_name FROM council_zone WHERE council = %s", (slug,)
        )
    }
