"""Dashboard panels of ``bench/scale.py``: every panel's SQL, with Grafana's macros and the
board's variables filled in over the board's default time range, timed on a database."""

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from dashboards.boards import BOARDS
from dashboards.model import Board, Panel

TARGET_S = 1.0
_RANGE = re.compile(r"^now(?:([-+])(\d+)([mhdw]))?$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _at(expr: str, now: datetime) -> datetime:
    """A Grafana relative time (``now``, ``now-24h``, ``now-14d``) as of ``now``."""
    match = _RANGE.match(expr)
    if match is None:
        raise ValueError(f"Expected a time like now-7d, got {expr!r}.")
    if match[1] is None:
        return now
    step = timedelta(**{_UNIT[match[3]]: int(match[2])})
    return now - step if match[1] == "-" else now + step


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def expand(sql: str, variables: dict[str, str], start: datetime, end: datetime) -> str:
    """``sql`` as Grafana's PostgreSQL data source sends it for ``[start, end]`` (as the panel
    tests' ``tests/dashboards/macros.py`` does for a fixed range)."""
    t_from, t_to = _quote(start.isoformat()), _quote(end.isoformat())
    out = re.sub(
        r"\$__timeFilter\(([^)]*)\)", lambda m: f"({m.group(1)} BETWEEN {t_from} AND {t_to})", sql
    )
    out = out.replace("$__timeFrom()", t_from).replace("$__timeTo()", t_to)
    # Grafana's interval for a ~1,000-pixel panel over the range.
    interval_s = max(60, int((end - start).total_seconds() / 1000))
    out = out.replace("$__interval_ms", str(interval_s * 1000))
    out = out.replace("$__interval", f"{interval_s}s")
    for name, value in variables.items():
        out = out.replace(f"${{{name}:sqlstring}}", _quote(value))
        out = re.sub(rf"\$\{{{name}\}}|\${name}\b", value, out)
    left = re.search(r"\$(__\w+|\{\w+(:\w+)?\}|[a-z_]+\b)", out)
    if left is not None:
        raise ValueError(f"not expanded: {left.group(0)}")
    return out


@dataclass(frozen=True)
class PanelTiming:
    """One panel's query: the first run and the best of the next ones, in seconds."""

    board: Board
    panel: Panel
    council: str
    first_s: float
    best_s: float
    rows: int


def time_panels(conn: psycopg.Connection, council: str, repeat: int = 3) -> list[PanelTiming]:
    """Every panel of every board for ``council``, each run ``repeat`` times."""
    row = conn.execute(
        "SELECT min(zone) FROM device WHERE council = %s AND kind = 'counter'", (council,)
    ).fetchone()
    variables = {"council": council, "zone": str(row[0] if row else "")}
    now = datetime.now(UTC)
    out = []
    for board in BOARDS:
        start, end = _at(board.time_from, now), _at(board.time_to, now)
        for panel in board.panels:
            query = expand(panel.sql, variables, start, end)
            runs = []
            rows = 0
            for _ in range(repeat):
                started = time.perf_counter()
                rows = len(conn.execute(query.encode()).fetchall())
                runs.append(time.perf_counter() - started)
            out.append(PanelTiming(board, panel, council, runs[0], min(runs[1:] or runs), rows))
    return out
