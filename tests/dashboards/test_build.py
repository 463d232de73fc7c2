"""The generated dashboard JSON: up to date, valid, and the check catches what breaks it."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboards.boards import BOARDS
from dashboards.build import JSON_DIR, check, render, validate, write
from dashboards.model import DATASOURCE_UID
from deploy.cli import app


def test_committed_files_are_up_to_date_and_valid() -> None:
    """The JSON in dashboards/json is what the builder makes, and the check says so."""
    assert check(JSON_DIR) == []
    result = CliRunner().invoke(app, ["dashboards", "check"])
    assert result.exit_code == 0, result.output
    push_check = CliRunner().invoke(app, ["dashboards", "push", "--check"])
    assert push_check.exit_code == 0, push_check.output


def test_every_board_is_distinct_and_panels_are_laid_out() -> None:
    """Uids are unique, and no two panels of a dashboard overlap on the 24-column grid."""
    assert len({b.uid for b in BOARDS}) == len(BOARDS) == 4
    for board in BOARDS:
        cells: set[tuple[int, int]] = set()
        for p in render(board)["panels"]:
            g = p["gridPos"]
            assert g["x"] + g["w"] <= 24
            mine = {
                (x, y)
                for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])
            }
            assert not cells & mine, p["title"]
            cells |= mine


def _break_sql(d: dict[str, Any]) -> None:
    d["panels"][0]["targets"][0]["rawSql"] = "SELECT time_bucket('1 hour', ts) FROM bin_fill"


def _break_datasource(d: dict[str, Any]) -> None:
    d["panels"][1]["datasource"] = {"type": "prometheus", "uid": "prom"}


def _break_ids(d: dict[str, Any]) -> None:
    d["panels"][1]["id"] = d["panels"][0]["id"]


def _drop_query(d: dict[str, Any]) -> None:
    d["panels"][0]["targets"] = []


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (_break_sql, "TimescaleDB-only function"),
        (_break_datasource, f"data source uid is not {DATASOURCE_UID}"),
        (_break_ids, "panel ids are not unique"),
        (_drop_query, "no query"),
    ],
)
def test_validate_catches_broken_dashboards(breaker: Any, expected: str) -> None:
    """Each rule a panel must keep is reported when broken."""
    dashboard = render(BOARDS[0])
    assert validate(dashboard) == []
    breaker(dashboard)
    assert any(expected in p for p in validate(dashboard))


def test_check_catches_stale_missing_stray_and_unparsable_files(tmp_path: Path) -> None:
    """Edited, missing, unknown and broken files each make the check fail, with exit code 1."""
    write(tmp_path)
    assert check(tmp_path) == []
    edited = json.loads((tmp_path / "waste.json").read_text())
    edited["title"] = "hand edited"
    (tmp_path / "waste.json").write_text(json.dumps(edited))
    (tmp_path / "footfall.json").unlink()
    (tmp_path / "extra.json").write_text("{}")
    (tmp_path / "highways.json").write_text("{not json")
    problems = "\n".join(check(tmp_path))
    for needle in (
        "waste.json: out of date",
        "footfall.json: missing",
        "extra.json: not made",
        "highways.json: not JSON",
    ):
        assert needle in problems
    result = CliRunner().invoke(app, ["dashboards", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "out of date" in result.output
    build = CliRunner().invoke(app, ["dashboards", "build", "--dir", str(tmp_path)])
    assert build.exit_code == 0
    assert [p for p in check(tmp_path) if "extra.json" not in p] == []
