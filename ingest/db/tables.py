"""Which table each stream's readings are stored in, and a reading as a row of its COPY columns.

Every reading table starts with ``council`` and ``device_id`` and ends with ``received_at``;
the columns between are the stream's own. A row's values follow its table's columns, in order.
"""

from dataclasses import dataclass
from datetime import datetime

from ingest.contract.decode import Reading
from ingest.contract.payloads import BinFillReading, BumpReport, FootfallCount, TripCoverage
from ingest.contract.topics import Stream
from ingest.db.registry import RegisteredDevice


@dataclass(frozen=True)
class Table:
    """A reading table: its name, and the columns COPY fills with their binary types."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]


def _table(name: str, *own: tuple[str, str]) -> Table:
    """A reading table with the stream's ``own`` (column, type) pairs between the shared ones."""
    pairs = (("council", "text"), ("device_id", "text"), *own, ("received_at", "timestamptz"))
    return Table(name, tuple(c for c, _ in pairs), tuple(t for _, t in pairs))


TABLES = {
    Stream.BIN_FILL: _table(
        "bin_fill",
        ("ts", "timestamptz"),
        ("fill_pct", "float4"),
        ("seq", "int8"),
        ("battery_v", "float4"),
        ("temperature_c", "float4"),
        ("flags", "text[]"),
    ),
    Stream.BUMP: _table(
        "bump_report",
        ("ts", "timestamptz"),
        ("lat", "float8"),
        ("lon", "float8"),
        ("speed_mps", "float4"),
        ("peak_z_g", "float4"),
        ("seq", "int8"),
        ("accuracy_m", "float4"),
        ("heading_deg", "float4"),
        ("sample_hz", "float4"),
        ("samples_z_g", "float4[]"),
    ),
    Stream.FOOTFALL: _table(
        "footfall_count",
        ("zone", "text"),
        ("period_start", "timestamptz"),
        ("period_end", "timestamptz"),
        ("count", "int4"),
        ("count_in", "int4"),
        ("count_out", "int4"),
        ("seq", "int8"),
    ),
    Stream.COVERAGE: _table(
        "trip_coverage",
        ("ts_start", "timestamptz"),
        ("ts_end", "timestamptz"),
        ("lats", "float8[]"),
        ("lons", "float8[]"),
        ("seq", "int8"),
        ("rough_lats", "float8[]"),
        ("rough_lons", "float8[]"),
        ("rough_iri", "float4[]"),
    ),
}
"""The table of each stream."""

PHONE_STREAMS = frozenset({Stream.BUMP, Stream.COVERAGE})
"""Streams whose device ids are phones' own ids, stored only as pseudonyms."""


def table_of(stream: Stream) -> str:
    """The table a stream's readings are stored in."""
    return TABLES[stream].name


def row_of(
    reading: Reading, device: RegisteredDevice | None, received_at: datetime, device_id: str
) -> tuple[object, ...]:
    """``reading`` as a row of its table, stored under ``device_id``; a footfall count takes
    its zone from ``device``, the registered counter."""
    return (reading.topic.council, device_id, *_own(reading, device), received_at)


def _own(reading: Reading, device: RegisteredDevice | None) -> tuple[object, ...]:
    """The values of the stream's own columns."""
    p = reading.payload
    if isinstance(p, BinFillReading):
        flags = [f.value for f in p.flags]
        return (p.ts, p.fill_pct, p.seq, p.battery_v, p.temperature_c, flags)
    if isinstance(p, BumpReport):
        motion = (p.ts, p.lat, p.lon, p.speed_mps, p.peak_z_g, p.seq)
        return (*motion, p.accuracy_m, p.heading_deg, p.sample_hz, p.samples_z_g)
    if isinstance(p, TripCoverage):
        lats, lons = [lat for lat, _ in p.points], [lon for _, lon in p.points]
        rough = p.roughness
        if rough is None:
            return (p.ts_start, p.ts_end, lats, lons, p.seq, None, None, None)
        stretches = ([r[0] for r in rough], [r[1] for r in rough], [r[2] for r in rough])
        return (p.ts_start, p.ts_end, lats, lons, p.seq, *stretches)
    assert isinstance(p, FootfallCount) and device is not None and device.zone is not None
    return (device.zone, p.period_start, p.period_end, p.count, p.count_in, p.count_out, p.seq)
