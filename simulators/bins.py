"""How litter bins fill, and what their sensors say about it.

Each bin's true fill grows at a rate set by its location type, the local hour, the weekday and
the day's factors (weather, events, holidays); a crew empties bins above a threshold on its
morning round. The sensor reports the true fill with noise, sometimes sticks at one value for
days, and its battery decays. The truth is kept beside every reading.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingest.contract.payloads import BinFillReading, BinFlag
from ingest.kernel.params import require, require_in
from simulators.calendar import DayFactors
from simulators.footfall import LOCAL

# Relative litter by local hour for each location type (peak hour = 1).
_PROFILES: dict[str, tuple[float, ...]] = {
    "high_street": (
        0.05,
        0.02,
        0.02,
        0.02,
        0.02,
        0.05,
        0.15,
        0.35,
        0.55,
        0.7,
        0.8,
        0.9,
        1.0,
        1.0,
        0.9,
        0.85,
        0.85,
        0.8,
        0.7,
        0.6,
        0.5,
        0.4,
        0.25,
        0.1,
    ),
    "park": (
        0.02,
        0.01,
        0.01,
        0.01,
        0.01,
        0.02,
        0.1,
        0.2,
        0.3,
        0.45,
        0.6,
        0.8,
        1.0,
        1.0,
        0.95,
        0.9,
        0.8,
        0.7,
        0.55,
        0.4,
        0.25,
        0.1,
        0.05,
        0.03,
    ),
    "residential": (
        0.05,
        0.02,
        0.02,
        0.02,
        0.03,
        0.1,
        0.4,
        0.8,
        0.6,
        0.3,
        0.25,
        0.25,
        0.3,
        0.3,
        0.25,
        0.3,
        0.5,
        0.8,
        1.0,
        0.9,
        0.6,
        0.4,
        0.2,
        0.1,
    ),
    "transport_hub": (
        0.05,
        0.02,
        0.02,
        0.02,
        0.05,
        0.3,
        0.8,
        1.0,
        0.9,
        0.5,
        0.4,
        0.4,
        0.45,
        0.45,
        0.4,
        0.5,
        0.8,
        1.0,
        0.8,
        0.5,
        0.35,
        0.25,
        0.15,
        0.08,
    ),
}
# Weekend litter relative to weekdays: parks fill on sunny weekends, hubs empty out.
_WEEKEND = {"high_street": 1.3, "park": 1.8, "residential": 1.2, "transport_hub": 0.5}


def litter_rate(location_type: str, mean_rate_pct_h: float, local: datetime) -> float:
    """Fill rate (percent per hour) at local time ``local`` on an ordinary day, for a bin whose
    average over an ordinary week is ``mean_rate_pct_h``."""
    profile = _PROFILES[location_type]
    weekend = _WEEKEND[location_type]
    week_mean = sum(profile) / 24 * (5 + 2 * weekend) / 7
    factor = weekend if local.weekday() >= 5 else 1.0
    return mean_rate_pct_h / week_mean * profile[local.hour] * factor


@dataclass(frozen=True)
class BinSensorParams:
    """How the fill sensor behaves.

    Parameters
    ----------
    report_every_min
        Minutes between readings.
    noise_sd
        Standard deviation of the ultrasonic reading, in percentage points.
    stuck_per_day
        Chance per day that the sensor freezes on its last value.
    stuck_days
        Shortest and longest freeze, in days.
    battery_drop_per_day
        Volts lost per day.
    """

    report_every_min: int = 30
    noise_sd: float = 1.5
    stuck_per_day: float = 0.01
    stuck_days: tuple[float, float] = (0.5, 4.0)
    battery_drop_per_day: float = 0.002

    def __post_init__(self) -> None:
        require_in("report_every_min", self.report_every_min, 1, 1440)
        require_in("noise_sd", self.noise_sd, 0, 20)
        require_in("stuck_per_day", self.stuck_per_day, 0, 1)
        require(
            0 < self.stuck_days[0] <= self.stuck_days[1],
            "Expected 0 < stuck_days[0] <= stuck_days[1].",
        )


@dataclass(frozen=True)
class CollectionPolicy:
    """When crews empty bins: a morning round, Monday to Saturday, of bins above a threshold."""

    hour: int = 7
    threshold_pct: float = 70.0
    sunday: bool = False

    def __post_init__(self) -> None:
        require_in("hour", self.hour, 0, 23)
        require_in("threshold_pct", self.threshold_pct, 0, 100)


@dataclass(frozen=True, slots=True)
class BinSample:
    """One reading as sent, with the truth beside it."""

    ts: datetime
    true_fill: float
    reported_fill: float
    battery_v: float
    temperature_c: float
    flags: tuple[str, ...]
    stuck: bool


def simulate_bin(
    location_type: str,
    mean_rate_pct_h: float,
    days: list[DayFactors],
    rng: random.Random,
    sensor: BinSensorParams = BinSensorParams(),
    policy: CollectionPolicy = CollectionPolicy(),
) -> Iterator[BinSample]:
    """Readings of one bin over ``days``, in time order.

    ``mean_rate_pct_h`` is the bin's average fill rate over an ordinary week.
    """
    step = timedelta(minutes=sensor.report_every_min)
    step_h = sensor.report_every_min / 60
    fill = rng.uniform(0, 50)
    battery = rng.uniform(3.85, 4.15)
    stuck_until: datetime | None = None
    stuck_value = 0.0
    if not days:
        return
    first = days[0].day
    # Step in UTC: adding a timedelta to a local time would walk wall-clock time across DST.
    t = datetime(first.year, first.month, first.day, tzinfo=LOCAL).astimezone(UTC)
    t = t + timedelta(minutes=rng.randrange(sensor.report_every_min))  # devices are not in step
    end = t + timedelta(days=len(days))
    collected_on = None
    while t < end:
        local = t.astimezone(LOCAL)
        factors = days[min((local.date() - first).days, len(days) - 1)]
        rate = litter_rate(location_type, mean_rate_pct_h, local)
        fill += rate * factors.litter * step_h * rng.gammavariate(4, 0.25)
        fill = min(fill, 100.0)
        round_day = policy.sunday or local.weekday() != 6
        if round_day and local.hour == policy.hour and collected_on != local.date():
            collected_on = local.date()
            if fill >= policy.threshold_pct:
                fill = rng.uniform(0, 3)  # emptied: liners leave a little behind
        battery -= sensor.battery_drop_per_day * step_h / 24
        if stuck_until is None and rng.random() < sensor.stuck_per_day * step_h / 24:
            stuck_until = t + timedelta(days=rng.uniform(*sensor.stuck_days))
            stuck_value = fill
        stuck = stuck_until is not None and t < stuck_until
        if stuck_until is not None and not stuck:
            stuck_until = None
        reported = stuck_value if stuck else fill + rng.gauss(0, sensor.noise_sd)
        flags: tuple[str, ...] = ()
        if fill >= 99.5 and rng.random() < 0.3:
            flags = ("lid_open",)  # overflowing bins get their lids pushed up
        temperature = 9 + 5 * (0.5 - abs(local.hour - 14) / 24) + rng.gauss(0, 1)
        yield BinSample(
            t,
            round(fill, 2),
            round(min(100.0, max(0.0, reported)), 1),
            round(battery + rng.gauss(0, 0.005), 3),
            round(temperature, 1),
            flags,
            stuck,
        )
        t += step


def as_reading(sample: BinSample, seq: int) -> BinFillReading:
    """The message a bin's sensor sends for ``sample``."""
    return BinFillReading(
        ts=sample.ts,
        fill_pct=sample.reported_fill,
        seq=seq,
        battery_v=sample.battery_v,
        temperature_c=sample.temperature_c,
        flags=[BinFlag(f) for f in sample.flags],
    )
