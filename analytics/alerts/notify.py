"""Telling people: a JSON POST to each webhook, and an email when SMTP is configured.

A channel raises :class:`DeliveryError` unless the notification was accepted (a 2xx answer, an
SMTP server that took the message); the caller then leaves it owed, to retry next check.
"""

import hashlib
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from importlib.metadata import version
from typing import Any, Protocol

from analytics.alerts.errors import DeliveryError
from analytics.alerts.io import Pending
from analytics.alerts.settings import AlertSettings, mask_webhook

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def payload(p: Pending) -> dict[str, Any]:
    """The JSON body of a notification: ``message`` says what is true now (the resolution, once
    resolved); ``alert_message`` is what the alert said when it fired."""
    resolved = p.status == "resolved"
    return {
        "version": SCHEMA_VERSION,
        "status": p.status,
        "kind": p.kind,
        "council": p.council,
        "subject": p.subject,
        "message": (p.resolution or p.message) if resolved else p.message,
        "alert_message": p.message,
        "since": p.since.isoformat(),
        "opened_at": p.opened_at.isoformat(),
        "resolved_at": p.resolved_at.isoformat() if resolved and p.resolved_at else None,
        "alert_id": p.alert_id,
        "details": p.details,
    }


class Channel(Protocol):
    """Somewhere notifications go."""

    @property
    def name(self) -> str:
        """The channel's id as stored with its deliveries (no secrets)."""
        ...

    @property
    def label(self) -> str:
        """The channel as logs show it (no secrets)."""
        ...

    def send(self, p: Pending) -> None:
        """Deliver, or raise :class:`DeliveryError`."""
        ...


def webhook_channel_name(url: str) -> str:
    """A webhook's stored id: a hash of its URL, which often carries the webhook's secret."""
    return "webhook:" + hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Webhook:
    """POST the notification as JSON; retried on connection errors, 429 and 5xx."""

    url: str
    timeout_s: float = 10.0
    attempts: int = 3
    backoff_s: float = 0.5

    @property
    def name(self) -> str:
        return webhook_channel_name(self.url)

    @property
    def label(self) -> str:
        return mask_webhook(self.url)

    def _post_once(self, body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 (scheme checked in AlertSettings)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"smartstreets/{version('smartstreets')}",
            },
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
            response.read()

    def send(self, p: Pending) -> None:
        body = json.dumps(payload(p)).encode()
        error = "no attempt"
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                self._post_once(body)
                return
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
                if exc.code != 429 and exc.code < 500:
                    break  # the receiver refused it; asking again now would not change that
            except (urllib.error.URLError, OSError) as exc:
                error = str(getattr(exc, "reason", exc))
        raise DeliveryError(f"webhook {self.label}: {error}")


def build_email(p: Pending, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The email of a notification: the status and sentence in the subject, details below."""
    body = payload(p)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = f"[smartstreets {p.council}] {p.status.upper()}: {body['message']}"
    lines = [
        str(body["message"]),
        "",
        f"status:   {p.status}",
        f"kind:     {p.kind}",
        f"council:  {p.council}",
        f"subject:  {p.subject}",
        f"since:    {body['since']}",
    ]
    if body["resolved_at"]:
        lines.append(f"resolved: {body['resolved_at']}")
    lines += [f"{k}: {v}" for k, v in sorted(p.details.items())]
    lines += ["", f"alert {p.alert_id}"]
    msg.set_content("\n".join(lines) + "\n")
    return msg


@dataclass(frozen=True)
class Email:
    """Send the notification through an SMTP server."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0

    @property
    def name(self) -> str:
        return "email"

    @property
    def label(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def send(self, p: Pending) -> None:
        msg = build_email(p, self.sender, self.recipients)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email via {self.label}: {exc}") from exc
        if refused:
            log.warning("alert email refused for %s", ", ".join(refused))


def channels(settings: AlertSettings) -> list[Channel]:
    """The channels the settings configure: each webhook, and email when SMTP is set."""
    out: list[Channel] = [
        Webhook(url, settings.webhook_timeout_s, settings.webhook_attempts)
        for url in settings.webhook_urls
    ]
    if settings.smtp_host and settings.smtp_to:
        out.append(
            Email(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                recipients=tuple(settings.smtp_to),
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value() if settings.smtp_password else None
                ),
                timeout_s=settings.smtp_timeout_s,
            )
        )
    return out
