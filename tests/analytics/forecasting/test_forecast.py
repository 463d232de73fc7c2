"""Footfall forecasts: daylight saving, outages, intervals, accuracy, CLI, a real backtest."""

import math
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from analytics.forecasting.backtest import METHODS, backtest
from analytics.forecasting.baselines import four_week_mean, seasonal_naive
from analytics.forecasting.calendar import Calendar, Event, day_table
from analytics.forecasting.calendars import england, victoria
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.io import localise, read_history
from analytics.forecasting.model import ForecastParams, forecast_series
from tests.conftest import REPO, shared_data

MELBOURNE = shared_data("footfall/melbourne_39sensors_2012_2015_hourly.csv.gz")
HOUR = timedelta(hours=1)


def _usual(local: datetime, level: float) -> float:
    """A town-centre day: quiet at night, busy 08-19, weekends busier in the afternoon."""
    day = 0.15 + math.exp(-(((local.hour + 0.5) - 13) ** 2) / 18)
    weekend = 1.3 if local.weekday() >= 5 and local.hour >= 10 else 1.0
    return level * day * weekend * (1.2 if local.weekday() == 4 else 1.0)


def _history(
    tz: str, end_local: datetime, weeks: int, *, series: int = 1, noise: float = 0.25, seed: int = 1
) -> pl.DataFrame:
    """``series, ts (UTC), count``: a known weekly pattern in local time, lognormal noise,
    hourly up to and including ``end_local`` (naive local, existing)."""
    rng = random.Random(seed)
    zone = ZoneInfo(tz)
    end = end_local.replace(tzinfo=zone).astimezone(UTC)
    rows = []
    for s in range(series):
        level = 100.0 * (s + 1)
        for h in range(weeks * 168, -1, -1):
            ts = end - h * HOUR
            usual = _usual(ts.astimezone(zone), level)
            rows.append((f"s{s}", ts, round(usual * math.exp(rng.gauss(0, noise)))))
    return pl.DataFrame(
        rows,
        schema={"series": pl.String, "ts": pl.Datetime("us", "UTC"), "count": pl.Float64},
        orient="row",
    )


FAST = ForecastParams(trees=60)

DST = [
    # zone, last local hour of history (forecasts cross the autumn change), spring change inside
    ("Europe/London", datetime(2025, 10, 25, 23), datetime(2025, 3, 30, 1)),
    ("Australia/Melbourne", datetime(2014, 4, 5, 23), datetime(2013, 10, 6, 2)),
]


@pytest.mark.parametrize(("tz", "end_local", "spring_gap"), DST, ids=[d[0] for d in DST])
def test_forecasts_cross_daylight_saving_changes(
    tz: str, end_local: datetime, spring_gap: datetime
) -> None:
    """History with a spring-forward, forecasts across a fall-back: 48 consecutive UTC hours,
    the repeated local hour forecast twice, every value finite."""
    history = _history(tz, end_local, weeks=30)
    zone = ZoneInfo(tz)
    local_hours = {ts.astimezone(zone).replace(tzinfo=None) for ts in history["ts"]}
    assert spring_gap not in local_hours  # the history really spans a spring-forward
    out = forecast_series(history, 48, calendar=Calendar(tz), params=FAST)
    last = history["ts"].max()
    assert isinstance(last, datetime)
    assert out["ts"].to_list() == [last + (h + 1) * HOUR for h in range(48)]
    walls = [ts.astimezone(zone).strftime("%m-%d %H") for ts in out["ts"]]
    assert len(walls) - len(set(walls)) == 1  # 25 local hours on the day clocks go back
    assert out.select(pl.col("forecast", "lo80", "hi80").is_nan().any()).row(0) == (False,) * 3


def test_naive_local_times_localise_without_crashing(tmp_path: Path) -> None:
    """A naive local CSV: the nonexistent spring hour is dropped, a repeated autumn hour is
    summer time then winter time, an ambiguous hour recorded once is summer time."""
    csv = tmp_path / "h.csv"
    csv.write_text(
        "series,timestamp,count\n"
        "a,2025-03-30T00:00:00,1\na,2025-03-30T01:00:00,2\na,2025-03-30T02:00:00,3\n"
        "a,2025-10-26T01:00:00,4\na,2025-10-26T01:00:00,5\nb,2025-10-26T01:00:00,6\n"
    )
    got = read_history(csv, "Europe/London")
    assert got["count"].to_list() == [1, 3, 4, 5, 6]
    assert [t.isoformat() for t in got["ts"]] == [
        "2025-03-30T00:00:00+00:00",
        "2025-03-30T01:00:00+00:00",
        "2025-10-26T00:00:00+00:00",
        "2025-10-26T01:00:00+00:00",
        "2025-10-26T00:00:00+00:00",
    ]


def _outage(history: pl.DataFrame, kind: str) -> tuple[pl.DataFrame, datetime | None]:
    last = history["ts"].max()
    assert isinstance(last, datetime)
    first, stop = last - timedelta(weeks=3), last - timedelta(weeks=2)
    inside = pl.col("ts").is_between(first, stop, closed="left")
    if kind == "rows removed":
        return history.filter(~inside), None
    if kind == "null counts":
        return history.with_columns(
            pl.when(inside).then(None).otherwise("count").alias("count")
        ), None
    if kind == "stuck at zero":
        return history.with_columns(
            pl.when(inside).then(0.0).otherwise("count").alias("count")
        ), None
    # the counter is down for the week before now
    return history.filter(pl.col("ts") < last - timedelta(weeks=1)), last + HOUR


@pytest.mark.parametrize("kind", ["rows removed", "null counts", "stuck at zero", "down until now"])
def test_week_long_outage_gives_no_zeros_or_nans(kind: str) -> None:
    """A week without counts is a gap, not a quiet week: forecasts stay positive and finite.
    A counter that is down until now has no published forecast (it reads "unknown"), but is
    still forecast from its past when asked to include it."""
    history, now = _outage(_history("Europe/London", datetime(2025, 6, 29, 23), 12, series=2), kind)
    cal = Calendar("Europe/London")
    out = forecast_series(history, 48, calendar=cal, now=now, params=FAST)
    if kind == "down until now":
        assert out.is_empty()
        out = forecast_series(history, 48, calendar=cal, now=now, params=FAST, include_unknown=True)
    assert out.height == 96
    assert out.select(pl.col("forecast", "lo80", "hi80").is_nan().any()).row(0) == (False,) * 3
    # the quietest hour of s0 is about 15 people: no hour may fall to zero
    assert out.select(pl.col("forecast").min()).item() > 5
    zone = ZoneInfo("Europe/London")
    usual = [
        _usual(t.astimezone(zone), 100 * (1 + int(s[1:])))
        for s, t in zip(out["series"], out["ts"], strict=True)
    ]
    assert 0.85 < out.select(pl.col("forecast").sum()).item() / sum(usual) < 1.15


@pytest.mark.parametrize("horizon", [1, 24, 168])
def test_intervals_contain_the_forecast(horizon: int) -> None:
    """0 <= lo80 <= forecast <= hi80 on every hour, and the interval is not empty on average."""
    history = _history("Europe/London", datetime(2025, 6, 29, 23), 12, series=3, seed=2)
    out = forecast_series(history, horizon, calendar=Calendar("Europe/London"), params=FAST)
    assert out.height == 3 * horizon
    ordered = (pl.col("lo80") >= 0) & (pl.col("lo80") <= pl.col("forecast"))
    assert out.select((ordered & (pl.col("forecast") <= pl.col("hi80"))).all()).item()
    assert out.select((pl.col("hi80") - pl.col("lo80")).mean()).item() > 0


def test_now_starts_at_the_next_whole_hour_and_ignores_later_counts() -> None:
    """With ``now``, every series is forecast from ``now`` rounded up, from counts before it."""
    history = _history("Europe/London", datetime(2025, 6, 29, 23), 10, series=2)
    now = datetime(2025, 6, 27, 9, 30, tzinfo=UTC)
    out = forecast_series(history, 5, calendar=Calendar("Europe/London"), now=now, params=FAST)
    cut = forecast_series(
        history.filter(pl.col("ts") < now), 5, calendar=Calendar("Europe/London"), params=FAST
    )
    assert out["ts"].unique().sort().to_list() == [
        now.replace(minute=0) + h * HOUR for h in (1, 2, 3, 4, 5)
    ]
    assert out.equals(cut)


def test_baselines_are_last_week_and_the_four_week_mean() -> None:
    """The seasonal naive repeats the hour a week ago; the four-week mean averages four."""
    history = _history("UTC", datetime(2025, 6, 29, 23), 6)
    naive = seasonal_naive(history, 24)
    mean = four_week_mean(history, 24)
    last = history["ts"].max()
    assert isinstance(last, datetime)
    count = dict(zip(history["ts"], history["count"], strict=True))
    first = last + HOUR
    weeks = [count[first - timedelta(weeks=k)] for k in (1, 2, 3, 4)]
    assert naive["forecast"][0] == weeks[0]
    assert mean["forecast"][0] == pytest.approx(sum(weeks) / 4)
    for frame in (naive, mean):
        assert frame.select((pl.col("lo80") <= pl.col("forecast")).all()).item()


def test_event_uplift_scales_its_day_only() -> None:
    """An event with an expected uplift of 2 doubles that day's forecast and nothing else."""
    history = _history("Europe/London", datetime(2025, 6, 29, 23), 10)
    plain = Calendar("Europe/London")
    fair = plain.with_events([Event(date(2025, 7, 1), "fair", 2.0)])
    a = forecast_series(history, 72, calendar=plain, params=FAST)
    b = forecast_series(history, 72, calendar=fair, params=FAST)
    local = a["ts"].dt.convert_time_zone("Europe/London").dt.date()
    ratio = (b["forecast"] / a["forecast"]).to_list()
    for day, r in zip(local, ratio, strict=True):
        assert r == pytest.approx(2.0 if day == date(2025, 7, 1) else 1.0)


def test_beats_the_seasonal_naive_on_a_known_weekly_pattern() -> None:
    """On a weekly pattern with noise, the model beats the seasonal naive by a clear margin."""
    history = _history("Europe/London", datetime(2025, 6, 29, 23), 16, series=3, noise=0.3)
    metrics = backtest(history, 24, 14, calendar=Calendar("Europe/London"), params=FAST)
    overall = {
        r["method"]: r for r in metrics.filter(pl.col("series").is_null()).iter_rows(named=True)
    }
    assert set(overall) == set(METHODS)
    assert overall["smartstreets"]["mase"] < 0.85 * overall["seasonal_naive"]["mase"]
    assert 0.6 < overall["smartstreets"]["coverage80"] < 0.95


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "Expected an IANA time zone"),
        ({"school_holidays": ((date(2025, 2, 2), date(2025, 2, 1)),)}, "first <= last"),
    ],
)
def test_calendar_refuses_bad_values(change: dict[str, object], message: str) -> None:
    """A calendar with an unknown zone or a backwards school holiday is refused."""
    with pytest.raises(ValueError, match=message):
        Calendar(**change)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"), [("train_weeks", 2), ("learning_rate", 0.0), ("threads", 0)]
)
def test_params_are_validated(field: str, value: float) -> None:
    """Out-of-range training parameters raise ValueError naming the field."""
    with pytest.raises(ValueError, match=f"Expected {field} in"):
        ForecastParams(**{field: value})  # type: ignore[arg-type]


def test_built_in_calendars() -> None:
    """Victoria knows Good Friday 2014; England's adapter keeps the simulator's holidays."""
    vic = victoria().with_events([Event(date(2014, 4, 17), "market")])
    days = day_table(vic, date(2014, 4, 16), date(2014, 4, 19)).to_dicts()
    assert [d["holiday"] for d in days] == [0, 0, 1, 1]
    assert [d["to_holiday"] for d in days] == [2, 1, 0, 0]
    assert days[1]["event"] == 1 and days[1]["uplift"] is None
    eng = england()
    assert eng.timezone == "Europe/London" and date(2025, 12, 25) in eng.public_holidays
    assert (date(2025, 7, 22), date(2025, 9, 2)) in eng.school_holidays


def test_history_errors_are_history_errors() -> None:
    """Missing columns and negative counts raise HistoryError (a ValueError)."""
    good = _history("UTC", datetime(2025, 6, 29, 23), 2)
    with pytest.raises(HistoryError, match="lacks column"):
        forecast_series(good.drop("count"), 24)
    with pytest.raises(HistoryError, match="negative"):
        forecast_series(good.with_columns(pl.lit(-1.0).alias("count")), 24)
    with pytest.raises(ValueError, match="horizon"):
        forecast_series(good, 169)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", "forecast", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def _write_csv(path: Path, history: pl.DataFrame, tz: str | None) -> Path:
    ts = pl.col("ts")
    text = (
        ts.dt.convert_time_zone(tz).dt.strftime("%Y-%m-%dT%H:%M:%S")
        if tz
        else ts.dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
    )
    history.select("series", text.alias("timestamp"), "count").write_csv(path)
    return path


@pytest.mark.parametrize("tz", ["Europe/London", None], ids=["naive+tz", "offsets"])
def test_cli_predict_prints_horizon_rows_per_series(tmp_path: Path, tz: str | None) -> None:
    """``forecast predict`` prints the header and horizon x series rows, local with offsets."""
    history = _history("Europe/London", datetime(2025, 10, 25, 23), 5, series=2)
    csv = _write_csv(tmp_path / "h.csv", history, tz)
    result = _cli(
        "predict", "--history", str(csv), "--horizon", "30", *(["--tz", tz] if tz else [])
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "series,timestamp,forecast,lo80,hi80"
    assert len(lines) == 1 + 30 * 2
    assert lines[1].startswith(
        "s0,2025-10-26T00:00:00+01:00" if tz else "s0,2025-10-25T23:00:00+00:00"
    )


def test_cli_backtest_prints_every_method(tmp_path: Path) -> None:
    """``forecast backtest --format csv`` gives three methods overall and per series."""
    history = _history("UTC", datetime(2025, 6, 29, 23), 8, series=2)
    csv = _write_csv(tmp_path / "h.csv", history, None)
    result = _cli("backtest", "--history", str(csv), "--origins", "3", "--format", "csv")
    assert result.returncode == 0, result.stderr
    metrics = pl.read_csv(result.stdout.encode())
    assert metrics.columns == ["series", "method", "hours", "mase", "mae", "coverage80"]
    assert metrics.height == 3 * 3 and metrics["hours"].min() == 24 * 3


HEADER = "series,timestamp,count\n"
BAD_INPUT = [
    ("", [], "is empty"),
    ("series,timestamp\na,2025-01-01T00:00:00Z\n", [], "lacks column(s) count"),
    (HEADER, [], "has no rows"),
    (HEADER + "a,2025-01-01T00:00:00Z,1\na,next tuesday,2\n", [], "line 3: cannot read timestamp"),
    (HEADER + "a,2025-01-01T00:00:00,1\n", [], "line 2: timestamp has no UTC offset"),
    (HEADER + "a,2025-01-01T00:00:00Z,-3\n", [], "line 2: count is negative"),
    (HEADER + "a,2025-01-01T00:00:00Z,many\n", [], "line 2: count is not a number"),
    (HEADER + "a,2025-01-01T00:00:00Z,1\n", ["--tz", "Mars/Olympus"], "unknown time zone"),
    (HEADER + "a,2025-01-01T00:00:00Z,1\n", ["--horizon", "0"], "--horizon: expected 1 to 168"),
    (HEADER + "a,2025-01-01T00:00:00Z,1\n", ["--horizon", "500"], "--horizon: expected 1 to 168"),
    (HEADER + "a,2025-01-01T00:00:00Z,1\n", ["--calendar", "mars"], "--calendar: expected"),
    (HEADER + "a,2025-01-01T00:00:00Z,1\n", [], "history too short"),
]


@pytest.mark.parametrize(("text", "args", "message"), BAD_INPUT, ids=[m for _, _, m in BAD_INPUT])
def test_cli_bad_input_is_one_line(
    tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    """Bad input gives one ``error: ...`` line on stderr and a non-zero exit, no traceback."""
    csv = tmp_path / "h.csv"
    csv.write_text(text)
    result = _cli("predict", "--history", str(csv), *args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr


def test_cli_missing_file_and_bad_events(tmp_path: Path) -> None:
    """A missing history file and an events file with a bad date are one-line errors too."""
    missing = _cli("backtest", "--history", str(tmp_path / "nope.csv"))
    events = tmp_path / "events.csv"
    events.write_text("date,name,uplift\n2025-13-01,fair,1.5\n")
    bad_events = _cli("predict", "--history", str(events), "--events", str(events))
    for result, message in ((missing, "no such file"), (bad_events, "line 2: expected a date")):
        assert result.returncode != 0
        assert result.stderr.count("\n") == 1 and message in result.stderr


@pytest.mark.skipif(MELBOURNE is None, reason="the shared Melbourne counts are not on this machine")
def test_backtest_on_real_melbourne_counts() -> None:
    """Six Melbourne sensors around Easter 2014: smartstreets beats both baselines."""
    assert MELBOURNE is not None
    tz = "Australia/Melbourne"
    raw = pl.read_csv(MELBOURNE, schema_overrides={"count": pl.Float64}).filter(
        pl.col("sensor_id").is_in([1, 2, 4, 6, 9, 13]),
        pl.col("timestamp_local").is_between(pl.lit("2013-01-01"), pl.lit("2014-05-01")),
    )
    naive = pl.col("timestamp_local").str.to_datetime("%Y-%m-%dT%H:%M:%S")
    history = raw.select(
        pl.col("sensor").alias("series"),
        localise(naive, tz, pl.int_range(pl.len()).over("sensor", "timestamp_local")).alias("ts"),
        "count",
    ).drop_nulls("ts")
    metrics = backtest(history, 24, 28, calendar=victoria(), last_origin=date(2014, 4, 30))
    overall = {
        r["method"]: r for r in metrics.filter(pl.col("series").is_null()).iter_rows(named=True)
    }
    assert overall["smartstreets"]["hours"] > 6 * 24 * 25
    best = min(overall["seasonal_naive"]["mase"], overall["four_week_mean"]["mase"])
    assert overall["smartstreets"]["mase"] < 0.9 * best
    assert 0.65 < overall["smartstreets"]["coverage80"] < 0.95
    assert metrics.filter(pl.col("series").is_not_null())["series"].n_unique() == 6
