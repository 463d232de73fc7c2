"""``smartstreets councils create|set|show|list``: one profile per council, every bad input a
one-line error with a non-zero exit and nothing changed."""

import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from deploy.cli import app
from ingest.db.council_profile import load_profile

runner = CliRunner()

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-0.73, 52.66], [-0.72, 52.66], [-0.72, 52.67], [-0.73, 52.67], [-0.73, 52.66]]
    ],
}


def _run(database_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["councils", *args, "--database-url", database_url])
    return result.exit_code, result.stdout, result.stderr


def test_create_set_show_round_trip(
    database_url: str, conn: psycopg.Connection, uid: str, tmp_path: Path
) -> None:
    """A council created with its profile shows it back; set changes only what it is given."""
    slug = f"cli-{uid}"
    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": SQUARE,
         "properties": {"zone": "high-street", "display_name": "High Street"}},
    ]}))  # fmt: skip
    code, out, err = _run(
        database_url, "create", slug, "--name", "Rutland County Council",
        "--depot", "52.668,-0.727,Oakham depot", "--bbox=-0.8,52.5,-0.4,52.8",
        "--zones", str(zones), "--zone", "mill-street=Mill Street", "--drives",
    )  # fmt: skip
    assert code == 0, err
    assert "name: Rutland County Council" in out
    assert "high-street: High Street, boundary" in out
    assert "drives: enabled" in out
    code, out, err = _run(database_url, "set", slug, "--name", "Rutland CC", "--locale", "en-GB")
    assert code == 0, err
    profile = load_profile(conn, slug)
    assert profile.name == "Rutland CC"
    assert profile.bbox == (-0.8, 52.5, -0.4, 52.8)
    assert profile.depot is not None and profile.depot.name == "Oakham depot"
    assert profile.drives_enabled and not profile.publish_counters
    assert profile.zone_name("high-street") == "High Street"
    assert profile.zone_name("mill-street") == "Mill Street"
    assert profile.zone_name("elsewhere") == "elsewhere"
    code, out, _ = _run(database_url, "show", slug, "--json")
    assert code == 0 and json.loads(out)["zones"][0]["boundary"] == SQUARE
    code, out, _ = _run(database_url, "list")
    assert f"{slug}\tRutland CC" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "{slug}"), "needs --name"),
        (("create", "Bad Slug", "--name", "X"), "bad council slug"),
        (("create", "{existing}", "--name", "X"), "already exists"),
        (("set", "{existing}"), "nothing to set"),
        (("set", "{existing}", "--timezone", "Mars/Base"), "unknown time zone"),
        (("set", "{existing}", "--holidays", "xmas"), "unknown holiday calendar"),
        (("set", "{existing}", "--bbox", "1,2,3"), "--bbox: expected 4"),
        (("set", "{existing}", "--bbox=1,2,0,3"), "bbox is west,south,east,north"),
        (("set", "{existing}", "--depot", "north,south"), "depot"),
        (("set", "{existing}", "--zone", "no-equals"), "expected ZONE=DISPLAY NAME"),
        (("set", "{existing}", "--licence", "ftp://x"), "open_data_licence"),
        (("set", "{existing}", "--boundary", "{missing}"), "cannot read"),
        (("set", "{existing}", "--boundary", "{open}"), "first = last"),
        (("set", "nope-{slug}", "--drives"), "unknown council"),
        (("show", "nope-{slug}"), "unknown council"),
    ],
)
def test_bad_input_is_one_line(
    database_url: str,
    conn: psycopg.Connection,
    council: str,
    uid: str,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    """Each bad input: exit code non-zero, one line on stderr naming the problem, no change."""
    open_ring = tmp_path / "open.json"
    open_ring.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1]]]}))
    values = {
        "slug": f"new-{uid}",
        "existing": council,
        "missing": str(tmp_path / "missing.json"),
        "open": str(open_ring),
    }
    before = load_profile(conn, council)
    code, out, err = _run(database_url, *(a.format(**values) for a in args))
    assert code != 0
    assert err.startswith("error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in out + err
    assert load_profile(conn, council) == before
