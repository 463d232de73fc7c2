"""The few Grafana HTTP API calls provisioning needs, through ``grafana-client``, with every
failure turned into one ``GrafanaError`` line."""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import niquests
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

from dashboards.errors import GrafanaError

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _reason(exc: Exception) -> str:
    """The root cause of a failed request in a few words ("Connection refused")."""
    if isinstance(exc, niquests.exceptions.Timeout):
        return "timed out"
    text = str(exc)
    found = _ERRNO.search(text)
    if found:
        return found.group(1).strip()
    if "NameResolutionError" in text or "Failed to resolve" in text:
        return "the host name does not resolve"
    return text.splitlines()[0][:200] if text else type(exc).__name__


class Grafana:
    """One Grafana instance and organisation, reached with an API or service-account token."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GrafanaError(f"bad Grafana URL {url!r}: expected http(s)://host[:port][/path]")
        if not token.strip():
            raise GrafanaError("empty Grafana token")
        self.url = url.rstrip("/")
        self._api = GrafanaApi.from_url(self.url, credential=token, timeout=timeout)

    def datasource(self, uid: str) -> dict[str, Any] | None:
        """The data source with ``uid``, or ``None`` when there is none."""
        get = self._api.datasource.get_datasource_by_uid
        return self._call("read the data source", get, uid, missing_ok=True)

    def create_datasource(self, body: dict[str, Any]) -> None:
        """Create a data source."""
        self._call("create the data source", self._api.datasource.create_datasource, body)

    def update_datasource(self, uid: str, body: dict[str, Any]) -> None:
        """Replace the data source with ``uid``."""
        update = self._api.datasource.update_datasource_by_uid
        self._call("update the data source", update, uid, body)

    def dashboard(self, uid: str) -> dict[str, Any] | None:
        """The stored JSON of the dashboard with ``uid``, or ``None`` when there is none."""
        found = self._call(
            "read a dashboard", self._api.dashboard.get_dashboard, uid, missing_ok=True
        )
        if found is None:
            return None
        dashboard = found.get("dashboard")
        if not isinstance(dashboard, dict):
            raise GrafanaError(f"{self.url} did not answer as Grafana's HTTP API does")
        return dashboard

    def save_dashboard(self, dashboard: dict[str, Any], message: str) -> None:
        """Create or overwrite the dashboard with the uid in ``dashboard``."""
        body = {"dashboard": {**dashboard, "id": None}, "overwrite": True, "message": message}
        self._call("save a dashboard", self._api.dashboard.update_dashboard, body)

    def _call(
        self, what: str, fn: Callable[..., Any], *args: Any, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        try:
            answer = fn(*args)
        except GrafanaUnauthorizedError:
            raise GrafanaError(
                f"Grafana at {self.url} refused the token (401 Unauthorized)"
            ) from None
        except GrafanaClientError as exc:
            if exc.status_code == 404 and missing_ok:
                return None
            if exc.status_code == 403:
                raise GrafanaError(
                    f"the token may not {what} at {self.url} (403 Forbidden); "
                    "it needs the Admin role"
                ) from None
            raise GrafanaError(f"Grafana at {self.url} refused to {what}: {exc}") from None
        except GrafanaException as exc:
            raise GrafanaError(f"Grafana at {self.url} failed to {what}: {exc}") from None
        except niquests.exceptions.RequestException as exc:
            raise GrafanaError(f"cannot reach Grafana at {self.url}: {_reason(exc)}") from None
        except ValueError:  # a 200 that is not JSON: not Grafana's API at this URL
            raise GrafanaError(f"{self.url} did not answer as Grafana's HTTP API does") from None
        if not isinstance(answer, dict):
            raise GrafanaError(f"{self.url} did not answer as Grafana's HTTP API does")
        return answer
