"""Settings of the API process."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """How the API listens and talks to the database."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTREETS_API_", extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to listen on.")
    pool_size: int = Field(default=8, ge=1, le=200, description="Most database connections.")
    health_cache_s: float = Field(
        default=5, ge=0, le=300, description="Seconds a broker health probe result is reused."
    )
    stale_after_min: int = Field(
        default=30,
        ge=1,
        le=1440,
        description="Minutes without a reading after which a counter or bin counts as stale.",
    )
