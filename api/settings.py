"""Settings of the API process."""

from pathlib import Path

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """How the API listens and talks to the database."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTREETS_API_", extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to listen on.")
    pool_size: int = Field(default=8, ge=1, le=200, description="Most database connections.")
    health_cache_s: float = Field(
        default=5,
        ge=0,
        le=300,
        description="Seconds /health reuses its database and broker probes' results, failures "
        "included (each process probes each at most once per interval); 0: probe every call.",
    )
    stale_after_min: int = Field(
        default=30,
        ge=1,
        le=1440,
        description="Minutes without a reading after which a counter or bin counts as stale.",
    )
    rate_limit_per_min: int = Field(
        default=600,
        ge=0,
        le=1_000_000,
        description="Requests a minute one client address may make to the public endpoints "
        "(pages, zones, forecasts, open data); 0 turns the limit off.",
    )
    public_cache_s: float = Field(
        default=10,
        ge=0,
        le=300,
        description="Seconds each API process reuses a rendered public zone answer (now, "
        "forecast); 0 turns the cache off.",
    )
    rate_limit_burst: int = Field(
        default=120,
        ge=1,
        le=1_000_000,
        description="Requests one client address may make at once before the per-minute rate "
        "applies.",
    )
    rate_limit_shared: bool | None = Field(
        default=None,
        description="Keep every rate limit's buckets (public, drives, devices, uplinks) in the "
        "database, shared by all API processes, so a client gets each limit once rather than "
        "once per process; unset: on when 'smartstreets api --workers' runs more than one. While "
        "the database is unreachable each process limits on its own.",
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For header "
        'names the client (JSON list, e.g. ["10.0.0.0/8"]); empty: the header is ignored.',
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Web origins allowed to read the public endpoints from a browser "
        '(JSON list, e.g. ["https://maps.example.org"]); empty: no CORS headers.',
    )
    behind_https: bool = Field(
        default=False,
        description="Clients reach the API over HTTPS only, so responses carry "
        "Strict-Transport-Security.",
    )
    drive_max_bytes: int = Field(
        default=2_000_000,
        ge=1024,
        le=100_000_000,
        description="Largest drive upload (POST …/drives) in bytes; larger ones are refused with "
        "413 before they are read.",
    )
    drive_uploads_per_min: int = Field(
        default=30,
        ge=0,
        le=1_000_000,
        description="Drive uploads a minute one client address may make (after a burst of the "
        "same size); 0 turns the limit off.",
    )
    drive_uploads_per_trip: int = Field(
        default=5,
        ge=0,
        le=1_000_000,
        description="Uploads a minute of one drive (trip token), retries included, after a "
        "burst of the same size; 0 turns the limit off.",
    )
    device_passwords_file: Path | None = Field(
        default=None,
        description="Mosquitto's password file that 'smartstreets devices credentials' writes "
        "(OUT/passwd): devices posting readings over HTTP (POST …/devices/{id}/readings) log in "
        "with their broker password, checked against it (re-read when it changes); unset: every "
        "such request is refused with 401.",
    )
    device_readings_max_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        le=100_000_000,
        description="Largest body of a device's readings (POST …/devices/{id}/readings) in "
        "bytes; larger ones are refused with 413.",
    )
    device_readings_max_lines: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Most readings (NDJSON lines) in one POST …/devices/{id}/readings; more is "
        "refused with 413.",
    )
    device_posts_per_min: int = Field(
        default=60,
        ge=0,
        le=1_000_000,
        description="Readings requests a minute one device may make over HTTP (after a burst of "
        "the same size), retries included; 0 turns the limit off.",
    )
    uplink_posts_per_min: int = Field(
        default=600,
        ge=0,
        le=1_000_000,
        description="Uplinks a minute one ingest token may post by webhook (POST …/uplinks/"
        "{network}; a network server sends every device's uplinks with one token), after a "
        "burst of the same size; 0 turns the limit off.",
    )
