"""What a collection plan is: routes of ordered stops, the bins left for another day and why.

These models are the plan's one shape everywhere: the planner builds them, the CLI prints them,
the API returns them and the exporters (GeoJSON, GPX, the printable page) read them.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Decision = Literal["must", "worth", "skip"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stop(_Frozen):
    """One bin to empty, in visiting order."""

    device_id: str = Field(description="The bin's device id.")
    lat: float = Field(description="Latitude (WGS 84).")
    lon: float = Field(description="Longitude (WGS 84).")
    street: str | None = Field(default=None, description="Street or address, when known.")
    zone: str | None = Field(default=None, description="Town-centre zone, when in one.")
    decision: Decision = Field(description="'must' (would pass the threshold) or 'worth'.")
    reason: str = Field(description="Why the bin is on the route, in words.")
    fill_now_pct: float | None = Field(description="Best estimate of the fill at shift start.")
    predicted_fill_pct: float | None = Field(
        description="Predicted fill at the next collection opportunity if left (median)."
    )
    fill_at_visit_pct: float | None = Field(
        default=None, description="Predicted fill at the planned arrival (median, capped at 100)."
    )
    overflow_at: datetime | None = Field(
        default=None,
        description="When it could overflow if left (upper forecast), if before "
        "the next collection opportunity.",
    )
    overflow_likely: bool = Field(
        default=False,
        description="The median forecast overflows by then too ('will', not 'could').",
    )
    load_litres: float = Field(description="Litres the vehicle takes on at this stop.")
    arrival: datetime = Field(description="Planned arrival time.")
    distance_from_previous_m: float = Field(description="Driving distance from the last stop.")


class VehicleRoute(_Frozen):
    """One vehicle's shift: depot, stops, depot."""

    vehicle: int = Field(description="Vehicle number, from 1.")
    stops: list[Stop] = Field(description="Bins in visiting order.")
    distance_m: float = Field(description="Driving distance, depot to depot.")
    duration_s: float = Field(description="Shift time: driving plus service, depot to depot.")
    load_litres: float = Field(description="Litres collected.")
    path: list[tuple[float, float]] = Field(
        description="The driven line as (lat, lon) points, depot to depot."
    )


class SkippedBin(_Frozen):
    """A bin not on any route, and why."""

    device_id: str
    lat: float
    lon: float
    street: str | None = None
    zone: str | None = None
    decision: Decision = Field(description="'skip', or 'must'/'worth' when it did not fit.")
    reason: str = Field(description="Why it is not collected today.")
    fill_now_pct: float | None = None
    predicted_fill_pct: float | None = None
    overflow_at: datetime | None = None
    overflow_likely: bool = False


class Saving(_Frozen):
    """The plan against emptying every bin on this shift with the same vehicles."""

    all_bins_distance_m: float
    all_bins_duration_s: float
    plan_distance_m: float
    plan_duration_s: float
    distance_saved_pct: float
    bins_all: int
    bins_planned: int


class Plan(_Frozen):
    """A council's collection plan for one shift."""

    council: str
    shift_date: date
    shift_start: datetime
    shift_end: datetime
    depot: tuple[float, float] = Field(description="(lat, lon) of the depot.")
    travel: str = Field(description="Where travel times came from: network, osrm or haversine.")
    routes: list[VehicleRoute]
    skipped: list[SkippedBin] = Field(description="Bins left for another day, with reasons.")
    left_out: list[SkippedBin] = Field(
        description="Bins that should have been collected but did not fit the fleet or shift."
    )
    saving: Saving | None = Field(default=None, description="Against collecting every bin.")
    created_at: datetime
    plan_id: int | None = Field(default=None, description="Id once stored.")

    @property
    def distance_m(self) -> float:
        return sum(r.distance_m for r in self.routes)

    @property
    def duration_s(self) -> float:
        return sum(r.duration_s for r in self.routes)
