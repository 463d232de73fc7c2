"""Weather as an optional covariate: files read, stored per council, learnt from when present,
and never needed."""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import psycopg
import pytest
from typer.testing import CliRunner

from analytics.forecasting.calendar import Calendar
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.model import forecast_series
from analytics.forecasting.store import store_weather, stored_weather
from analytics.forecasting.weather import read_weather
from deploy.cli import app
from tests.analytics.forecasting.test_forecast import FAST, _history

TZ = "Europe/London"


def _open_meteo(path: Path, start: datetime, rain: list[float], offset_h: int = 1) -> Path:
    """A file laid out as Open-Meteo's hourly answer (local times and their UTC offset)."""
    times = [
        (start + timedelta(hours=h + offset_h)).strftime("%Y-%m-%dT%H:%M") for h in range(len(rain))
    ]
    doc = {
        "latitude": 52.67,
        "longitude": -0.73,
        "utc_offset_seconds": 3600 * offset_h,
        "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "precipitation": "mm"},
        "hourly": {"time": times, "temperature_2m": [14.5] * len(rain), "precipitation": rain},
    }
    path.write_text(json.dumps(doc))
    return path


def test_open_meteo_hours_are_read_in_utc(tmp_path: Path) -> None:
    """Local hours with their offset become UTC hours; values are kept."""
    start = datetime(2025, 6, 1, tzinfo=UTC)
    got = read_weather(_open_meteo(tmp_path / "w.json", start, [0.0, 1.2, 0.4]))
    assert got["ts"].to_list() == [start + timedelta(hours=h) for h in range(3)]
    assert got["rain_mm"].to_list() == [0.0, 1.2, 0.4]
    assert got["temp_c"].to_list() == [14.5] * 3


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("w.json", "{", "unreadable JSON"),
        ("w.json", '{"hourly": {"time": ["2025-06-01T00:00"]}}', "no hourly temperature_2m"),
        ("w.csv", "ts,temp_c\n2025-06-01T00:00:00+00:00,95\n", "implausible"),
        ("w.csv", "when,temp_c\n", "expected columns ts"),
    ],
)
def test_bad_weather_files_are_refused(tmp_path: Path, name: str, text: str, message: str) -> None:
    """Broken or implausible files raise HistoryError naming the problem."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(HistoryError, match=message):
        read_weather(path)


def test_rain_learnt_from_lowers_the_rainy_hours_only() -> None:
    """Counts halve in rain: given the weather, the forecast of rainy hours falls by about half
    against the same forecast without it, and dry hours stay where they were."""
    history = _history(TZ, datetime(2025, 6, 29, 23), 12, series=2, noise=0.15)
    rng = random.Random(3)
    hours = history["ts"].unique().sort()
    last = hours[-1]
    rainy_past = {t for t in hours if rng.random() < 0.2}
    ahead = [last + timedelta(hours=h + 1) for h in range(24)]
    rainy_ahead = set(ahead[9:15])
    weather = pl.DataFrame(
        {
            "ts": [*hours, *ahead],
            "temp_c": [15.0] * (len(hours) + 24),
            "rain_mm": [3.0 if t in rainy_past | rainy_ahead else 0.0 for t in [*hours, *ahead]],
        }
    ).with_columns(pl.col("ts").dt.cast_time_unit("us"))
    wet = history.with_columns(
        pl.when(pl.col("ts").is_in(list(rainy_past)))
        .then((pl.col("count") * 0.5).round())
        .otherwise(pl.col("count"))
        .alias("count")
    )
    cal = Calendar(TZ)
    with_weather = forecast_series(wet, 24, calendar=cal, params=FAST, weather=weather)
    without = forecast_series(wet, 24, calendar=cal, params=FAST)
    both = with_weather.join(without, on=["series", "ts"], suffix="_dry")
    ratio = both.with_columns((pl.col("forecast") / pl.col("forecast_dry")).alias("r"))
    rain = ratio.filter(pl.col("ts").is_in(list(rainy_ahead)))["r"].mean()
    dry = ratio.filter(~pl.col("ts").is_in(list(rainy_ahead)))["r"].mean()
    assert isinstance(rain, float) and isinstance(dry, float)
    assert rain < 0.75 and 0.85 < dry < 1.15


def test_weather_is_stored_per_council_and_replaced(
    conn: psycopg.Connection, council: str, tmp_path: Path
) -> None:
    """Loading stores each hour once; loading again replaces the values of the same hours."""
    start = datetime(2026, 11, 20, tzinfo=UTC)
    first = read_weather(_open_meteo(tmp_path / "a.json", start, [0.0, 2.0]))
    assert store_weather(conn, council, first) == 2
    again = read_weather(_open_meteo(tmp_path / "b.json", start, [1.0, 2.0, 0.5]))
    assert store_weather(conn, council, again) == 3
    got = stored_weather(conn, council, start, start + timedelta(days=1))
    assert got is not None and got["rain_mm"].to_list() == [1.0, 2.0, 0.5]
    assert stored_weather(conn, council, start - timedelta(days=2), start) is None


def test_weather_cli_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    """A missing file: one line on stderr, exit 2, before any database is needed."""
    result = CliRunner().invoke(
        app, ["forecast", "weather", "--council", "x", str(tmp_path / "none.json")]
    )
    assert result.exit_code == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr
