"""Settings of the alerts (``SMARTSTREETS_ALERTS_*``): where to send them and when to raise them."""

import json
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from analytics.alerts.rules import AlertParams
from analytics.routing.fill import FULL_PCT

CommaList = Annotated[list[str], NoDecode]


def _split(value: Any) -> Any:
    """A comma-separated string (or a JSON list) from the environment, as a list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def mask_webhook(url: str) -> str:
    """Scheme and host of a webhook URL only: its path or query is often its secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{'/***' if parts.path.strip('/') else ''}"


def _timeout(description: str) -> Any:
    """A field of seconds to wait for a server: 10 by default, at most two minutes."""
    return Field(default=10.0, gt=0, le=120, description=description)


class AlertSettings(BaseSettings):
    """Where alerts go and the thresholds that raise them."""

    model_config = SettingsConfigDict(env_prefix="SMARTSTREETS_ALERTS_", extra="forbid")

    webhook_urls: CommaList = Field(
        default_factory=list,
        description="Webhook URLs (comma-separated) that receive every alert as a JSON POST.",
    )
    webhook_timeout_s: float = _timeout("Seconds to wait for a webhook to answer.")
    webhook_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Attempts per webhook per check; still failing, it is retried next check.",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for email alerts; unset: no email is sent."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP session with TLS.")
    smtp_username: str | None = Field(default=None, description="SMTP login, if it needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(
        default="smartstreets@localhost", description="Sender address of alert emails."
    )
    smtp_to: CommaList = Field(
        default_factory=list, description="Recipients of alert emails (comma-separated)."
    )
    smtp_timeout_s: float = _timeout("Seconds to wait for the SMTP server.")
    silent_after_h: float = Field(
        default=6.0,
        gt=0,
        le=720,
        description="Hours without a reading after which a registered device is silent.",
    )
    battery_low_v: float = Field(
        default=3.3, gt=0, le=24, description="Battery voltage below which a bin's is low."
    )
    overflow_pct: float = Field(
        default=FULL_PCT,
        ge=50,
        le=150,
        description="Fill from which a bin counts as overflowing (the fill model's 'full').",
    )

    @field_validator("webhook_urls", "smtp_to", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("webhook_urls")
    @classmethod
    def _http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"Expected http:// or https:// webhook URLs, got {url!r}.")
        return urls

    @property
    def email(self) -> bool:
        """Whether email alerts are configured (a server and at least one recipient)."""
        return bool(self.smtp_host and self.smtp_to)

    def params(self) -> AlertParams:
        """The thresholds of the rules."""
        return AlertParams(
            silent_after_h=self.silent_after_h,
            battery_low_v=self.battery_low_v,
            overflow_pct=self.overflow_pct,
        )

    def masked(self) -> dict[str, object]:
        """The effective settings with secrets masked, for the start-up log line."""
        shown = self.model_dump(exclude={"smtp_password", "webhook_urls"})
        shown["webhook_urls"] = [mask_webhook(u) for u in self.webhook_urls]
        shown["smtp_password"] = "***" if self.smtp_password else None
        return shown
