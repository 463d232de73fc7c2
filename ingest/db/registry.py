"""The device registry: councils, bins and people counters.

Imported from a CSV with columns ``council,kind,device_id,lat,lon,zone,capacity_litres`` and an
optional ``address`` (street or address shown to crews). A file is checked whole before anything
is written, so a bad row never leaves half a registry behind.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingest.contract.decode import describe_validation_error
from ingest.contract.topics import COUNCIL_PATTERN, DEVICE_ID_PATTERN
from ingest.errors import RegistryError

COLUMNS = ("council", "kind", "device_id", "lat", "lon", "zone", "capacity_litres")
OPTIONAL_COLUMNS = ("address",)


class DeviceCreate(BaseModel):
    """One row of the registry file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    council: str = Field(pattern=f"^{COUNCIL_PATTERN}$", description="Council slug.")
    kind: Literal["bin", "counter"] = Field(description="What the device is.")
    device_id: str = Field(pattern=f"^{DEVICE_ID_PATTERN}$", description="Unique device id.")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="Latitude (WGS 84).")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="Longitude (WGS 84).")
    zone: str | None = Field(default=None, max_length=80, description="Town-centre zone name.")
    capacity_litres: int | None = Field(default=None, gt=0, le=100_000, description="Bin size.")
    address: str | None = Field(default=None, max_length=200, description="Street or address.")

    @model_validator(mode="after")
    def _kind_needs(self) -> "DeviceCreate":
        if self.kind == "bin" and self.capacity_litres is None:
            raise ValueError("a bin needs capacity_litres")
        if self.kind == "counter" and not self.zone:
            raise ValueError("a counter needs a zone")
        return self


@dataclass(frozen=True, slots=True)
class RegisteredDevice:
    """What ingest needs to know about a registered device."""

    device_id: str
    council: str
    kind: str
    zone: str | None


def parse_registry(text: str, source: str = "registry") -> list[DeviceCreate]:
    """Parse and check a registry CSV; raise :class:`RegistryError` listing every bad row."""
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RegistryError(f"{source}: missing column(s) {', '.join(missing)}")
    devices: list[DeviceCreate] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        values = {
            k: (v if v not in ("", None) else None)
            for k, v in row.items()
            if k in COLUMNS + OPTIONAL_COLUMNS
        }
        try:
            device = DeviceCreate.model_validate(values)
        except ValidationError as exc:
            problems.append(f"{source}:{line}: {describe_validation_error(exc)}")
            continue
        if device.device_id in seen:
            problems.append(
                f"{source}:{line}: device {device.device_id} already listed on line "
                f"{seen[device.device_id]}"
            )
            continue
        seen[device.device_id] = line
        devices.append(device)
    if problems:
        shown = problems[:20]
        more = len(problems) - len(shown)
        raise RegistryError("\n".join(shown + ([f"... and {more} more"] if more else [])))
    return devices


def read_registry(path: Path) -> list[DeviceCreate]:
    """Read and check a registry CSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path} is not UTF-8 text") from exc
    return parse_registry(text, str(path))


def import_devices(conn: psycopg.Connection, devices: Iterable[DeviceCreate]) -> int:
    """Insert or update devices (and create their councils); return how many rows were written.

    A device already registered to another council is refused: moving a device between councils
    would hand its history to the other council.
    """
    rows = list(devices)
    with conn.transaction():
        councils = sorted({d.council for d in rows})
        conn.cursor().executemany(
            "INSERT INTO council (slug, name) VALUES (%s, %s) ON CONFLICT (slug) DO NOTHING",
            [(c, c) for c in councils],
        )
        clashes = conn.execute(
            "SELECT d.device_id, d.council FROM device d "
            "JOIN unnest(%s::text[], %s::text[]) AS n(device_id, council) USING (device_id) "
            "WHERE d.council <> n.council",
            ([d.device_id for d in rows], [d.council for d in rows]),
        ).fetchall()
        if clashes:
            listed = ", ".join(f"{dev} (registered to {council})" for dev, council in clashes[:5])
            raise RegistryError(f"device(s) already registered to another council: {listed}")
        conn.cursor().executemany(
            """
            INSERT INTO device
                (device_id, council, kind, lat, lon, zone, capacity_litres, address)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (device_id) DO UPDATE SET
                kind = EXCLUDED.kind, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
                zone = EXCLUDED.zone, capacity_litres = EXCLUDED.capacity_litres,
                address = EXCLUDED.address, updated_at = now()
            """,
            [
                (
                    d.device_id,
                    d.council,
                    d.kind,
                    d.lat,
                    d.lon,
                    d.zone,
                    d.capacity_litres,
                    d.address,
                )
                for d in rows
            ],
        )
    return len(rows)


def ensure_council(conn: psycopg.Connection, slug: str, name: str | None = None) -> None:
    """Register a council if it is not yet known (phones need one, but no devices)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO council (slug, name) VALUES (%s, %s) ON CONFLICT (slug) DO NOTHING",
            (slug, name or slug),
        )


def lookup_device(conn: psycopg.Connection, device_id: str) -> RegisteredDevice | None:
    """The registered device with this id, or ``None``."""
    row = conn.execute(
        "SELECT device_id, council, kind, zone FROM device WHERE device_id = %s", (device_id,)
    ).fetchone()
    return None if row is None else RegisteredDevice(*row)


def load_devices(conn: psycopg.Connection) -> dict[str, RegisteredDevice]:
    """Every registered device, by id."""
    return {
        row[0]: RegisteredDevice(*row)
        for row in conn.execute("SELECT device_id, council, kind, zone FROM device")
    }


def write_registry_csv(devices: Iterable[DeviceCreate]) -> str:
    """Render devices in the import format (used by the simulators)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + OPTIONAL_COLUMNS)
    for d in devices:
        writer.writerow(
            [
                d.council,
                d.kind,
                d.device_id,
                f"{d.lat:.6f}",
                f"{d.lon:.6f}",
                d.zone or "",
                d.capacity_litres or "",
                d.address or "",
            ]
        )
    return out.getvalue()
