"""Grafana dashboard JSON from the dashboards defined as data, and the check of the files.

The JSON in ``dashboards/json/`` is generated (``smartstreets dashboards build``) for people
who import dashboards by hand; ``push`` sends the same JSON. ``check`` fails when a file is not
what the builder makes or breaks a rule every panel must keep.
"""

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dashboards.boards import BOARDS
from dashboards.model import DATASOURCE_TYPE, DATASOURCE_UID, Board, Panel, Variable

JSON_DIR = Path(__file__).resolve().parent / "json"
SCHEMA_VERSION = 39
GRID_COLUMNS = 24

_TIMESCALE_ONLY = re.compile(r"\b(time_bucket|time_bucket_gapfill|locf|interpolate)\s*\(")


def datasource_ref() -> dict[str, str]:
    """The reference to the smartstreets data source that every panel and variable carries."""
    return {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}


def _variable(v: Variable) -> dict[str, Any]:
    return {
        "name": v.name,
        "label": v.label,
        "type": "query",
        "datasource": datasource_ref(),
        "query": v.sql,
        "definition": v.sql,
        "refresh": 1,
        "sort": 0,
        "multi": False,
        "includeAll": False,
        "hide": 0,
    }


def _panel(panel_id: int, p: Panel, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = dict(p.field_config)
    if p.unit is not None:
        defaults["unit"] = p.unit
    out: dict[str, Any] = {
        "id": panel_id,
        "type": p.kind,
        "title": p.title,
        "description": p.description,
        "gridPos": {"h": p.height, "w": p.width, "x": x, "y": y},
        "datasource": datasource_ref(),
        "targets": [
            {
                "refId": "A",
                "datasource": datasource_ref(),
                "editorMode": "code",
                "format": p.fmt,
                "rawQuery": True,
                "rawSql": p.sql.strip(),
            }
        ],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": dict(p.options),
    }
    if "$__interval" in p.sql:
        out["interval"] = "1m"  # a floor, so short ranges do not bin by the second
    return out


def render(board: Board) -> dict[str, Any]:
    """The Grafana dashboard JSON of ``board``; panels flow left to right, row by row."""
    panels: list[dict[str, Any]] = []
    x = y = row_height = 0
    for panel_id, p in enumerate(board.panels, start=1):
        if x + p.width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        panels.append(_panel(panel_id, p, x, y))
        x += p.width
        row_height = max(row_height, p.height)
    return {
        "uid": board.uid,
        "title": board.title,
        "description": board.description,
        "tags": list(board.tags),
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": board.time_from, "to": board.time_to},
        "refresh": board.refresh,
        "templating": {"list": [_variable(v) for v in board.variables]},
        "annotations": {"list": []},
        "panels": panels,
    }


def to_text(dashboard: dict[str, Any]) -> str:
    """The file form of a dashboard: indented JSON ending in a newline."""
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def write(directory: Path = JSON_DIR, boards: Iterable[Board] = BOARDS) -> list[Path]:
    """Write every dashboard's JSON into ``directory``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for board in boards:
        path = directory / f"{board.slug}.json"
        path.write_text(to_text(render(board)), encoding="utf-8")
        written.append(path)
    return written


def validate(dashboard: dict[str, Any]) -> list[str]:
    """What breaks the rules in one dashboard's JSON: each panel queries the smartstreets data
    source with raw SQL that uses no TimescaleDB-only function, and panel ids are unique."""
    name = str(dashboard.get("uid") or dashboard.get("title") or "?")
    problems = [] if dashboard.get("uid") else [f"{name}: no uid"]
    panels = dashboard.get("panels") or []
    if not panels:
        problems.append(f"{name}: no panels")
    ids = [p.get("id") for p in panels]
    if len(set(ids)) != len(ids):
        problems.append(f"{name}: panel ids are not unique")
    for p in panels:
        where = f"{name}: panel {p.get('title')!r}"
        if (p.get("datasource") or {}).get("uid") != DATASOURCE_UID:
            problems.append(f"{where}: data source uid is not {DATASOURCE_UID}")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no query")
        for t in targets:
            if (t.get("datasource") or {}).get("uid") != DATASOURCE_UID:
                problems.append(f"{where}: query data source uid is not {DATASOURCE_UID}")
            sql = t.get("rawSql")
            if not t.get("rawQuery") or not isinstance(sql, str) or not sql.strip():
                problems.append(f"{where}: query is not raw SQL")
            elif _TIMESCALE_ONLY.search(sql):
                problems.append(f"{where}: uses a TimescaleDB-only function")
    for v in (dashboard.get("templating") or {}).get("list", []):
        if (v.get("datasource") or {}).get("uid") != DATASOURCE_UID:
            problems.append(f"{name}: variable {v.get('name')!r} has another data source")
    return problems


def check(directory: Path = JSON_DIR, boards: Iterable[Board] = BOARDS) -> list[str]:
    """Every problem with the dashboard files in ``directory``; empty when all is well."""
    boards = list(boards)
    problems: list[str] = []
    uids = [b.uid for b in boards]
    if len(set(uids)) != len(uids):
        problems.append("dashboard uids are not unique")
    expected = {f"{b.slug}.json": b for b in boards}
    for path in sorted(directory.glob("*.json")):
        if path.name not in expected:
            problems.append(f"{path}: not made by the builder (remove it or define it)")
    for filename, board in expected.items():
        path = directory / filename
        if not path.exists():
            problems.append(f"{path}: missing; run 'smartstreets dashboards build'")
            continue
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not JSON ({exc})")
            continue
        if not isinstance(stored, dict):
            problems.append(f"{path}: not a JSON object")
            continue
        problems.extend(f"{path}: {p}" for p in validate(stored))
        if stored != render(board):
            problems.append(f"{path}: out of date; run 'smartstreets dashboards build'")
    return problems
