"""Replay real bins: the lifts smartstreets' policy would have made against the council's own.

The council's lifts and each day's litter are recovered from the readings
(:mod:`analytics.routing.replay_truth`). smartstreets' policy is replayed on the same arrivals:
each morning it forecasts the bin from its own earlier readings (:mod:`replay_forecast`; its
lifts reset the fill to 0, and it reads its fill at the sensor's resolution) and
:func:`select.choose` decides with the bin's threshold, the next opportunity being the next
morning. It lifts a bin that is at its threshold or could overflow by tomorrow (upper
forecast); a bin that would merely pass its threshold by tomorrow (median forecast) is "worth"
collecting, which without routes means it waits for the next morning (``lift="due"``);
``lift="ahead"`` lifts it today. A bin the council never let reach its threshold gets no such
wait, and its threshold stands in for overflow: it is lifted once its upper forecast could
reach it.

Each policy is scored on the end-of-day reading: lifts, days at or over the threshold, the
longest run of such days, and overflow days (at 100%, or litter rising past the top). The
council's longest run is each bin's allowance; a longer run under smartstreets is a violation.
"""

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from rich import box
from rich.console import Console
from rich.table import Table

from analytics.routing.fill import FillReading
from analytics.routing.replay_forecast import FORECASTERS, ForecasterName, forecast
from analytics.routing.replay_io import BinSeries, ReplayInputError, read_replay
from analytics.routing.replay_truth import FULL_PCT, recover
from analytics.routing.select import BinState, SelectionParams, choose
from ingest.kernel.cli import fail
from ingest.kernel.params import require, require_in

LiftPolicy = Literal["due", "ahead"]
LIFT_POLICIES: tuple[LiftPolicy, ...] = ("due", "ahead")
_SHIFT = time(6, 0)  # lifts happen in the morning, before the day's litter
_READ = time(5, 0)  # a day's reading, early the next morning: the fill the day ended with


@dataclass(frozen=True)
class ReplayParams:
    """How a replay is run.

    Parameters
    ----------
    max_gap_days
        Gaps between readings of up to this many days are bridged; longer ones split the series.
    history_days
        Days of its own readings smartstreets fits its forecast on each morning.
    forecaster
        ``"daily"`` (mean daily rise, the default) or ``"fill-model"`` (:func:`fit_fill_model`).
    upper_quantile
        The daily forecaster's upper quantile of daily rises, against which overflow is
        judged: higher lifts more bins early and overflows fewer.
    spread
        Spread each rise over the days the reading had held before it (the default), rather
        than putting it all on the day it was read: see the module's notes on quantisation.
    lift
        ``"due"`` (the default): lift the bins :func:`select.choose` must collect; bins it
        finds merely worth collecting (would pass the threshold by tomorrow) wait a day, as
        they would with no vehicle passing, unless the council never left that bin at its
        threshold. ``"ahead"``: lift those too, so a bin reaches its threshold only when the
        forecast misses.
    """

    max_gap_days: int = 3
    history_days: int = 28
    forecaster: ForecasterName = "daily"
    lift: LiftPolicy = "due"
    upper_quantile: float = 0.9
    spread: bool = True

    def __post_init__(self) -> None:
        require_in("max_gap_days", self.max_gap_days, 1, 365)
        require_in("history_days", self.history_days, 2, 365)
        require(self.forecaster in FORECASTERS, f"Expected forecaster in {FORECASTERS}.")
        require_in("upper_quantile", self.upper_quantile, 0.5, 1)
        require(self.lift in LIFT_POLICIES, f"Expected lift in {LIFT_POLICIES}.")


@dataclass(frozen=True)
class PolicyTally:
    """One policy's figures for a bin (or, summed, for all bins)."""

    lifts: int
    over_days: int
    longest_over_run: int
    overflow_days: int


@dataclass(frozen=True)
class BinReplay:
    """A bin's replay: the council's figures against smartstreets'."""

    bin_id: str
    threshold_pct: float
    days: int
    censored_days: int
    council: PolicyTally
    smartstreets: PolicyTally

    @property
    def violation(self) -> bool:
        """smartstreets left the bin over its threshold longer than the council ever did."""
        return self.smartstreets.longest_over_run > self.council.longest_over_run


@dataclass(frozen=True)
class ReplayResult:
    """Every bin's replay and the totals."""

    bins: tuple[BinReplay, ...]
    params: ReplayParams

    @property
    def council(self) -> PolicyTally:
        """The council's figures summed (longest run: the longest of any bin)."""
        return _total(b.council for b in self.bins)

    @property
    def smartstreets(self) -> PolicyTally:
        """smartstreets' figures summed (longest run: the longest of any bin)."""
        return _total(b.smartstreets for b in self.bins)

    @property
    def violations(self) -> tuple[str, ...]:
        """Bins smartstreets left over threshold longer than the council did."""
        return tuple(b.bin_id for b in self.bins if b.violation)


def pct_fewer(council: int, smartstreets: int) -> float:
    """How many fewer lifts smartstreets made, in percent of the council's (0 without any)."""
    return 100.0 * (council - smartstreets) / council if council else 0.0


class _Tally:
    """Running figures of one policy on one bin."""

    def __init__(self, threshold_pct: float) -> None:
        self.threshold = threshold_pct
        self.lifts = self.over = self.run = self.longest = self.overflow = 0

    def day(self, level_pct: float, lifted: bool) -> None:
        self.lifts += lifted
        self.overflow += level_pct >= FULL_PCT
        self.run = self.run + 1 if level_pct >= self.threshold else 0
        self.over += self.run > 0
        self.longest = max(self.longest, self.run)

    def tally(self) -> PolicyTally:
        return PolicyTally(self.lifts, self.over, self.longest, self.overflow)


def replay_bin(series: BinSeries, params: ReplayParams = ReplayParams()) -> BinReplay:
    """Replay one bin under the council's lifts and under smartstreets' policy."""
    threshold = series.threshold_pct
    segments = recover(series, params.max_gap_days, params.spread)
    council, smart = _Tally(threshold), _Tally(threshold)
    for seg in segments:
        council.run = 0  # a run does not span an outage
        for level, lifted in zip(seg.level_pct, seg.lifted, strict=True):
            council.day(level, lifted)
    # A bin the council never let reach its threshold must not reach it: the threshold is its
    # limit, judged like overflow on the upper forecast.
    never = council.longest == 0
    wait = params.lift == "due" and not never
    limit = min(max(threshold, 10.0), FULL_PCT)
    select = SelectionParams(
        threshold_pct=limit, worth_pct=limit, overflow_pct=max(limit, 50.0) if never else FULL_PCT
    )
    readings: list[FillReading] = []
    lifts: list[datetime] = []
    days = censored = 0
    for seg in segments:
        smart.run = 0
        level = seg.start_pct
        readings.append(FillReading(_at(seg.start, _READ, 1), level))
        for i, arrived in enumerate(seg.arrivals_pct):
            shift = _at(seg.start + timedelta(days=i + 1), _SHIFT)
            window = readings[-params.history_days :]
            known = [t for t in lifts if t > window[0].ts]
            model = forecast(
                params.forecaster, series.bin_id, window, known, shift, params.upper_quantile
            )
            state = BinState(series.bin_id, 0.0, 0.0, 0, model)
            decision = choose(state, shift, shift + timedelta(days=1), select).decision
            lift = decision == "must" or (decision == "worth" and not wait)
            if lift:
                level = 0.0
                lifts.append(shift)
            # Litter past the top spills: the bin stays at 100% (an overflow day).
            level = min(level + arrived, FULL_PCT)
            read = _quantised(level, series.step_pct)
            readings.append(FillReading(_at(shift.date(), _READ, 1), read))
            smart.day(read, lift)
        days += len(seg.arrivals_pct)
        censored += sum(seg.censored)
    return BinReplay(series.bin_id, threshold, days, censored, council.tally(), smart.tally())


def replay(series: Sequence[BinSeries], params: ReplayParams = ReplayParams()) -> ReplayResult:
    """Replay every bin."""
    return ReplayResult(tuple(replay_bin(s, params) for s in series), params)


def _quantised(level_pct: float, step_pct: float) -> float:
    """What a sensor of this resolution reads: the step at or below the fill."""
    if step_pct <= 0:
        return level_pct
    return step_pct * int(level_pct / step_pct + 1e-9)


def _at(day: date, at: time, days_later: int = 0) -> datetime:
    # Daily readings carry no time zone; UTC keeps every day 24 hours long.
    return datetime.combine(day + timedelta(days=days_later), at, tzinfo=UTC)


def _total(tallies: Iterable[PolicyTally]) -> PolicyTally:
    rows = list(tallies)
    return PolicyTally(
        sum(t.lifts for t in rows),
        sum(t.over_days for t in rows),
        max((t.longest_over_run for t in rows), default=0),
        sum(t.overflow_days for t in rows),
    )


def result_json(result: ReplayResult) -> dict[str, object]:
    """The result as plain JSON-ready data: totals, violations and every bin."""
    council, smart = result.council, result.smartstreets
    return {
        "params": dataclasses.asdict(result.params),
        "council": dataclasses.asdict(council),
        "smartstreets": dataclasses.asdict(smart),
        "pct_fewer_lifts": round(pct_fewer(council.lifts, smart.lifts), 1),
        "violations": list(result.violations),
        "censored_days": sum(b.censored_days for b in result.bins),
        "bins": [
            {
                **dataclasses.asdict(b),
                "pct_fewer_lifts": round(_fewer(b), 1),
                "violation": b.violation,
            }
            for b in result.bins
        ],
    }


def _fewer(b: BinReplay) -> float:
    return pct_fewer(b.council.lifts, b.smartstreets.lifts)


def replay_command(path: Path, as_json: bool, params: ReplayParams = ReplayParams()) -> None:
    """``smartstreets routes evaluate --replay FILE``: replay the file and print the figures.

    A missing or unreadable file, unknown columns or a bad value is a one-line error.
    """
    try:
        result = replay(read_replay(path), params)
    except ReplayInputError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result_json(result), indent=2))
        return
    table = Table(
        title=f"Replay of {path.name}",
        caption="C: the council as it was; S: smartstreets. thr: threshold; over: days at or"
        " over it; run: the longest such run; ovfl: days at 100% or spilling; !: S ran longer",
        box=box.SIMPLE_HEAD,
    )
    for name in _COLUMNS:
        table.add_column(
            name, justify="left" if name == "bin" else "right", no_wrap=True, min_width=len(name)
        )
    for b in result.bins:
        flag = " !" if b.violation else ""
        table.add_row(
            *_row(b.bin_id, f"{b.threshold_pct:g}%", b.days, b.council, b.smartstreets, flag)
        )
    table.add_section()
    days = sum(b.days for b in result.bins)
    table.add_row(*_row("total", "", days, result.council, result.smartstreets, ""))
    console = Console()
    if not console.is_terminal:  # piped or captured: rich would assume 80 columns and truncate
        console = Console(width=max(console.width, 110))
    console.print(table)
    bad = result.violations
    console.print(
        f"violations (smartstreets over threshold longer than the council): "
        f"{', '.join(bad) if bad else 'none'}"
    )


_COLUMNS = (
    "bin",
    "thr",
    "days",
    "lifts C",
    "lifts S",
    "fewer",
    "over C",
    "over S",
    "run C",
    "run S",
    "ovfl C",
    "ovfl S",
)


def _row(
    name: str, threshold: str, days: int, c: PolicyTally, s: PolicyTally, flag: str
) -> list[str]:
    return [
        name,
        threshold,
        str(days),
        str(c.lifts),
        str(s.lifts),
        f"{pct_fewer(c.lifts, s.lifts):.1f}%",
        str(c.over_days),
        str(s.over_days),
        str(c.longest_over_run),
        f"{s.longest_over_run}{flag}",
        str(c.overflow_days),
        str(s.overflow_days),
    ]
