"""Provision Grafana: the smartstreets PostgreSQL data source and every dashboard, idempotently.

Each item is read first and written only when it differs from what the builder makes, so a
second push changes nothing and reports every item "unchanged". A data source provisioned from
a file (``deploy/grafana/provisioning``, read-only in Grafana) is left alone.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict

from dashboards.boards import BOARDS
from dashboards.build import render
from dashboards.errors import DataSourceError
from dashboards.grafana import Grafana
from dashboards.model import DATASOURCE_NAME, DATASOURCE_TYPE, DATASOURCE_UID, Board

log = logging.getLogger(__name__)

Outcome = Literal["created", "updated", "unchanged", "provisioned"]
MESSAGE = "smartstreets dashboards push"
_GRAFANA_SSLMODES = ("disable", "require", "verify-ca", "verify-full")
_COMPARED = ("name", "type", "access", "url", "user", "isDefault")


@dataclass(frozen=True)
class Pushed:
    """What push did to one item."""

    kind: Literal["datasource", "dashboard"]
    uid: str
    title: str
    outcome: Outcome


def datasource_body(database_url: str) -> dict[str, Any]:
    """The Grafana data source for the database at ``database_url``, as Grafana will reach it.

    The password, if any, goes in ``secureJsonData``, which Grafana never returns.
    """
    try:
        info = conninfo_to_dict(database_url)
    except ProgrammingError as exc:
        raise DataSourceError(f"bad database URL: {str(exc).splitlines()[0]}") from None
    host = str(info.get("host") or "localhost")
    if host.startswith("/") or "," in host:
        raise DataSourceError("Grafana needs one TCP host in the database URL, not a socket")
    sslmode = str(info.get("sslmode") or "disable")
    if sslmode not in _GRAFANA_SSLMODES:
        sslmode = "disable" if sslmode in ("allow", "prefer") else "require"
    body: dict[str, Any] = {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": DATASOURCE_TYPE,
        "access": "proxy",
        "url": f"{host}:{info.get('port') or 5432}",
        "user": str(info.get("user") or "postgres"),
        "isDefault": False,
        "jsonData": {"database": str(info.get("dbname") or "postgres"), "sslmode": sslmode},
    }
    if info.get("password"):
        body["secureJsonData"] = {"password": str(info["password"])}
    return body


def datasource_differs(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether the stored data source lacks anything ``wanted`` sets (the password is only
    known to be set or not)."""
    if any(existing.get(k) != wanted[k] for k in _COMPARED):
        return True
    stored = existing.get("jsonData") or {}
    if any(stored.get(k) != v for k, v in wanted["jsonData"].items()):
        return True
    has_password = bool((existing.get("secureJsonFields") or {}).get("password"))
    return has_password != ("secureJsonData" in wanted)


def push_datasource(grafana: Grafana, database_url: str | None, *, force: bool = False) -> Pushed:
    """Create or update the smartstreets data source; without ``database_url`` it must exist."""
    wanted = None if database_url is None else datasource_body(database_url)
    existing = grafana.datasource(DATASOURCE_UID)
    if existing is not None and existing.get("readOnly"):
        outcome: Outcome = "provisioned"  # Grafana refuses changes to file-provisioned sources
    elif wanted is None:
        if existing is None:
            raise DataSourceError(
                f"Grafana has no data source {DATASOURCE_UID}; give --database-url to create it"
            )
        outcome = "unchanged"
    elif existing is None:
        grafana.create_datasource(wanted)
        outcome = "created"
    elif force or datasource_differs(existing, wanted):
        grafana.update_datasource(DATASOURCE_UID, wanted)
        outcome = "updated"
    else:
        outcome = "unchanged"
    log.info("data source %s %s", DATASOURCE_UID, outcome)
    return Pushed("datasource", DATASOURCE_UID, DATASOURCE_NAME, outcome)


def _comparable(dashboard: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dashboard.items() if k not in ("id", "version")}


def push_dashboard(grafana: Grafana, board: Board, *, force: bool = False) -> Pushed:
    """Create or overwrite one dashboard unless Grafana already holds the same JSON."""
    wanted = render(board)
    existing = grafana.dashboard(board.uid)
    if existing is not None and not force and _comparable(existing) == wanted:
        outcome: Outcome = "unchanged"
    else:
        grafana.save_dashboard(wanted, MESSAGE)
        outcome = "created" if existing is None else "updated"
    log.info("dashboard %s %s", board.uid, outcome)
    return Pushed("dashboard", board.uid, board.title, outcome)


def push(
    grafana: Grafana,
    database_url: str | None,
    *,
    boards: Iterable[Board] = BOARDS,
    force: bool = False,
) -> list[Pushed]:
    """Provision the data source, then every dashboard; returns what happened to each."""
    done = [push_datasource(grafana, database_url, force=force)]
    done.extend(push_dashboard(grafana, b, force=force) for b in boards)
    return done
