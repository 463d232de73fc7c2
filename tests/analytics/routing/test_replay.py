"""Replaying real bins: council lifts and arrivals recovered, smartstreets' lifts scored."""

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer

from analytics.routing.replay import ReplayParams, pct_fewer, replay, replay_bin, replay_command
from analytics.routing.replay_io import BinSeries, ReplayInputError, read_replay
from analytics.routing.replay_truth import recover
from tests.conftest import shared_data

WYNDHAM = shared_data("waste/wyndham_compactor_bins_2018_2019.csv.gz")
DAY0 = date(2019, 3, 4)


def _series(levels: list[int], threshold: int = 8, step: float = 20.0, gaps: int = 0) -> BinSeries:
    """A bin read daily on the 0-10 scale (``gaps``: days missing after the first half)."""
    days = [DAY0 + timedelta(days=i) for i in range(len(levels))]
    half = len(days) // 2
    days = days[:half] + [d + timedelta(days=gaps) for d in days[half:]]
    return BinSeries("b1", tuple(days), tuple(10.0 * v for v in levels), 10.0 * threshold, step)


def _wyndham_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("bin_id,date,fullness_0_10,fullness_threshold,status\n" + "\n".join(rows))
    return path


def test_recover_counts_lifts_and_arrivals() -> None:
    """Falls are council lifts; rises, and the fill read after a lift, are arrivals."""
    (seg,) = recover(_series([2, 4, 8, 0, 2, 6, 6, 2, 4]), spread=False)
    assert seg.start_pct == 20
    assert seg.lifted == (False, False, True, False, False, False, True, False)
    assert seg.arrivals_pct == (20, 40, 0, 20, 40, 0, 20, 20)
    assert sum(seg.lifted) == 2


def test_recover_spreads_steps_and_keeps_totals() -> None:
    """A step after days at one reading is spread over those days; cycle totals are kept."""
    (seg,) = recover(_series([0, 0, 0, 6, 8, 0]))
    assert seg.arrivals_pct == pytest.approx((20, 20, 20, 20, 0))
    assert sum(seg.arrivals_pct[:4]) == pytest.approx(80)


def test_recover_bridges_short_gaps_and_splits_long_ones() -> None:
    """Missing days up to max_gap_days hold the level; a longer gap starts a new segment."""
    levels = [0, 2, 4, 6, 0, 2]
    (short,) = recover(_series(levels, gaps=1), max_gap_days=3)
    assert len(short.arrivals_pct) == 6 and sum(short.lifted) == 1
    first, second = recover(_series(levels, gaps=10), max_gap_days=3)
    assert (first.start_pct, second.start_pct) == (0, 60)
    assert sum(first.lifted) == 0 and sum(second.lifted) == 1


def test_top_plateau_is_censored_and_an_overflow() -> None:
    """Days stuck at 10/10 are overflow days with unknown (zero) arrivals."""
    series = _series([6, 8, 10, 10, 10, 0])
    (seg,) = recover(series)
    assert seg.censored == (False, False, True, True, False)
    assert replay_bin(series).council.overflow_days == 3


@pytest.mark.parametrize(
    ("forecaster", "lift"), [("daily", "due"), ("daily", "ahead"), ("fill-model", "due")]
)
def test_policy_stays_within_the_council_allowance(forecaster: str, lift: str) -> None:
    """On a steady bin the council lifts at 40% and at 80% by turns, smartstreets lifts less
    often and never leaves the bin over its threshold longer than the council did."""
    cycle = [2, 4, 0, 2, 4, 6, 8, 0]  # a day at the threshold before every other lift
    series = _series(cycle * 12)
    params = ReplayParams(forecaster=forecaster, lift=lift)  # type: ignore[arg-type]
    result = replay_bin(series, params)
    assert result.council.lifts == 24 and result.council.longest_over_run == 1
    assert result.smartstreets.lifts < result.council.lifts
    assert not result.violation
    assert result.smartstreets.overflow_days == 0


def test_policy_lifts_ahead_where_the_council_never_waited() -> None:
    """A bin the council never let reach its threshold is lifted before it does."""
    series = _series([0, 2, 4, 6] * 15)
    result = replay_bin(series)
    assert result.council.longest_over_run == 0
    assert result.smartstreets.longest_over_run == 0 and not result.violation
    assert result.smartstreets.lifts <= result.council.lifts


def test_pct_fewer() -> None:
    """Percent fewer lifts is relative to the council's, 0 without any."""
    assert pct_fewer(200, 150) == 25.0
    assert pct_fewer(0, 3) == 0.0


def test_read_both_layouts(tmp_path: Path) -> None:
    """Wyndham's 0-10 layout and the generic fill_pct one read to percent, last of a day kept."""
    wyndham = _wyndham_csv(
        tmp_path / "w.csv",
        ["7,2019-01-01,4,6,NOT_READY", "7,2019-01-02,8,6,FULLNESS", "7,2019-01-02,0,6,X"],
    )
    gz = tmp_path / "w.csv.gz"
    gz.write_bytes(gzip.compress(wyndham.read_bytes()))
    (bin7,) = read_replay(gz)
    assert (bin7.bin_id, bin7.fill_pct, bin7.threshold_pct, bin7.step_pct) == (
        "7",
        (40.0, 0.0),
        60.0,
        20.0,
    )
    generic = tmp_path / "g.csv"
    generic.write_text(
        "bin_id,timestamp,fill_pct\nb,2019-01-01T08:00:00+00:00,30\n"
        "b,2019-01-01T20:00:00+00:00,55.5\nb,2019-01-02T08:00:00+00:00,120\n"
    )
    (b,) = read_replay(generic)
    assert (b.fill_pct, b.threshold_pct, b.step_pct) == ((55.5, 100.0), 80.0, 0.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("bin,day,fill\n1,2019-01-01,3\n", "expected columns"),
        (
            "bin_id,date,fullness_0_10,fullness_threshold\n1,2019-01-01,x,8\n",
            "line 2: fullness_0_10",
        ),
        ("bin_id,date,fullness_0_10,fullness_threshold\n1,2019-01-01,12,8\n", "outside [0, 10]"),
        ("bin_id,date,fullness_0_10,fullness_threshold\n1,01/02/2019,2,8\n", "YYYY-MM-DD"),
        ("bin_id,timestamp,fill_pct\nb,yesterday,2\n", "timestamp 'yesterday'"),
        ("bin_id,date,fullness_0_10,fullness_threshold\n", "no readings"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    """A missing file, unknown columns or a bad value is one ReplayInputError naming it."""
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReplayInputError, match=message.replace("[", r"\[")):
        read_replay(path)


def test_command_prints_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command turns bad input into ``error: …`` on stderr and exit code 1."""
    with pytest.raises(typer.Exit) as exc:
        replay_command(tmp_path / "missing.csv", as_json=False)
    assert exc.value.exit_code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such file" in err and len(err.splitlines()) == 1


def test_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON output carries the totals, the violations and every bin."""
    rows = [f"5,{DAY0 + timedelta(days=i)},{v},8,S" for i, v in enumerate([0, 4, 8, 8, 0] * 6)]
    replay_command(_wyndham_csv(tmp_path / "w.csv", rows), as_json=True)
    out = json.loads(capsys.readouterr().out)
    assert out["council"]["lifts"] == 6 and out["violations"] == []
    assert [(b["bin_id"], b["violation"]) for b in out["bins"]] == [("5", False)]
    assert out["params"]["forecaster"] == "daily"


@pytest.mark.skipif(WYNDHAM is None, reason="shared Wyndham data not on this machine")
def test_wyndham_replay_is_sane() -> None:
    """On Wyndham's 33 compactors smartstreets lifts no more than the council, with no bin
    over its threshold longer than the council left it."""
    assert WYNDHAM is not None
    series = read_replay(WYNDHAM)
    assert len(series) == 33
    result = replay(series)
    council, smart = result.council, result.smartstreets
    assert 2000 < council.lifts < 3000
    assert 0 < smart.lifts <= council.lifts
    assert result.violations == ()
    assert smart.over_days < council.over_days


def test_routes_evaluate_replay_option(tmp_path: Path) -> None:
    """``routes evaluate --replay FILE`` replays the file; a missing one is a one-line error."""
    from typer.testing import CliRunner

    from deploy.cli import app

    good = tmp_path / "bins.csv"
    good.write_text(
        "bin_id,date,fullness_0_10,fullness_threshold,status\n"
        + "".join(f"b1,2019-01-{d:02d},{(2 * d) % 10},8,NOT_READY\n" for d in range(1, 29))
    )
    out = CliRunner().invoke(app, ["routes", "evaluate", "--replay", str(good), "--json"])
    assert out.exit_code == 0, out.stderr
    assert "b1" in out.stdout
    bad = CliRunner().invoke(app, ["routes", "evaluate", "--replay", str(tmp_path / "no.csv")])
    assert bad.exit_code != 0
    assert bad.stderr.startswith("error: ") and len(bad.stderr.strip().splitlines()) == 1
