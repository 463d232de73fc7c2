"""Settings shared by every process that talks to the database or the broker.

Built in ``main()`` (or an app lifespan) and passed down, never read at import time.
"""

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.contract.topics import PREFIX_PATTERN


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


class ServiceSettings(BaseSettings):
    """Where the database and the broker are; unset means "start embedded ones" (demo only)."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTREETS_", extra="forbid")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL/TimescaleDB URL, e.g. postgresql://user:pass@host:5432/smartstreets.",
    )
    mqtt_url: str | None = Field(
        default=None,
        description="MQTT broker URL, mqtt://user:pass@host:1883 (mqtts:// for TLS).",
    )
    mqtt_prefix: str = Field(
        default="smartstreets",
        pattern=f"^{PREFIX_PATTERN}$",
        description="First topic segment(s) of every device topic.",
    )

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError("Expected an mqtt:// or mqtts:// URL.")
        return value

    def masked(self) -> dict[str, str | None]:
        """The effective settings with secrets masked, for the start-up log line."""
        return {
            "database_url": mask_url(self.database_url) if self.database_url else None,
            "mqtt_url": mask_url(self.mqtt_url) if self.mqtt_url else None,
            "mqtt_prefix": self.mqtt_prefix,
        }

    def require_services(self) -> tuple[str, str]:
        """Return (database URL, MQTT URL), or explain which one is missing."""
        missing = [
            name
            for name, value in (
                ("SMARTSTREETS_DATABASE_URL", self.database_url),
                ("SMARTSTREETS_MQTT_URL", self.mqtt_url),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{' and '.join(missing)} must be set (or run 'smartstreets demo', which starts "
                "an embedded database and broker)."
            )
        assert self.database_url is not None and self.mqtt_url is not None
        return self.database_url, self.mqtt_url

    def require_database(self) -> str:
        """Return the database URL, or explain that it is missing."""
        if not self.database_url:
            raise ValueError("SMARTSTREETS_DATABASE_URL must be set (or use --database-url).")
        return self.database_url


class IngestSettings(BaseSettings):
    """Tuning of the ingest worker."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTREETS_INGEST_", extra="forbid")

    batch_size: int = Field(default=5000, ge=1, le=100_000, description="Rows per write, at most.")
    flush_ms: int = Field(
        default=200,
        ge=1,
        le=60_000,
        description="Longest a message waits before its batch is written.",
    )
    queue_size: int = Field(
        default=20_000,
        ge=10,
        le=1_000_000,
        description="Messages held in memory before the broker is made to wait (backpressure).",
    )
    client_id: str = Field(
        default="smartstreets-ingest",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="MQTT client id; the broker keeps this worker's persistent session under it.",
    )
    share_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="MQTT 5 shared-subscription group; workers in one group split the stream.",
    )
    receive_maximum: int = Field(
        default=10_000,
        ge=1,
        le=65_535,
        description="MQTT 5 Receive Maximum: how many unacknowledged messages the broker may "
        "send at once. Acknowledging after commit makes this the ceiling on batch size.",
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65_535, description="Serve Prometheus metrics on this port."
    )
    log_every_s: float = Field(
        default=30, gt=0, description="Seconds between one-line progress summaries in the log."
    )
    bridge: Literal["ttn", "chirpstack"] | None = Field(
        default=None,
        description="Take LoRaWAN uplinks from this network server's MQTT integration instead of "
        "native device topics (README: Connecting real devices).",
    )
    bridge_url: str | None = Field(
        default=None,
        description="The network server's MQTT broker, mqtts://user:key@host:8883 (TTN: user "
        "{application id}@{tenant}, password an API key); default: SMARTSTREETS_MQTT_URL.",
    )

    @field_validator("bridge_url")
    @classmethod
    def _bridge_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError("Expected an mqtt:// or mqtts:// URL.")
        return value
