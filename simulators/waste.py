"""A town's bins over weeks, replayable under any collection policy on the same truth.

Everything random is drawn up front from the seed: litter dropped in each half hour, sensor
noise, stuck-sensor episodes and what a liner leaves behind. A policy only decides when bins are
emptied, so two policies replayed from one :class:`FillTruth` face exactly the same litter
(common random numbers) and their differences are the policies' alone.

Litter keeps arriving when a bin is full: the true level is not capped, and the time it spends
at or above 100% counts as overflow (litter on the street). The sensor reports at most 100%.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from ingest.kernel.params import require
from simulators.bins import BinSensorParams, litter_rate
from simulators.calendar import day_factors
from simulators.footfall import LOCAL
from simulators.town import SimBin

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FillTruth:
    """Pre-drawn randomness of ``n`` bins over ``T`` steps."""

    start: datetime  # UTC time of step 0
    step_min: int
    increments: FloatArray  # (n, T) percentage points added during each step
    noise: FloatArray  # (n, T) sensor noise
    stuck: npt.NDArray[np.bool_]  # (n, T) sensor frozen
    residual: FloatArray  # (n, T) fill left after emptying at that step
    initial: FloatArray  # (n,) fill at step 0

    @property
    def steps(self) -> int:
        return int(self.increments.shape[1])

    def time_of(self, step: int) -> datetime:
        return self.start + timedelta(minutes=self.step_min * step)

    def step_of(self, moment: datetime) -> int:
        return int((moment - self.start).total_seconds() // (self.step_min * 60))


def draw_truth(
    bins: Sequence[SimBin],
    first_day: date,
    days: int,
    seed: int,
    sensor: BinSensorParams | None = None,
) -> FillTruth:
    """Draw the litter and sensor behaviour of ``bins`` for ``days`` local days."""
    require(days >= 1, "Expected days >= 1.")
    sensor = sensor or BinSensorParams()
    step_min = sensor.report_every_min
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=LOCAL).astimezone(UTC)
    steps = days * 24 * 60 // step_min
    factors = day_factors(first_day, days + 1, seed)
    times = [start + timedelta(minutes=step_min * k) for k in range(steps)]
    local = [t.astimezone(LOCAL) for t in times]
    litter = np.array([factors[(lt.date() - first_day).days].litter for lt in local])
    step_h = step_min / 60
    n = len(bins)
    rng = np.random.default_rng(random.Random(f"waste-{seed}").getrandbits(64))
    increments = np.empty((n, steps))
    for i, b in enumerate(bins):
        rates = np.array([litter_rate(b.location_type, b.fill_rate_pct_h, lt) for lt in local])
        increments[i] = rates * litter * step_h * rng.gamma(4.0, 0.25, steps)
    stuck = np.zeros((n, steps), dtype=bool)
    per_step = sensor.stuck_per_day * step_h / 24
    for i in range(n):
        k = 0
        while k < steps:
            if rng.random() < per_step:
                length = int(rng.uniform(*sensor.stuck_days) * 24 / step_h)
                stuck[i, k : k + length] = True
                k += length
            k += 1
    return FillTruth(
        start=start,
        step_min=step_min,
        increments=increments,
        noise=rng.normal(0.0, sensor.noise_sd, (n, steps)),
        stuck=stuck,
        residual=rng.uniform(0.0, 3.0, (n, steps)),
        initial=rng.uniform(0.0, 50.0, n),
    )


class FillReplay:
    """One policy's run over a :class:`FillTruth`: advance time, empty bins, read sensors."""

    def __init__(self, truth: FillTruth, count_from: int = 0) -> None:
        self.truth = truth
        self.count_from = count_from
        n = truth.initial.shape[0]
        self.level = truth.initial.copy()
        self.reported = np.full((n, truth.steps), np.nan)
        self.step = 0
        self.overflow_steps = np.zeros(n, dtype=np.int64)
        self.lifts = 0
        self._frozen = np.zeros(n)
        self._pending: dict[int, list[int]] = {}
        self.collections: list[list[int]] = [[] for _ in range(n)]

    def empty_at(self, bin_index: int, step: int) -> None:
        """Empty a bin at ``step`` (not before the current step)."""
        self._pending.setdefault(max(step, self.step), []).append(bin_index)

    def advance_to(self, step: int) -> None:
        """Run up to (not including) ``step``: litter arrives, crews empty, sensors read."""
        truth = self.truth
        for k in range(self.step, min(step, truth.steps)):
            for i in self._pending.pop(k, []):
                self.level[i] = truth.residual[i, k]
                self.collections[i].append(k)
                if k >= self.count_from:
                    self.lifts += 1
            self.level += truth.increments[:, k]
            if k >= self.count_from:
                self.overflow_steps += self.level >= 100.0
            live = np.clip(self.level + truth.noise[:, k], 0.0, 100.0)
            starting = truth.stuck[:, k] & ~(truth.stuck[:, k - 1] if k else False)
            self._frozen[starting] = self.reported[starting, k - 1] if k else live[starting]
            self.reported[:, k] = np.where(truth.stuck[:, k], self._frozen, live)
        self.step = max(self.step, min(step, truth.steps))

    def readings(self, bin_index: int, since_step: int) -> tuple[list[datetime], FloatArray]:
        """The bin's readings from ``since_step`` up to now, as (UTC times, values)."""
        lo = max(0, since_step)
        values = np.round(self.reported[bin_index, lo : self.step], 1)
        times = [self.truth.time_of(k) for k in range(lo, self.step)]
        return times, values

    def overflow_hours(self) -> float:
        """Bin-hours at or above 100% since ``count_from``."""
        return float(self.overflow_steps.sum()) * self.truth.step_min / 60
