"""Which bins a shift empties: must-collect, worth collecting while passing, or skip, each with
its reason in words.

A bin must be collected when it is at its threshold now, or when it could overflow (upper
forecast) before the next collection could reach it: the end of the next shift, since a bin left
today may be the last stop tomorrow. A bin that would pass its threshold by then (median
forecast), or reach ``worth_pct``, is worth collecting: it is emptied when a vehicle passes close
enough (a prize in metres of detour), and otherwise waits for the next shift, when it will be
due. Everything else waits, with the fill it is expected to have by then.

Emptying every bin that will merely pass its threshold tomorrow would empty most bins at half
full (a bin filling 35% a day, Edinburgh's median, would go every other day at about 50%); the
upper forecast against overflow keeps the streets as clean with fewer lifts, and
``evaluate`` measures both.

Sensors are handled explicitly: a bin reporting ``fire`` is not sent to a collection crew (it is
an incident, raised as an alert); a ``tilted`` bin is always visited (litter is on the street);
a silent or stuck sensor is planned from the bin's history, and a bin never heard from is
collected until its sensor reports.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from analytics.routing.fill import FillForecast, FillModel
from analytics.routing.fill_words import clock, first_reaching, pct_words
from ingest.kernel.params import require, require_in

Decision = Literal["must", "worth", "skip"]


@dataclass(frozen=True)
class SelectionParams:
    """Thresholds of the selection.

    Parameters
    ----------
    threshold_pct
        Default collection threshold (fill at which a bin should be emptied).
    thresholds_by_litres
        Thresholds per bin size, overriding the default (large containers are often left to
        fill further; small street bins overflow sooner).
    overflow_pct
        Fill at which litter spills; the upper forecast must stay below it.
    worth_pct
        A bin predicted to reach this by the next opportunity is worth a short detour.
    worth_detour_m
        The detour, in metres, worth driving to empty a bin predicted at its threshold by the
        next opportunity; smaller predicted fills are worth proportionally less.
    reach_h
        How far into the next shift a bin left today may wait for its crew: overflow risk is
        judged until then (``None``: the whole shift, the safe default).
    """

    threshold_pct: float = 80.0
    thresholds_by_litres: Mapping[int, float] = field(default_factory=dict)
    overflow_pct: float = 100.0
    worth_pct: float = 70.0
    worth_detour_m: int = 150
    reach_h: float | None = None

    def __post_init__(self) -> None:
        require_in("threshold_pct", self.threshold_pct, 10, 100)
        require(
            all(10 <= t <= 100 for t in self.thresholds_by_litres.values()),
            "Expected thresholds_by_litres values in [10, 100].",
        )
        require_in("overflow_pct", self.overflow_pct, 50, 150)
        require_in("worth_pct", self.worth_pct, 0, 100)
        require_in("worth_detour_m", self.worth_detour_m, 0, 100_000)
        if self.reach_h is not None:
            require_in("reach_h", self.reach_h, 0, 24)

    def threshold_for(self, capacity_litres: int) -> float:
        """The collection threshold of a bin of this size."""
        return self.thresholds_by_litres.get(capacity_litres, self.threshold_pct)


class Forecaster(Protocol):
    """What selection needs of a bin's fill model (:class:`FillModel`, or a replay's truth)."""

    @property
    def stale(self) -> bool: ...
    @property
    def stuck(self) -> bool: ...
    @property
    def flags(self) -> tuple[str, ...]: ...
    @property
    def last_reading_at(self) -> datetime | None: ...
    def predict(self, at: datetime) -> FillForecast: ...


@dataclass(frozen=True)
class BinState:
    """A registered bin and what is known of its fill (``model`` is None if never heard)."""

    device_id: str
    lat: float
    lon: float
    capacity_litres: int
    model: FillModel | Forecaster | None
    zone: str | None = None
    street: str | None = None


@dataclass(frozen=True)
class Choice:
    """The decision about one bin for one shift."""

    bin: BinState
    decision: Decision
    reason: str
    fill_now_pct: float | None
    predicted_fill_pct: float | None
    load_litres: int
    prize_m: int
    for_crew: bool = True  # False for incidents (fire) that no collection round should take
    due_s: int | None = None  # could overflow this many seconds into the shift: empty it first
    overflow_at: datetime | None = None  # when it could overflow if left (upper forecast)
    overflow_likely: bool = False  # the median forecast overflows by then too


_pct = pct_words


def choose(
    state: BinState,
    shift_start: datetime,
    next_opportunity: datetime,
    params: SelectionParams = SelectionParams(),
    shift_s: int = 0,
) -> Choice:
    """Decide whether the bin is emptied on the shift starting at ``shift_start``.

    A must-collect bin that could overflow within the first ``shift_s`` seconds of the shift is
    given the time it could (``due_s``, at least an hour), so routes can take it first.
    """
    threshold = params.threshold_for(state.capacity_litres)
    model = state.model
    if model is None:
        return Choice(
            state,
            "must",
            "no sensor data yet: collect until the sensor reports",
            None,
            None,
            state.capacity_litres,
            0,
        )
    now = model.predict(shift_start)
    later = model.predict(next_opportunity)
    load = round(state.capacity_litres * min(max(now.median_pct, 0.0), 100.0) / 100)
    fill_now, fill_next = round(now.median_pct, 1), round(later.median_pct, 1)
    if "fire" in model.flags and not model.stale:
        return Choice(
            state,
            "skip",
            "fire reported: not for a collection crew; an incident to attend, not a lift",
            fill_now,
            fill_next,
            load,
            0,
            for_crew=False,
        )
    tilted = "tilted" in model.flags and not model.stale
    overflow_at, likely = None, False
    if later.hi_pct >= params.overflow_pct:
        overflow_at = first_reaching(
            lambda t: model.predict(t).hi_pct, params.overflow_pct, shift_start, next_opportunity
        )
        likely = later.median_pct >= params.overflow_pct
    when = clock(next_opportunity, shift_start, next_opportunity.tzinfo)
    risk = None if overflow_at is None else clock(overflow_at, shift_start, shift_start.tzinfo)
    decision, reason, prize = _verdict(now, later, threshold, params, when, risk, tilted=tilted)
    urgent = _due(model, shift_start, shift_s, params.overflow_pct) if decision == "must" else None
    return Choice(
        state,
        decision,
        reason + _caveat(model),
        fill_now,
        fill_next,
        load,
        prize,
        due_s=urgent,
        overflow_at=overflow_at,
        overflow_likely=likely,
    )


def _verdict(
    now: FillForecast,
    later: FillForecast,
    threshold: float,
    params: SelectionParams,
    when: str,
    risk: str | None,
    *,
    tilted: bool,
) -> tuple[Decision, str, int]:
    """Decision, reason and prize (metres of detour) from the forecasts for the shift's start
    (``now``) and the next opportunity (``later``, at ``when``); ``risk`` is when the bin could
    overflow if left. Fills are worded, never over 100%."""
    if tilted:
        return "must", "tipped over: right it and empty it", 0
    if now.median_pct >= params.overflow_pct:
        return "must", "full now", 0
    if now.median_pct >= threshold:
        return "must", f"at {_pct(now.median_pct)} now (threshold {_pct(threshold)})", 0
    if later.hi_pct >= params.overflow_pct:
        return "must", f"could overflow about {risk} if left until the next collection ({when})", 0
    if later.median_pct >= threshold:
        return (
            "worth",
            f"would pass {_pct(threshold)} before the next collection ({_pct(later.median_pct)} "
            f"by {when}): emptied if a vehicle passes close",
            params.worth_detour_m,
        )
    if later.median_pct >= params.worth_pct:
        share = min(1.0, later.median_pct / threshold)
        return (
            "worth",
            f"{_pct(later.median_pct)} by {when}: emptied if a vehicle passes close",
            round(params.worth_detour_m * share),
        )
    return "skip", f"only {_pct(later.median_pct)} expected by {when}", 0


def _caveat(model: FillModel | Forecaster) -> str:
    """What a stale or stuck sensor adds to the reason, or ``""``."""
    if not (model.stale or model.stuck):
        return ""
    heard = model.last_reading_at
    status = "stuck" if model.stuck else "silent"
    since = f" since {heard:%a %d %b %H:%M}" if heard and not model.stuck else ""
    return f" (sensor {status}{since}: predicted from the bin's history)"


def _due(
    model: FillModel | Forecaster, shift_start: datetime, shift_s: int, overflow_pct: float
) -> int | None:
    """Seconds into the shift (whole hours, within ``shift_s``) by which the bin could
    overflow, or ``None``."""
    for hour in range(1, shift_s // 3600 + 1):
        if model.predict(shift_start + timedelta(hours=hour)).hi_pct >= overflow_pct:
            return hour * 3600
    return None


def choose_all(
    states: Sequence[BinState],
    shift_start: datetime,
    next_opportunity: datetime,
    params: SelectionParams = SelectionParams(),
    shift_s: int = 0,
) -> list[Choice]:
    """:func:`choose` for every bin, in the given order."""
    require(next_opportunity > shift_start, "Expected next_opportunity after shift_start.")
    return [choose(s, shift_start, next_opportunity, params, shift_s) for s in states]
