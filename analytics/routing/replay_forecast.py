"""Forecasters for a replay of daily readings: the fill model, or a simple daily one.

Both see only what smartstreets would have had: the bin's own end-of-day readings under its
own lifts, and those lifts. The fill model (:func:`fit_fill_model`) learns hour-of-week rates;
with one reading a day it is told about every lift (as crew-confirmed collections) and not to
take a level held for days as a stuck sensor (an empty compactor stays at 0 for days). The
daily forecaster is the fallback: the mean daily rise since the readings began, with the upper
forecast at a high quantile of the daily rises, because quantised rises (0, 0, 20, 0, 20 ...)
make a median rate 0.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from analytics.routing.fill import FillForecast, FillParams, FillReading, fit_fill_model
from analytics.routing.select import Forecaster
from ingest.kernel.params import require_in

ForecasterName = Literal["daily", "fill-model"]
FORECASTERS: tuple[ForecasterName, ...] = ("daily", "fill-model")
_DAY = timedelta(days=1)
# A month of identical daily readings before a sensor counts as stuck; a day's silence is normal.
_DAILY_FILL = FillParams(stuck_after_h=720.0, stale_after_h=48.0, collection_drop_pct=50.0)


@dataclass(frozen=True)
class DailyForecast:
    """A bin's fill from ``as_of`` on: ``level_pct`` plus ``rate_pct`` a day (median) and
    ``hi_rate_pct`` a day (upper quantile); satisfies :class:`select.Forecaster`."""

    level_pct: float
    as_of: datetime
    rate_pct: float
    hi_rate_pct: float
    last_reading_at: datetime | None = None
    stale: bool = False
    stuck: bool = False
    flags: tuple[str, ...] = ()

    def predict(self, at: datetime) -> FillForecast:
        """Fill at ``at`` if the bin is left alone; not capped at 100."""
        days = max((at - self.as_of) / _DAY, 0.0)
        median = self.level_pct + self.rate_pct * days
        return FillForecast(at, median, self.level_pct, self.level_pct + self.hi_rate_pct * days)


def daily_forecast(
    readings: Sequence[FillReading],
    lifts: Sequence[datetime],
    now: datetime,
    quantile: float = 0.9,
) -> DailyForecast:
    """Fit :class:`DailyForecast` on readings (time order) and lifts before ``now``.

    A day's rise is the next reading less this one, or the next reading itself when the bin was
    lifted in between; rises from a reading at 100% or more are left out (the sensor had topped
    out, so the rise is unknown). Before any rise is seen the rates are 0: the bin is lifted
    once it reads at its threshold.
    """
    require_in("quantile", quantile, 0, 1)
    seen = [r for r in readings if r.ts <= now]
    done = [t for t in lifts if t <= now]
    rises: list[float] = []
    for a, b in itertools.pairwise(seen):
        days = max((b.ts - a.ts) / _DAY, 1.0)
        lifted = any(a.ts < t <= b.ts for t in done)
        if lifted:
            rises.append(b.fill_pct)  # since the lift: at most a day's litter
        elif a.fill_pct < 100:
            rises.append(max(b.fill_pct - a.fill_pct, 0.0) / days)
    rate = float(np.mean(rises)) if rises else 0.0
    hi = float(np.quantile(rises, quantile)) if rises else 0.0
    heard = seen[-1].ts if seen else None
    if not seen or (done and done[-1] > seen[-1].ts):
        return DailyForecast(0.0, done[-1] if done else now, rate, max(hi, rate), heard)
    return DailyForecast(seen[-1].fill_pct, seen[-1].ts, rate, max(hi, rate), heard)


def forecast(
    name: ForecasterName,
    bin_id: str,
    readings: Sequence[FillReading],
    lifts: Sequence[datetime],
    now: datetime,
    quantile: float = 0.9,
) -> Forecaster:
    """The named forecaster fitted on the bin's readings and lifts up to ``now`` (``quantile``:
    the daily forecaster's upper quantile; the fill model calibrates its own)."""
    if name == "fill-model":
        return fit_fill_model(
            bin_id, readings, now, tz="UTC", collections=lifts, params=_DAILY_FILL
        )
    return daily_forecast(readings, lifts, now, quantile)
