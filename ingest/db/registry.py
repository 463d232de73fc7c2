"""The device registry: councils, bins and people counters.

Imported from a CSV with columns ``council,kind,device_id,lat,lon,zone,capacity_litres`` and
optional ``address`` (street or address shown to crews) and, for real devices (README:
Connecting real devices), ``network,network_id,model,depth_mm,model_config``. A file is checked
whole before anything is written, so a bad row never leaves half a registry behind.
"""

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingest.codecs import check_model
from ingest.contract.decode import describe_validation_error
from ingest.contract.lorawan import BRIDGED, Network
from ingest.contract.topics import COUNCIL_PATTERN, DEVICE_ID_PATTERN
from ingest.errors import RegistryError

COLUMNS = ("council", "kind", "device_id", "lat", "lon", "zone", "capacity_litres")
NETWORK_COLUMNS = ("network", "network_id", "model", "depth_mm", "model_config")
OPTIONAL_COLUMNS = ("address", *NETWORK_COLUMNS)
NETWORK_ID_PATTERN = r"[a-z0-9](?:[a-z0-9_.:-]{0,62}[a-z0-9])?"
"""A DevEUI in lower-case hex, or a network server's device id (as in migration 0015)."""
_SELECT = (
    "SELECT device_id, council, kind, zone, network, network_id, model, depth_mm, model_config "
    "FROM device"
)


class DeviceCreate(BaseModel):
    """One row of the registry file."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, populate_by_name=True, protected_namespaces=()
    )

    council: str = Field(pattern=f"^{COUNCIL_PATTERN}$", description="Council slug.")
    kind: Literal["bin", "counter"] = Field(description="What the device is.")
    device_id: str = Field(pattern=f"^{DEVICE_ID_PATTERN}$", description="Unique device id.")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="Latitude (WGS 84).")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="Longitude (WGS 84).")
    zone: str | None = Field(default=None, max_length=80, description="Town-centre zone name.")
    capacity_litres: int | None = Field(default=None, gt=0, le=100_000, description="Bin size.")
    address: str | None = Field(default=None, max_length=200, description="Street or address.")
    network: Network = Field(
        default=Network.MQTT, description="Where readings come from: mqtt, ttn, chirpstack, http."
    )
    network_id: str | None = Field(
        default=None,
        pattern=f"^{NETWORK_ID_PATTERN}$",
        description="The DevEUI or the network server's device id (case is ignored).",
    )
    model: str | None = Field(default=None, description="Device model (ingest.codecs.MODELS).")
    depth_mm: int | None = Field(
        default=None, ge=1, le=20_000, description="Ultrasonic sensor to bin floor, in mm."
    )
    model_config_: dict[str, Any] = Field(
        default_factory=dict,
        alias="model_config",
        description="The model's settings for this device, a JSON object.",
    )

    @field_validator("network", mode="before")
    @classmethod
    def _default_network(cls, value: object) -> object:
        return Network.MQTT if value is None else value

    @field_validator("network_id", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("model_config_", mode="before")
    @classmethod
    def _json(cls, value: object) -> object:
        if value is None:  # an empty cell
            return {}
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ValueError(f"model_config is not JSON: {exc}") from None
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> "DeviceCreate":
        if self.kind == "bin" and self.capacity_litres is None:
            raise ValueError("a bin needs capacity_litres")
        if self.kind == "counter" and not self.zone:
            raise ValueError("a counter needs a zone")
        if self.network in BRIDGED and (self.network_id is None or self.model is None):
            raise ValueError(f"a {self.network.value} device needs network_id and model")
        if self.model is not None:
            problem = check_model(self.model, self.model_config_, self.depth_mm, self.kind)
            if problem is not None:
                raise ValueError(problem)
        return self


@dataclass(frozen=True, slots=True)
class RegisteredDevice:
    """What ingest needs to know about a registered device."""

    device_id: str
    council: str
    kind: str
    zone: str | None
    network: str = Network.MQTT.value
    network_id: str | None = None
    model: str | None = None
    depth_mm: int | None = None
    model_config: dict[str, Any] = field(default_factory=dict)


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
    seen_network: dict[tuple[str, str], int] = {}
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
        if device.network_id is not None:
            key = (device.network.value, device.network_id)
            if key in seen_network:
                problems.append(
                    f"{source}:{line}: {key[0]} device {key[1]} already listed on line "
                    f"{seen_network[key]}"
                )
                continue
            seen_network[key] = line
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
        networked = [d for d in rows if d.network_id is not None]
        taken = conn.execute(
            "SELECT d.network, d.network_id, d.device_id FROM device d "
            "JOIN unnest(%s::text[], %s::text[], %s::text[]) AS n(network, network_id, device_id) "
            "USING (network, network_id) WHERE d.device_id <> n.device_id",
            (
                [d.network.value for d in networked],
                [d.network_id for d in networked],
                [d.device_id for d in networked],
            ),
        ).fetchall()
        if taken:
            listed = ", ".join(f"{net} {nid} (registered as {dev})" for net, nid, dev in taken[:5])
            raise RegistryError(f"network identity already registered to another device: {listed}")
        conn.cursor().executemany(
            """
            INSERT INTO device
                (device_id, council, kind, lat, lon, zone, capacity_litres, address,
                 network, network_id, model, depth_mm, model_config)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (device_id) DO UPDATE SET
                kind = EXCLUDED.kind, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
                zone = EXCLUDED.zone, capacity_litres = EXCLUDED.capacity_litres,
                address = EXCLUDED.address, network = EXCLUDED.network,
                network_id = EXCLUDED.network_id, model = EXCLUDED.model,
                depth_mm = EXCLUDED.depth_mm, model_config = EXCLUDED.model_config,
                updated_at = now()
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
                    d.network.value,
                    d.network_id,
                    d.model,
                    d.depth_mm,
                    Jsonb(d.model_config_),
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
    row = conn.execute(_SELECT + " WHERE device_id = %s", (device_id,)).fetchone()
    return None if row is None else RegisteredDevice(*row)


def lookup_network_device(
    conn: psycopg.Connection, network: str, network_id: str
) -> RegisteredDevice | None:
    """The device a network knows as ``network_id`` (a DevEUI or its own device id), or ``None``."""
    row = conn.execute(
        _SELECT + " WHERE network = %s AND network_id = %s", (network, network_id.lower())
    ).fetchone()
    return None if row is None else RegisteredDevice(*row)


def load_devices(conn: psycopg.Connection) -> dict[str, RegisteredDevice]:
    """Every registered device, by id."""
    return {row[0]: RegisteredDevice(*row) for row in conn.execute(_SELECT)}


def write_registry_csv(devices: Iterable[DeviceCreate]) -> str:
    """Render devices in the import format (used by the simulators); the network columns are
    written only when a device uses them, so a file of MQTT devices keeps its old shape."""
    rows = list(devices)
    real = any(d.network is not Network.MQTT or d.model is not None for d in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + OPTIONAL_COLUMNS if real else (*COLUMNS, "address"))
    for d in rows:
        network = [
            d.network.value,
            d.network_id or "",
            d.model or "",
            d.depth_mm or "",
            json.dumps(d.model_config_) if d.model_config_ else "",
        ]
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
                *(network if real else []),
            ]
        )
    return out.getvalue()
