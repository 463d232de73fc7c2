"""Request and response models of the API (``…Create`` = what comes in, ``…Public`` = what
leaves the building)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from analytics.potholes.lifecycle import Action, Lifecycle

BusyLevel = Literal["quiet", "usual", "busy", "very busy", "unknown"]
CrowdLevel = Literal["quiet", "moderate", "busy", "at its busiest", "unknown"]
VisitKind = Literal["now", "later", "between", "all day", "tomorrow", "unknown"]


class ServiceHealth(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: str


class DatabaseHealth(ServiceHealth):
    """The database's state and what it runs."""

    server_version: str | None = None
    timescaledb: str | None = Field(default=None, description="TimescaleDB version, if enabled.")
    storage: str | None = Field(default=None, description="timescaledb or postgres.")


class HealthPublic(BaseModel):
    """Whether the platform can take and serve data."""

    status: Literal["ok", "degraded"]
    version: str
    database: DatabaseHealth
    broker: ServiceHealth


class BinFillPublic(BaseModel):
    """A bin with its latest reading."""

    device_id: str
    lat: float
    lon: float
    street: str | None = Field(
        default=None, description="The registry's address, else the street it stands on."
    )
    zone: str | None
    capacity_litres: int | None
    fill_pct: float | None = Field(description="Latest fill level; null if never heard from.")
    ts: datetime | None = Field(description="When the latest reading was taken.")
    battery_v: float | None
    flags: list[str]
    stale: bool = Field(description="No reading within the staleness window.")


class ZoneNowPublic(BaseModel):
    """How busy a zone is now compared with the same hour of the week recently."""

    zone: str
    level: BusyLevel
    reason: str = Field(description="Why this level, in plain words.")
    count_last_hour: int | None = Field(description="People counted in the last 60 minutes.")
    usual_count: float | None = Field(
        description="Mean count for the same 60 minutes of the week over the last four weeks, "
        "from the same counters."
    )
    counters_total: int
    counters_reporting: int
    as_of: datetime
    summary: str = Field(
        default="",
        description='The level in words, e.g. "Busier than usual for a Saturday lunchtime".',
    )
    crowd: CrowdLevel = Field(
        default="unknown",
        description="How crowded the zone is in its own terms, whatever the time: the last "
        "hour's count against its busy hour (peak_count): quiet under 35%, moderate under 70%, "
        "busy under 110%, at its busiest from 110%. Busier than usual at 6 a.m. is still quiet.",
    )
    crowd_summary: str = Field(
        default="",
        description='The crowd in words, e.g. "Quiet for this place: about 20% of the crowd at '
        'its busy times".',
    )
    crowd_share: float | None = Field(
        default=None, description="count_last_hour as a share of peak_count (1.0 = a busy hour)."
    )
    peak_count: float | None = Field(
        default=None,
        description="The zone's busy hour: the 90th percentile of its hourly counts over the "
        "last four weeks, from the counters reporting now.",
    )
    best_time: str = Field(
        default="",
        description='The best time to visit today, in words: "Quieter after 15:00", "Quietest '
        'between 10:00 and 11:00", "Busy all afternoon; quieter tomorrow morning (09:00 to '
        '10:00)". Unknown, and said so, when the zone has no forecast.',
    )
    best_time_kind: VisitKind = Field(
        default="unknown",
        description="now, later (until closing), between, all day (no quieter time left), "
        "tomorrow, or unknown (no forecast: a counter may be out of order).",
    )
    best_from: datetime | None = Field(
        default=None,
        description="Start of the quietest stretch, in the council's local time (with offset); "
        "only hours from 08:00 to 20:00 that are usually at least a quarter as busy as the "
        "day's busiest are considered.",
    )
    best_until: datetime | None = Field(
        default=None, description="End of the quietest stretch, in local time (with offset)."
    )


class ForecastHourPublic(BaseModel):
    """One hour ahead: expected people counted, an 80% interval, and what is usual."""

    ts: datetime = Field(description="Start of the hour (UTC).")
    forecast: float
    lo80: float = Field(description="8 in 10 hours like this fall between lo80 and hi80.")
    hi80: float
    usual: float | None = Field(description="Mean of the same hour over the last four weeks.")


class ForecastPublic(BaseModel):
    """The next 48 hours of a zone (or of one counter, where the council publishes them)."""

    zone: str
    counter: str | None = None
    made_at: datetime = Field(description="When the forecast was made.")
    hours: list[ForecastHourPublic] = Field(
        description="Hour by hour from now; empty when the forecast is withheld (see unknown)."
    )
    counted_until: datetime | None = Field(
        default=None,
        description="End of the last counted hour the forecast knew: its first hours lean on "
        "today's counts so far (see today_vs_usual).",
    )
    today_vs_usual: float | None = Field(
        default=None,
        description="Today's counts up to counted_until over the usual for those hours "
        "(1.0 = as usual): the departure the next hours are forecast to carry on, in part.",
    )
    unknown: str | None = Field(
        default=None,
        description="Why there is no forecast now (a counter that stopped counting, or counts a "
        "trickle of its usual day); null when there is one.",
    )


class BumpPublic(BaseModel):
    """One jolt report (the phone's id is never published)."""

    ts: datetime
    lat: float
    lon: float
    speed_mps: float
    peak_z_g: float
    heading_deg: float | None
    accuracy_m: float | None


class ErrorPublic(BaseModel):
    """A request the API refused."""

    detail: str


TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic},
    403: {"model": ErrorPublic},
    422: {"model": ErrorPublic},
}
"""The refusals of every endpoint behind a token, for the OpenAPI document."""


class PotholePublic(BaseModel):
    """A pothole as confirmed from many phones (their ids are never published)."""

    pothole_id: int
    lat: float
    lon: float
    street: str | None = Field(
        default=None, description="Where, in words: 'High Street, near Church Street'."
    )
    heading_deg: float | None = Field(description="Direction of travel, degrees from north.")
    severity: float = Field(description="Mean severity in [0, 1].")
    confidence: float = Field(description="Confidence in [0, 1]; grows with distinct phones.")
    reports: int
    devices: int = Field(description="Distinct phones that reported it.")
    first_seen: datetime
    last_seen: datetime
    state: Lifecycle
    state_changed_at: datetime
    duplicate_of: int | None


class PotholeActionCreate(BaseModel):
    """A council's action on a pothole."""

    action: Action
    duplicate_of: int | None = Field(
        default=None, description="With mark_duplicate: the pothole this one duplicates."
    )


class PotholeStatePublic(BaseModel):
    """A pothole's state after an action."""

    pothole_id: int
    state: Lifecycle
    duplicate_of: int | None


class ServiceRequestPublic(BaseModel):
    """An Open311 GeoReport v2 service request."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str
    requested_datetime: datetime
    updated_datetime: datetime
    address: str | None = Field(description="Where, in words (the street and a cross street).")
    lat: float
    long: float


class CollectionCreate(BaseModel):
    """A bin a crew has emptied."""

    model_config = ConfigDict(extra="forbid")

    collected_at: datetime | None = Field(
        default=None, description="When it was emptied (default: now); with a time zone."
    )
    plan_id: int | None = Field(default=None, description="The plan it was emptied on.")


class CollectionPublic(BaseModel):
    """A recorded collection."""

    device_id: str
    collected_at: datetime
    plan_id: int | None
