"""How full each bin will be: a per-bin fill-rate profile by local hour of week.

Readings frozen at one value for ``stuck_after_h`` come from a stuck sensor and are not trusted;
collections are sustained drops. Between collections, increments of the median-smoothed fill (not
full) give rates by local hour of week, shrunk toward the weekday/weekend hour-of-day rate, the
all-days hour-of-day rate and the bin's mean rate (or a prior profile scaled to it). A forecast
is the last trustworthy level plus the rates' integral, so a stuck or silent sensor is
dead-reckoned; its quantiles scale the accumulated fill by how the rates did on past 24-hour
windows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from analytics.routing.fill_rates import FULL_PCT, forecast_spread, increments, shrunk
from analytics.routing.fill_readings import FillReading, collections_at, smoothed, trusted
from analytics.routing.local_time import HOURS_PER_WEEK, cumulative, epoch_hours
from ingest.kernel.params import require, require_in

__all__ = [
    "FULL_PCT",
    "HOURS_PER_WEEK",
    "FillForecast",
    "FillModel",
    "FillParams",
    "FillReading",
    "council_prior",
    "detect_collections",
    "fit_fill_model",
]

_RECENT_H = 3.0  # the level is the median of the last readings within this many hours
_SAME_COLLECTION = timedelta(hours=3)  # a detected drop this close to a crew record is that one


@dataclass(frozen=True)
class FillParams:
    """How fill readings are cleaned and the fill model is fitted.

    Parameters
    ----------
    stuck_after_h
        Identical consecutive readings for this long mean a stuck sensor, in hours.
    stale_after_h
        No trustworthy reading for this long before ``now`` makes the model stale, in hours.
    collection_drop_pct
        A fall of the median fill by this many points, held for 3 readings or more, is a
        collection.
    min_history_h
        Hours of usable history at which the bin's own mean rate outweighs the prior's 4 to 1
        (the prior counts as ``min_history_h / 4`` hours of data); less leans on the prior.
    shrink_weight
        Pseudo-hours of data behind each shrinkage target (hour of week toward weekday/weekend
        hour of day, toward hour of day, toward the mean or the scaled prior).
    quantiles
        Lower and upper quantiles of the forecast.
    """

    stuck_after_h: float = 6.0
    stale_after_h: float = 6.0
    collection_drop_pct: float = 25.0
    min_history_h: float = 48.0
    shrink_weight: float = 2.0
    quantiles: tuple[float, float] = (0.1, 0.9)

    def __post_init__(self) -> None:
        require_in("stuck_after_h", self.stuck_after_h, 0, 720, lo_open=True)
        require_in("stale_after_h", self.stale_after_h, 0, 720, lo_open=True)
        require_in("collection_drop_pct", self.collection_drop_pct, 0, 100, lo_open=True)
        require_in("min_history_h", self.min_history_h, 0, 8760)
        require_in("shrink_weight", self.shrink_weight, 0, 1000, lo_open=True)
        require(
            0 < self.quantiles[0] < self.quantiles[1] < 1,
            "Expected 0 < quantiles[0] < quantiles[1] < 1.",
        )


@dataclass(frozen=True)
class FillForecast:
    """Fill at ``at``: median and lower/upper quantiles (10% and 90% by default), in percent.

    Values above 100 mean the bin is overflowing by then; they are not capped.
    """

    at: datetime
    median_pct: float
    lo_pct: float
    hi_pct: float


@dataclass(frozen=True)
class FillModel:
    """A bin's fitted fill model: its level at ``as_of`` and its rates by local hour of week.

    ``rate_how`` are 168 rates (%/hour) from Monday 00:00 local time; ``spread`` scales the fill
    accumulated since ``as_of`` for the lower and upper quantiles; ``history_h`` counts hours of
    trustworthy increments the rates were learned from; ``as_of`` is the last trustworthy reading
    (or a later crew-confirmed collection, which resets the level to 0).
    """

    device_id: str
    rate_how: tuple[float, ...]
    level_pct: float
    as_of: datetime
    last_reading_at: datetime | None
    last_collection_at: datetime | None
    stuck: bool
    stale: bool
    flags: tuple[str, ...]
    spread: tuple[float, float]
    history_h: float
    tz: str

    def __post_init__(self) -> None:
        require(len(self.rate_how) == HOURS_PER_WEEK, "Expected 168 rates in rate_how.")
        require(0 <= self.spread[0] <= self.spread[1], "Expected 0 <= spread[0] <= spread[1].")

    def predict(self, at: datetime) -> FillForecast:
        """Fill at ``at`` if the bin is left alone: level plus the rates' integral since ``as_of``.

        Time is stepped in UTC and each hour looked up in local time, so DST changes are exact.
        Values above 100 mean overflowing (not capped: the planner needs them); times before
        ``as_of`` get the level. The quantiles are calibrated on 24-hour windows.
        """
        a, b = epoch_hours(self.as_of), epoch_hours(at)
        acc = 0.0
        if b > a:
            g = cumulative(np.asarray(self.rate_how), self.tz, np.array([a, b]))
            acc = float(g[1] - g[0])
        lo, hi = (self.level_pct + s * acc for s in self.spread)
        return FillForecast(at, self.level_pct + acc, lo, hi)

    def time_to(
        self, threshold_pct: float, horizon_h: float = 14 * 24
    ) -> tuple[datetime | None, datetime | None, datetime | None]:
        """When the fill reaches ``threshold_pct``: (median, earliest, latest).

        Earliest uses the upper spread, latest the lower; ``None`` when not reached within
        ``horizon_h`` hours of ``as_of``; all three are ``as_of`` when already there.
        """
        require(horizon_h > 0, "Expected horizon_h > 0.")
        if self.level_pct >= threshold_pct:
            return self.as_of, self.as_of, self.as_of
        a = epoch_hours(self.as_of)
        # Quarter-hour UTC steps hold every local hour boundary of every real time zone, and
        # the accumulated fill is linear between them.
        steps = np.arange(np.ceil(a * 4) / 4, a + horizon_h, 0.25)
        grid = np.concatenate(([a], steps[steps > a], [a + horizon_h]))
        acc = cumulative(np.asarray(self.rate_how), self.tz, grid)
        acc -= acc[0]
        out: list[datetime | None] = []
        for scale in (1.0, self.spread[1], self.spread[0]):
            need = (threshold_pct - self.level_pct) / scale if scale > 0 else np.inf
            i = int(np.searchsorted(acc, need))  # rates are >= 0: acc never falls
            if i >= len(acc):
                out.append(None)
                continue
            h = np.interp(need, acc[i - 1 : i + 1], grid[i - 1 : i + 1])
            out.append(self.as_of + timedelta(hours=float(h - a)))
        return out[0], out[1], out[2]


def detect_collections(
    readings: Sequence[FillReading], params: FillParams = FillParams()
) -> list[datetime]:
    """Times the bin was emptied: the first reading after each sustained drop.

    On dense readings a drop counts when the median of up to 5 trustworthy readings from it is
    at least ``collection_drop_pct`` below the median of up to 5 before it (3 or more each side),
    so one or two odd readings are not a collection; on coarse ones (daily, say) one fall of
    ``collection_drop_pct`` is. Stuck readings are ignored.
    """
    src, t, y, _, _ = trusted(readings, None, params.stuck_after_h)
    return [readings[int(src[i])].ts for i in collections_at(t, y, params.collection_drop_pct)]


def fit_fill_model(
    device_id: str,
    readings: Sequence[FillReading],
    now: datetime,
    *,
    tz: str = "Europe/London",
    collections: Sequence[datetime] = (),
    prior: Sequence[float] | None = None,
    params: FillParams = FillParams(),
) -> FillModel:
    """Fit a bin's fill model from its readings up to ``now``.

    Parameters
    ----------
    device_id
        The bin.
    readings
        Its fill readings, in any order; those after ``now`` are ignored.
    now
        When the model is fitted, timezone-aware.
    tz
        The bin's local time zone: litter follows local hours.
    collections
        Crew-confirmed emptyings, merged with the detected ones (one within 3 hours of a
        detected drop is that drop); one after the last trustworthy reading resets the level
        to 0 at its time.
    prior
        168 hour-of-week rates (e.g. `council_prior`) that bins with little history lean on.
        Without one, a bin with no usable history gets rates of 0.
    params
        Cleaning and fitting parameters.

    Returns
    -------
    FillModel
        The fitted model.
    """
    require(prior is None or len(prior) == HOURS_PER_WEEK, "Expected 168 rates in prior.")
    now_h = epoch_hours(now)
    src, t, y, stuck, latest = trusted(readings, now_h, params.stuck_after_h)
    crew = [c for c in collections if epoch_hours(c) <= now_h]
    found = [readings[int(src[i])].ts for i in collections_at(t, y, params.collection_drop_pct)]
    # A crew record near a detected drop is that drop, timed by the readings: crews' clocks
    # and logging lag would otherwise put the drop itself inside a stretch of filling.
    emptied = sorted(found + [c for c in crew if all(abs(c - d) > _SAME_COLLECTION for d in found)])
    seg = np.searchsorted(np.array([epoch_hours(c) for c in emptied]), t, side="right")
    smooth = smoothed(y, seg)
    sums, hours = increments(t, smooth, seg, tz)
    rates = shrunk(sums, hours, prior, params.min_history_h, params.shrink_weight)
    if len(t) and (not emptied or t[-1] >= epoch_hours(emptied[-1])):
        as_of = readings[int(src[-1])].ts
        recent = np.flatnonzero((seg == seg[-1]) & (t >= t[-1] - _RECENT_H))[-5:]
        g = cumulative(rates, tz, t[recent])
        level = float(np.median(y[recent] + g[-1] - g))  # each carried forward to as_of
    else:
        as_of, level = (emptied[-1] if emptied else now), 0.0
    return FillModel(
        device_id=device_id,
        rate_how=tuple(float(r) for r in rates),
        level_pct=level,
        as_of=as_of,
        last_reading_at=latest.ts if latest else None,
        last_collection_at=emptied[-1] if emptied else None,
        stuck=stuck,
        stale=not len(t) or now_h - float(t[-1]) > params.stale_after_h,
        flags=latest.flags if latest else (),
        spread=forecast_spread(t, smooth, seg, rates, tz, params.quantiles),
        history_h=float(hours.sum()),
        tz=tz,
    )


def council_prior(
    models: Sequence[FillModel], *, min_history_h: float = HOURS_PER_WEEK
) -> tuple[float, ...]:
    """Median hour-of-week rates across bins with ``min_history_h`` hours of history or more.

    Raises ``ValueError`` when no bin has that much: fit without a prior then.
    """
    rows = [m.rate_how for m in models if m.history_h >= min_history_h]
    require(bool(rows), "Expected at least one model with enough history.")
    return tuple(float(r) for r in np.median(np.array(rows), axis=0))
