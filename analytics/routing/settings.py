"""Settings of collection planning (``SMARTSTREETS_ROUTING_*``), shared by the CLI and the API."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RoutingSettings(BaseSettings):
    """How shifts run and where travel times come from."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTREETS_ROUTING_", extra="forbid")

    shift_start: str = Field(
        default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local start, HH:MM."
    )
    shift_hours: float = Field(default=7.0, ge=0.5, le=24, description="Longest shift.")
    sundays: bool = Field(default=True, description="Whether crews also work on Sundays.")
    vehicles: int = Field(default=2, ge=1, le=200, description="Vehicles per shift.")
    capacity_litres: int = Field(
        default=8000, ge=100, le=200_000, description="Loose litter a vehicle takes per trip."
    )
    trips: int = Field(default=2, ge=1, le=10, description="Trips per shift (tipping between).")
    service_s: int = Field(default=60, ge=0, le=3600, description="Seconds to empty a bin.")
    threshold_pct: float = Field(
        default=80.0, ge=10, le=100, description="Fill at which a bin should be emptied."
    )
    seconds: float = Field(
        default=5.0, gt=0, le=600, description="Time limit of the route search per plan."
    )
    osrm_url: str | None = Field(
        default=None, description="OSRM server for travel times (e.g. http://osrm:5000)."
    )
    osm_file: Path | None = Field(
        default=None, description="OpenStreetMap extract (.osm.pbf) to route on the roads."
    )
    tile_url: str | None = Field(
        default=None,
        description="XYZ tile template for route maps, e.g. https://tile.example/{z}/{x}/{y}.png;"
        " unset: maps draw without a base map and need no internet access.",
    )
