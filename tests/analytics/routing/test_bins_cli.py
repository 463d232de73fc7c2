"""``smartstreets bins forecast|backtest``: CSV in, CSV or a table out, one-line errors."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploy.cli import app

runner = CliRunner()
HEADER = "bin_id,last_reading,fill_now_pct,full_at,full_lo80,full_hi80"


def _history(tmp_path: Path, rows: list[str] | None = None, header: str = "") -> Path:
    """A small history: bin ``a`` read daily in 20-point steps, emptied every 5 days, and
    bin ``b`` read hourly."""
    if rows is None:
        rows = [f"a,2026-01-{d + 1:02d},{20 * (d % 5)}" for d in range(17)]
        rows += [f"b,2026-01-17T{h:02d}:00:00+00:00,{10 + 2 * h}" for h in range(10, 14)]
    path = tmp_path / "history.csv"
    path.write_text("\n".join([header or "bin_id,timestamp,fill_pct", *rows]) + "\n")
    return path


def test_forecast_prints_one_row_per_bin(tmp_path: Path) -> None:
    """forecast prints the header and one row per bin, with the time of 80% for the daily bin."""
    result = runner.invoke(app, ["bins", "forecast", "--history", str(_history(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == HEADER
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "b"]
    a = lines[1].split(",")
    assert a[1] == "2026-01-17T00:00:00+00:00" and a[2] == "20"
    assert a[3] == "2026-01-20T00:00:00+00:00"  # three more 20-point days


def test_forecast_leaves_times_beyond_the_horizon_empty(tmp_path: Path) -> None:
    """A threshold not reached within the horizon leaves the time fields empty."""
    result = runner.invoke(
        app, ["bins", "forecast", "--history", str(_history(tmp_path)), "--horizon-days", "1"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].endswith(",20,,,")


def test_backtest_prints_a_table_and_json(tmp_path: Path) -> None:
    """backtest prints its measures as a table, or as one JSON object with --json."""
    path = str(_history(tmp_path))
    table = runner.invoke(app, ["bins", "backtest", "--history", path])
    assert table.exit_code == 0, table.output
    assert "mae_days model" in table.stdout and "80% interval coverage" in table.stdout
    out = runner.invoke(app, ["bins", "backtest", "--history", path, "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert set(result["mae_days"]) == {"model", "median_cycle", "mean_rise"}
    assert result["origins"] > 0 and 0 <= result["coverage"] <= 1


@pytest.mark.parametrize(
    ("rows", "header", "options", "message"),
    [
        (None, "", ["--threshold", "120"], "--threshold"),
        (None, "", ["--threshold", "many"], "--threshold"),
        (None, "bin_id,ts,fill_pct", [], "missing column(s): timestamp"),
        (["a,yesterday,10"], "", [], "unparseable timestamp"),
        (["a,2026-01-01T10:00:00,10"], "", [], "unparseable timestamp"),  # no offset
        (["a,2026-01-01,120"], "", [], "outside 0-100"),
        (["a,2026-01-01,lots"], "", [], "not a number"),
    ],
)
@pytest.mark.parametrize("command", ["forecast", "backtest"])
def test_bad_input_is_a_one_line_error(
    tmp_path: Path,
    command: str,
    rows: list[str] | None,
    header: str,
    options: list[str],
    message: str,
) -> None:
    """Bad options and bad rows exit non-zero with one line on stderr, never a traceback."""
    path = _history(tmp_path, rows, header)
    result = runner.invoke(app, ["bins", command, "--history", str(path), *options])
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    """A history file that does not exist is a one-line error."""
    result = runner.invoke(app, ["bins", "forecast", "--history", str(tmp_path / "no.csv")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"error: no such file: {tmp_path / 'no.csv'}"]


@pytest.mark.parametrize("command", ["forecast", "backtest"])
def test_help(command: str) -> None:
    """Both commands have --help."""
    result = runner.invoke(app, ["bins", command, "--help"])
    assert result.exit_code == 0 and "--history" in result.stdout
