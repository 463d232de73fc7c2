"""Payload models of the device contract, one per stream.

These models are the single definition of what a device may send: ingest validates with them,
simulators build their messages with them and ``docs/asyncapi.yaml`` is generated from them.
Validation is strict (no silent string-to-number coercion, no unknown fields) so that a firmware
bug shows up as a quarantined message with a reason instead of as wrong data.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ingest.contract.topics import Stream

MAX_PAYLOAD_BYTES = 64 * 1024
"""Largest payload ingest accepts; bigger ones are quarantined unread."""

MAX_SAMPLES = 4096
"""Most accelerometer samples a bump report may carry (about 40 s at 100 Hz)."""


class _Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class BinFlag(StrEnum):
    """Conditions a bin sensor can report alongside its fill level."""

    LID_OPEN = "lid_open"
    TILTED = "tilted"
    FIRE = "fire"


Seq = Annotated[
    int,
    Field(ge=0, le=2**63 - 1, description="Message counter kept by the device; helps spot gaps."),
]


class BinFillReading(_Payload):
    """A litter bin's fill level (stream ``bin-fill``)."""

    ts: AwareDatetime = Field(description="When the level was measured (RFC 3339 with offset).")
    fill_pct: float = Field(ge=0, le=100, description="How full the bin is, in percent.")
    seq: Seq | None = None
    battery_v: float | None = Field(
        default=None, ge=0, le=60, description="Battery voltage in volts."
    )
    temperature_c: float | None = Field(
        default=None, ge=-60, le=200, description="Temperature inside the bin in °C."
    )
    flags: list[BinFlag] = Field(
        default_factory=list,
        max_length=len(BinFlag),
        description="Conditions the sensor detected: a subset of lid_open, tilted, fire.",
    )

    @model_validator(mode="after")
    def _flags_unique(self) -> Self:
        if len(set(self.flags)) != len(self.flags):
            raise ValueError("flags must not repeat")
        return self


class BumpReport(_Payload):
    """A jolt detected by a phone in a vehicle (stream ``bump``).

    The device id is a pseudonymous phone or trip token; phones are not registered.
    """

    ts: AwareDatetime = Field(description="When the jolt happened (RFC 3339 with offset).")
    lat: float = Field(ge=-90, le=90, description="Latitude in degrees (WGS 84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in degrees (WGS 84).")
    speed_mps: float = Field(ge=0, le=100, description="Vehicle speed in metres per second.")
    peak_z_g: float = Field(
        ge=0, le=32, description="Peak vertical acceleration of the jolt, in g, gravity removed."
    )
    seq: Seq | None = None
    accuracy_m: float | None = Field(
        default=None, ge=0, le=10_000, description="GPS horizontal accuracy in metres."
    )
    heading_deg: float | None = Field(
        default=None, ge=0, lt=360, description="Direction of travel, degrees clockwise from north."
    )
    sample_hz: float | None = Field(
        default=None, gt=0, le=1000, description="Sampling rate of samples_z_g in hertz."
    )
    samples_z_g: list[float] | None = Field(
        default=None,
        max_length=MAX_SAMPLES,
        description="Vertical acceleration window around the jolt, in g, gravity removed.",
    )

    @model_validator(mode="after")
    def _samples_need_rate(self) -> Self:
        if self.samples_z_g is not None and self.sample_hz is None:
            raise ValueError("samples_z_g needs sample_hz")
        return self


class FootfallCount(_Payload):
    """People counted by a counter over a period (stream ``footfall``)."""

    period_start: AwareDatetime = Field(description="Start of the counting period (RFC 3339).")
    period_end: AwareDatetime = Field(description="End of the counting period (RFC 3339).")
    count: int = Field(ge=0, le=10_000_000, description="People counted in the period.")
    seq: Seq | None = None
    count_in: int | None = Field(
        default=None, ge=0, le=10_000_000, description="People counted entering."
    )
    count_out: int | None = Field(
        default=None, ge=0, le=10_000_000, description="People counted leaving."
    )

    @model_validator(mode="after")
    def _period_is_sane(self) -> Self:
        length = (self.period_end - self.period_start).total_seconds()
        if length <= 0:
            raise ValueError("period_end must be after period_start")
        if length > 24 * 3600:
            raise ValueError("a counting period must not exceed 24 hours")
        return self

    @property
    def ts(self) -> datetime:
        """The reading's time, for checks shared by every stream."""
        return self.period_start


MAX_TRACK_POINTS = 2000
"""Most points a coverage track may carry (50 km at one point every 25 m)."""

TrackPoint = Annotated[
    list[float], Field(min_length=2, max_length=2, description="[latitude, longitude] in degrees.")
]


MAX_IRI_M_PER_KM = 50.0
"""Largest roughness a stretch may report: beyond any road a car can drive (unpaved tracks in
very poor condition reach 20-25 m/km)."""

RoughnessStretch = Annotated[
    list[float],
    Field(
        min_length=3,
        max_length=3,
        description="[latitude, longitude, IRI in m/km] of one stretch of about 100 m, at its "
        "middle.",
    ),
]


class TripCoverage(_Payload):
    """Where a phone drove on one trip (stream ``coverage``).

    Sent once per trip, after the trip, with the first and last 200 m left off so that nobody's
    home or workplace can be read from it. It lets highways teams tell a road that phones drive
    and find smooth from one that phones never drive.
    """

    ts_start: AwareDatetime = Field(description="When the track starts (RFC 3339 with offset).")
    ts_end: AwareDatetime = Field(description="When the track ends (RFC 3339 with offset).")
    points: list[TrackPoint] = Field(
        min_length=2,
        max_length=MAX_TRACK_POINTS,
        description="The route driven, one [lat, lon] about every 25 m, in driving order.",
    )
    roughness: list[RoughnessStretch] | None = Field(
        default=None,
        max_length=MAX_TRACK_POINTS // 4,
        description="Estimated International Roughness Index of the road per stretch of about "
        "100 m driven (the phone's 'potholes roughness' measure), within the same trimmed track; "
        "absent when the phone does not measure it.",
    )
    seq: Seq | None = None

    @model_validator(mode="after")
    def _track_is_sane(self) -> Self:
        if self.ts_end < self.ts_start:
            raise ValueError("ts_end must not be before ts_start")
        if (self.ts_end - self.ts_start).total_seconds() > 24 * 3600:
            raise ValueError("a trip must not exceed 24 hours")
        for lat, lon in self.points:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"point [{lat}, {lon}] is not a WGS 84 latitude and longitude")
        for lat, lon, iri in self.roughness or ():
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"stretch [{lat}, {lon}] is not a WGS 84 latitude and longitude")
            if not 0 <= iri <= MAX_IRI_M_PER_KM:
                raise ValueError(f"roughness {iri} m/km is not in [0, {MAX_IRI_M_PER_KM:g}]")
        return self

    @property
    def ts(self) -> datetime:
        """The reading's time, for checks shared by every stream."""
        return self.ts_end


Payload = BinFillReading | BumpReport | FootfallCount | TripCoverage
PayloadModel = type[BinFillReading] | type[BumpReport] | type[FootfallCount] | type[TripCoverage]

_MODELS: dict[Stream, PayloadModel] = {
    Stream.BIN_FILL: BinFillReading,
    Stream.BUMP: BumpReport,
    Stream.FOOTFALL: FootfallCount,
    Stream.COVERAGE: TripCoverage,
}


def payload_model(stream: Stream) -> PayloadModel:
    """Return the payload model of ``stream``."""
    return _MODELS[stream]
