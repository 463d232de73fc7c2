"""Rolling-origin windows, the per-series breakdown and the statistical baseline."""

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analytics.forecasting.backtest import backtest_points
from analytics.forecasting.calendar import Calendar
from analytics.forecasting.calendars import CALENDARS
from analytics.forecasting.calendars_nz import auckland
from analytics.forecasting.model import ForecastParams
from analytics.forecasting.rolling import backtest_windows, window_table
from analytics.forecasting.scoring import ALL_METHODS, METHODS, breakdown, summarise
from analytics.forecasting.statistical import (
    STATISTICAL,
    StatisticalParams,
    statistical_forecast,
    with_statistical,
)
from analytics.forecasting.windows import Window
from tests.analytics.forecasting.test_forecast import _cli, _write_csv
from tests.analytics.forecasting.test_forecast import _history as _town

pytest.importorskip("statsforecast")

HOUR = timedelta(hours=1)
FAST = ForecastParams(trees=60)
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


def _history(weeks: int, series: int = 3, seed: int = 1, gaps: bool = True) -> pl.DataFrame:
    """``series, ts (UTC), count``: daily and weekly cycles with noise, some hours missing."""
    rng = np.random.default_rng(seed)
    n = weeks * 168
    h = np.arange(n)
    frames = []
    for s in range(series):
        day = 1 + 0.8 * np.sin(2 * math.pi * (h % 24 - 6) / 24)
        week = np.where((h // 24) % 7 >= 5, 0.6, 1.0)
        y = np.round(50.0 * (s + 1) * day * week * np.exp(rng.normal(0, 0.15, n)))
        if gaps:
            y[rng.choice(n - 200, 40, replace=False)] = np.nan
        frames.append(
            pl.DataFrame(
                {
                    "series": f"s{s}",
                    "ts": pl.datetime_range(START, START + (n - 1) * HOUR, "1h", eager=True),
                    "count": y,
                }
            ).with_columns(pl.col("count").fill_nan(None))
        )
    return pl.concat(frames)


def _as_y(history: pl.DataFrame) -> pl.DataFrame:
    return history.rename({"count": "y"})


def test_statistical_forecast_is_finite_on_the_hours_asked() -> None:
    """Gappy history: the statistical model forecasts exactly the 24 hours from the origin
    of every series, finite and non-negative, inside its 80% interval."""
    history = _history(5)
    origin = START + 5 * 168 * HOUR - 24 * HOUR
    out = statistical_forecast(_as_y(history), origin, 24)
    assert sorted(out["series"].unique()) == ["s0", "s1", "s2"]
    for _, part in out.group_by("series"):
        assert part["ts"].to_list() == [origin + k * HOUR for k in range(24)]
    values = out.select("forecast", "lo80", "hi80").to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (out["lo80"] <= out["forecast"]).all() and (out["forecast"] <= out["hi80"]).all()


def test_statistical_forecast_reads_only_hours_before_the_origin() -> None:
    """A huge count after the origin does not change the forecast."""
    history = _as_y(_history(5, series=1, gaps=False))
    origin = START + 4 * 168 * HOUR
    after = history.with_columns(
        pl.when(pl.col("ts") >= origin).then(1e6).otherwise(pl.col("y")).alias("y")
    )
    a = statistical_forecast(history, origin, 24)
    b = statistical_forecast(after, origin, 24)
    assert a["forecast"].to_list() == pytest.approx(b["forecast"].to_list())


def test_statistical_skips_series_without_two_weeks_of_counts() -> None:
    """A series counted for under two weeks of the window is not forecast; others are."""
    history = _as_y(_history(5, series=2, gaps=False))
    origin = START + 5 * 168 * HOUR
    sparse = history.with_columns(
        pl.when((pl.col("series") == "s1") & (pl.col("ts") < origin - 200 * HOUR))
        .then(None)
        .otherwise(pl.col("y"))
        .alias("y")
    )
    out = statistical_forecast(sparse, origin, 24)
    assert out["series"].unique().to_list() == ["s0"]


def test_with_statistical_falls_back_to_the_seasonal_naive() -> None:
    """Hours the statistical model cannot forecast carry the seasonal naive and its interval,
    so every method keeps the same hours."""
    origin = START + 5 * 168 * HOUR
    points = pl.DataFrame(
        {
            "series": ["ghost", "ghost"],
            "ts": [origin, origin + HOUR],
            "seasonal_naive": [10.0, 20.0],
            "seasonal_naive_lo": [5.0, 15.0],
            "seasonal_naive_hi": [15.0, 25.0],
        }
    )
    history = _as_y(_history(5, series=1)).with_columns(pl.lit("other").alias("series"))
    out = with_statistical(points, history, origin, 24, StatisticalParams())
    assert out[STATISTICAL].to_list() == [10.0, 20.0]
    assert out[f"{STATISTICAL}_lo"].to_list() == [5.0, 15.0]
    assert out[f"{STATISTICAL}_hi"].to_list() == [15.0, 25.0]


@pytest.mark.parametrize(
    ("window", "days"),
    [
        (Window("w", date(2025, 3, 1), date(2025, 3, 7), 3), ["03-01", "03-04", "03-07"]),
        (Window("w", date(2025, 3, 1), date(2025, 3, 8), 3), ["03-02", "03-05", "03-08"]),
        (Window("w", date(2025, 3, 1), date(2025, 3, 1)), ["03-01"]),
    ],
)
def test_window_origins_count_back_from_the_last_day(window: Window, days: list[str]) -> None:
    """Origins are ``stride_days`` apart, ending on the window's last day."""
    assert window.days() == [date.fromisoformat(f"2025-{d}") for d in days]


def test_window_parse_and_refusals() -> None:
    """``NAME=FIRST..LAST[/DAYS]`` parses; reversed or malformed windows are refused."""
    w = Window.parse("xmas=2013-12-09..2014-01-19/3")
    assert (w.name, w.first, w.last, w.stride_days) == (
        "xmas",
        date(2013, 12, 9),
        date(2014, 1, 19),
        3,
    )
    assert Window.parse("a=2014-01-01..2014-01-02", stride_days=2).stride_days == 2
    for bad in ("2014-01-01..2014-01-02", "a=2014-01-05..2014-01-02", "a=2014-01-01..2014-01-02/0"):
        with pytest.raises(ValueError, match="Expected"):
            Window.parse(bad)


def _points(errors: dict[str, tuple[float, float]]) -> pl.DataFrame:
    """Scored hours of one window: per series, smartstreets' and the seasonal naive's errors."""
    rows = []
    for series, (own, naive) in errors.items():
        for k in range(4):
            rows.append(
                {
                    "window": "w",
                    "series": series,
                    "origin": k,
                    "y": 100.0,
                    "scale": 10.0,
                    "smartstreets": 100.0 + own,
                    "seasonal_naive": 100.0 - naive,
                    "four_week_mean": 100.0 + naive,
                    **{f"{m}_{b}": 100.0 for m in METHODS for b in ("lo", "hi")},
                }
            )
    return pl.DataFrame(rows)


def test_breakdown_flags_series_more_than_twice_as_bad_as_the_seasonal_naive() -> None:
    """Per series: MASE of each method, the ratio to the seasonal naive, flagged above 2x."""
    points = _points({"good": (5.0, 10.0), "bad": (30.0, 10.0), "edge": (20.0, 10.0)})
    out = breakdown(points, ("window",))
    assert out["series"].to_list() == ["bad", "edge", "good"]
    assert out["ratio"].to_list() == pytest.approx([3.0, 2.0, 0.5])
    assert out["worse"].to_list() == [True, False, False]
    assert out["mase_smartstreets"].to_list() == pytest.approx([3.0, 2.0, 0.5])
    table = window_table(points)
    assert table["worse"].to_list() == [1] and table["worst_ratio"].to_list() == [3.0]
    # pooled MASE: smartstreets (3 + 2 + 0.5) / 3 against the naive baselines' 1.0
    assert table["gain_naive"].to_list() == pytest.approx([1 - 5.5 / 3])


def test_windows_score_every_method_on_the_same_hours() -> None:
    """Two windows over a synthetic history: every scored hour has every method's forecast
    and interval, the hours match a plain backtest of each window, and the table lists
    smartstreets' gains on the naive baselines and on the statistical model."""
    history = _history(12, series=2)
    calendar = Calendar("UTC")
    windows = [
        Window("early", date(2025, 2, 17), date(2025, 2, 23), 3),
        Window("late", date(2025, 3, 10), date(2025, 3, 16), 3),
    ]
    points = backtest_windows(
        history, windows, 24, calendar=calendar, params=FAST, statistical=StatisticalParams()
    )
    assert points["window"].unique(maintain_order=True).to_list() == ["early", "late"]
    columns = [f"{m}{s}" for m in ALL_METHODS for s in ("", "_lo", "_hi")]
    assert points.select(columns).null_count().sum_horizontal().item() == 0
    plain = backtest_points(
        history, 24, 3, calendar=calendar, last_origin=date(2025, 3, 16), params=FAST,
        stride_days=3,
    )  # fmt: skip
    late = points.filter(pl.col("window") == "late")
    assert late.select("series", "ts").equals(plain.select("series", "ts"))
    assert late["smartstreets"].to_list() == pytest.approx(plain["smartstreets"].to_list())
    summary = summarise(points).filter(pl.col("series").is_null())
    assert summary["method"].to_list() == list(ALL_METHODS)
    assert summary["hours"].n_unique() == 1
    table = window_table(points)
    assert table["window"].to_list() == ["early", "late"]
    assert table["origins"].to_list() == [3, 3]
    assert {"gain_naive", "gain_statistical", "worse"} <= set(table.columns)


def test_auckland_calendar() -> None:
    """Auckland's calendar: its time zone, Easter 2024, Auckland Anniversary Day, Matariki."""
    cal = auckland()
    assert cal.timezone == "Pacific/Auckland"
    for day in (date(2024, 3, 29), date(2024, 4, 1), date(2024, 1, 29), date(2023, 7, 14)):
        assert day in cal.public_holidays
    assert date(2024, 3, 28) not in cal.public_holidays
    assert CALENDARS["akl"]() == cal


def test_cli_backtest_by_window_prints_each_series_of_each_window(tmp_path: Path) -> None:
    """``forecast backtest --window … --format csv`` gives one row per window and series, with
    smartstreets' MASE against the seasonal naive's; a bad window is a one-line error."""
    history = _town("UTC", datetime(2025, 6, 29, 23), 9, series=2)
    csv = _write_csv(tmp_path / "h.csv", history, None)
    windows = [
        "--window",
        "early=2025-06-20..2025-06-22",
        "--window",
        "late=2025-06-24..2025-06-28/2",
    ]
    result = _cli("backtest", "--history", str(csv), *windows, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = pl.read_csv(result.stdout.encode())
    assert {"window", "series", "mase_smartstreets", "mase_seasonal_naive", "ratio"} <= set(
        rows.columns
    )
    assert sorted(zip(rows["window"], rows["series"], strict=True)) == [
        ("early", "s0"),
        ("early", "s1"),
        ("late", "s0"),
        ("late", "s1"),
    ]
    assert rows.filter(pl.col("window") == "late")["hours"].to_list() == [72, 72]
    table = _cli("backtest", "--history", str(csv), *windows)
    assert table.returncode == 0 and "vs naive" in table.stdout and "late" in table.stdout
    bad = _cli("backtest", "--history", str(csv), "--window", "spring=2025-06-01")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "--window" in bad.stderr
