"""What the council did and what litter arrived, recovered from a bin's daily readings.

A fall of the reading is a council lift (one a day at most; most falls are to 0, the few that
stop short still count, the rest being what arrived since), and a rise is litter that arrived.
On a lift day the reading is what arrived after the lift: litter of that day before the lift is
not seen, so arrivals are a slight underestimate, for both policies alike. A bin reading 100%
(10/10) that stays there has topped out: what arrived is unknown and counted as 0 (a lower
bound, reported as censored days); a rise into the top is likewise a lower bound.

Readings are quantised (20% steps on Wyndham's 0-10 sensors) and compactors report in steps: a
bin reads 0 for days, then 6. Within a fill cycle the rises telescope, so totals are exact to
the readings; their timing is not, and a replayed bin that is half full when a step lands would
be charged days of litter in one. So a rise is spread evenly over the days the reading had held
before it (``spread``, the default), which keeps every cycle's total.

Missing days in a gap of up to ``max_gap_days`` carry the last reading forward (no lift; the
next reading's rise, spread, covers them); a longer gap ends a segment, and both policies
restart from the level read after it, so neither is charged for an outage.
"""

from dataclasses import dataclass
from datetime import date

from analytics.routing.replay_io import BinSeries

FULL_PCT = 100.0


@dataclass(frozen=True)
class Segment:
    """A stretch of a bin's days without a long gap, as the council ran it.

    ``start_pct`` is the reading on ``start``, where both policies begin; then for each day
    from ``start + 1``: the council's end-of-day fill, the litter that arrived, whether the
    council lifted the bin and whether the arrivals are censored (the bin had topped out).
    """

    start: date
    start_pct: float
    level_pct: tuple[float, ...]
    arrivals_pct: tuple[float, ...]
    lifted: tuple[bool, ...]
    censored: tuple[bool, ...]


def recover(series: BinSeries, max_gap_days: int = 3, spread: bool = True) -> list[Segment]:
    """The council's lifts and each day's arrivals from a bin's readings, by segment.

    With ``spread``, a rise is shared evenly over the days since the reading last changed
    (or since the segment began), up to and including the day it was read; a lift day keeps
    what its reading shows.
    """
    out: list[Segment] = []
    cols: tuple[list[float], list[float], list[bool], list[bool]] = ([], [], [], [])
    start, start_pct = series.days[0], series.fill_pct[0]
    prev_day, prev = start, start_pct
    for day, fill in zip(series.days[1:], series.fill_pct[1:], strict=True):
        gap = (day - prev_day).days
        if gap > max_gap_days:
            out.append(_segment(start, start_pct, cols, spread))
            cols = ([], [], [], [])
            start, start_pct, prev_day, prev = day, fill, day, fill
            continue
        for _ in range(gap - 1):  # a missing day: the level held
            _push(cols, prev, 0.0, False, prev >= FULL_PCT)
        lifted = fill < prev
        arrived = fill if lifted else fill - prev
        _push(cols, fill, arrived, lifted, not lifted and prev >= FULL_PCT)
        prev_day, prev = day, fill
    out.append(_segment(start, start_pct, cols, spread))
    return out


def _segment(
    start: date,
    start_pct: float,
    cols: tuple[list[float], list[float], list[bool], list[bool]],
    spread: bool,
) -> Segment:
    levels, arrivals, lifted, censored = cols
    if spread:
        arrivals = list(arrivals)
        changed = -1  # the day the reading last changed; -1: the segment's start
        for j, (rise, lift) in enumerate(zip(cols[1], lifted, strict=True)):
            if lift or rise > 0:
                if not lift:  # the days since the last change read the same: all 0 so far
                    arrivals[changed + 1 : j + 1] = [rise / (j - changed)] * (j - changed)
                changed = j
    return Segment(start, start_pct, tuple(levels), tuple(arrivals), tuple(lifted), tuple(censored))


def _push(
    cols: tuple[list[float], list[float], list[bool], list[bool]],
    level: float,
    arrived: float,
    lifted: bool,
    censored: bool,
) -> None:
    cols[0].append(level)
    cols[1].append(arrived)
    cols[2].append(lifted)
    cols[3].append(censored)
