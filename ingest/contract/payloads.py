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


Payload = BinFillReading | BumpReport | FootfallCount

_MODELS: dict[Stream, type[BinFillReading] | type[BumpReport] | type[FootfallCount]] = {
    Stream.BIN_FILL: BinFillReading,
    Stream.BUMP: BumpReport,
    Stream.FOOTFALL: FootfallCount,
}


def payload_model(
    stream: Stream,
) -> type[BinFillReading] | type[BumpReport] | type[FootfallCount]:
    """Return the payload model of ``stream``."""
    return _MODELS[stream]
