"""What the model sees: a reference level from past weeks, and how the target departs from it.

Everything is on the log scale, ``log1p(count)``, so one model serves a quiet lane and a busy
mall. The *base* of an hour is the mean log count of the same local hour of week in the eight
most recent weeks that were ordinary days (not public holidays or events) and counted, looking
back up to twelve weeks; the model predicts the target minus its base. Features:

* calendar, in local time: hour of week, hour, weekday, public and school holiday, event,
  days to the next and since the last public holiday, and the lead (hours ahead);
* ``d1 .. d4``: each of the last four weeks' same hour against the base, how many were
  counted, whether they fell on special days; ``d_older``: weeks 5-12 against the base;
* ``d_sunday``: recent Sundays' same hour against the base (what a holiday may look like);
* recent departures from the base, up to the origin: the last hour, the last 24 hours and
  week (mean log ratios ``r_*`` and count-weighted ``w_*``, also over 72 hours), the same hour
  the day before, and the persistent level shift the base is moved by (`shifts`);
* when a series changed in shape (a counter moved), weeks from before the change are left out
  of its lags and base (`shifts.changed_since`);
* ``series_code``: which series, so the one model can learn each counter's quirks;
* the hour's temperature and rain, when the council keeps weather (`weather`), else missing.

Every feature of a target ``p`` forecast ``lead`` hours ahead uses only counts before the
origin ``p - lead + 1``: lags of whole weeks (the horizon is at most a week) and trailing
means ending at ``p - lead``.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.forecasting.grid import LAG_WEEKS, SUNDAYS
from analytics.forecasting.shifts import changed_since, level_shift
from analytics.forecasting.weather import COLUMNS as WEATHER

BASE_WEEKS = 8
"""Ordinary weeks averaged into the base. Eight beat four and twelve on the holiday-free
windows where the four-week mean is hardest to beat (Melbourne spring 2014: 11.4% below it
against 10.7% and 11.6%; Auckland spring 2024: 8.3% against 7.3% and 4.4%)."""

RECENT_WEEKS = 4
"""Recent weeks whose same hour the model sees one by one (``d1 .. d4``)."""

CALENDAR_COLUMNS = ("how", "hour", "dow", "holiday", "school", "event", "to_holiday")
FEATURES = (
    *CALENDAR_COLUMNS,
    "from_holiday",
    "lead",
    "d1",
    "d2",
    "d3",
    "d4",
    "lags_seen",
    "special_lag1",
    "special_lags",
    "r_last",
    "r24",
    "r168",
    "r_day",
    "d_sunday",
    "series_code",
    "w24",
    "w168",
    "d_older",
    "w72",
    "shift",
    "temp_c",
    "rain_mm",
)
"""Model inputs, in column order."""

Array = np.ndarray


@dataclass(frozen=True)
class Signals:
    """Per-row arrays of a grid (see :func:`signals`)."""

    ly: Array
    base: Array
    lags: Array
    special: Array
    resid: Array
    r24: Array
    r168: Array
    w24: Array
    w168: Array
    w72: Array
    older: Array
    sunday: Array
    first_row: Array
    rebased: Array
    """The row's lags and base hold only weeks since its series changed (`changed_since`)."""
    weather: Array
    """Temperature and rain of the row's hour (NaN without weather; see `weather`)."""
    calendar: Array
    code: Array


def _trailing_mean(x: Array, first_row: Array, window: int, min_seen: int) -> Array:
    """Mean of the non-missing ``x`` over the ``window`` rows ending at each row (same series)."""
    seen = ~np.isnan(x)
    cs = np.concatenate(([0.0], np.cumsum(np.where(seen, x, 0.0))))
    cn = np.concatenate(([0], np.cumsum(seen)))
    end = np.arange(1, len(x) + 1)
    start = np.maximum(end - window, first_row)
    n = cn[end] - cn[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (cs[end] - cs[start]) / n
    return np.where(n >= min_seen, out, np.nan)


def _first_mean(values: Array, usable: Array, k: int) -> Array:
    """Mean of the first ``k`` usable values of each row (NaN when none is usable)."""
    # Column by column (a cumulative sum and a 2-D select along millions of short rows are
    # several times slower), summed as numpy sums a row, so the means are the same floats.
    so_far = np.zeros(len(usable), dtype=np.int64)
    n = np.zeros(len(usable), dtype=np.int64)
    taken = []
    for j in range(usable.shape[1]):
        so_far += usable[:, j]
        take = usable[:, j] & (so_far <= k)
        n += take
        taken.append(np.where(take, values[:, j], 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, _row_sum(taken) / n, np.nan)


def _row_sum(columns: list[Array]) -> Array:
    """``np.stack(columns, axis=1).sum(axis=1)`` in numpy's own order of additions (pairwise
    over the first eight, then one by one; one by one when fewer than eight)."""
    total: Array
    if len(columns) < 8:
        total = np.zeros(len(columns[0])) if columns else np.zeros(0)
        for column in columns:
            total = total + column
        return total
    c = columns
    total = ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]))
    for column in c[8:]:
        total = total + column
    return total


def _base(lags: Array, special: Array) -> Array:
    """The mean of the first `BASE_WEEKS` counted ordinary weeks' lags, else of any counted."""
    seen = ~np.isnan(lags)
    base = _first_mean(lags, seen & ~special, BASE_WEEKS)
    return np.where(np.isnan(base), _first_mean(lags, seen, BASE_WEEKS), base)


def signals(grid: pl.DataFrame) -> Signals:
    """Log counts, bases, residuals and trailing residual means of a grid's rows."""
    y = grid["y"].fill_null(np.nan).to_numpy()
    lags = np.log1p(
        np.column_stack(
            [grid[f"y{k}"].fill_null(np.nan).to_numpy() for k in range(1, LAG_WEEKS + 1)]
        )
    )
    special = np.column_stack([grid[f"sp{k}"].to_numpy() for k in range(1, LAG_WEEKS + 1)])
    base = _base(lags, special)
    since = changed_since(grid, base)
    rebased = since.is_not_null().to_numpy()
    if rebased.any():  # a series changed: older weeks are another place
        age = (grid["date"] - since).dt.total_days().fill_null(np.nan).to_numpy()
        weeks_back = 7 * np.arange(1, LAG_WEEKS + 1)
        lags = np.where(weeks_back[None, :] > age[:, None], np.nan, lags)
        # Only the rows of changed series lost weeks: only their base changes.
        base[rebased] = _base(lags[rebased], special[rebased])
    seen = ~np.isnan(lags)
    ly = np.log1p(y)
    resid = ly - base
    first_row = grid["first_row"].to_numpy()
    cal = grid.select(*CALENDAR_COLUMNS, "from_holiday").to_numpy().astype(np.float32)
    sundays = np.log1p(
        np.column_stack(
            [grid[f"su{j}"].fill_null(np.nan).to_numpy() for j in range(1, SUNDAYS + 1)]
        )
    )
    ordinary = seen & ~special
    # Count-weighted departures (total counted over total expected) resist the noise of quiet
    # night hours that dominates a plain mean of log ratios.
    both = ~np.isnan(resid)
    counted = np.where(both, y, np.nan)
    expected = np.where(both, np.expm1(base), np.nan)

    def weighted(window: int, min_seen: int) -> Array:
        total = _trailing_mean(counted, first_row, window, min_seen)
        usual = _trailing_mean(expected, first_row, window, min_seen)
        return np.asarray(np.log1p(total) - np.log1p(usual))

    return Signals(
        ly=ly,
        base=base,
        lags=lags[:, :RECENT_WEEKS],
        special=special[:, :RECENT_WEEKS],
        resid=resid,
        r24=_trailing_mean(resid, first_row, 24, 8),
        r168=_trailing_mean(resid, first_row, 168, 48),
        w24=weighted(24, 8),
        w168=weighted(168, 48),
        w72=weighted(72, 24),
        older=_first_mean(lags[:, RECENT_WEEKS:], ordinary[:, RECENT_WEEKS:], LAG_WEEKS) - base,
        sunday=_first_mean(sundays, ~np.isnan(sundays), SUNDAYS) - base,
        first_row=first_row,
        rebased=rebased,
        weather=np.column_stack(
            [
                grid[c].fill_null(np.nan).to_numpy()
                if c in grid.columns
                else np.full(grid.height, np.nan)
                for c in WEATHER
            ]
        ),
        calendar=cal,
        # Series by name order. A numeric code beat a categorical one on the Melbourne
        # backtest (which overfitted).
        code=grid["series"].rank("dense").to_numpy().astype(np.float32),
    )


def at(x: Array, idx: Array, first_row: Array) -> Array:
    """``x[idx]`` where ``idx`` is still in the row's series, else NaN."""
    ok = idx >= first_row
    return np.where(ok, x[np.where(ok, idx, 0)], np.nan)


def shift(s: Signals, rows: Array, leads: Array) -> Array:
    """The log shift of the base of target ``rows`` forecast ``leads`` ahead (`shifts`); none
    where the base already holds only weeks since a change."""
    last_known, first = rows - leads, s.first_row[rows]
    moved = level_shift(at(s.w24, last_known, first), at(s.w72, last_known, first))
    return np.where(s.rebased[rows], 0.0, moved)


def design(s: Signals, rows: Array, leads: Array) -> Array:
    """The feature matrix (columns :data:`FEATURES`) of target rows forecast ``leads`` ahead."""
    first = s.first_row[rows]
    last_known = rows - leads
    day_back = rows - 24 * ((leads + 23) // 24)
    d = s.lags[rows] - s.base[rows, None]
    cols = [
        s.calendar[rows],
        leads[:, None],
        d,
        (~np.isnan(s.lags[rows])).sum(axis=1)[:, None],
        s.special[rows, :1],
        s.special[rows].sum(axis=1)[:, None],
        at(s.resid, last_known, first)[:, None],
        at(s.r24, last_known, first)[:, None],
        at(s.r168, last_known, first)[:, None],
        at(s.resid, day_back, first)[:, None],
        s.sunday[rows, None],
        s.code[rows, None],
        at(s.w24, last_known, first)[:, None],
        at(s.w168, last_known, first)[:, None],
        s.older[rows, None],
        at(s.w72, last_known, first)[:, None],
        shift(s, rows, leads)[:, None],
        s.weather[rows],
    ]
    return np.hstack([np.asarray(c, dtype=np.float32) for c in cols])


def profile_base(grid: pl.DataFrame, ly: Array) -> Array:
    """A fallback base for rows whose weeks-ago lags are all missing.

    The mean log count of the series at the same local hour of week (else hour of day, else
    over all hours) over every counted hour of the grid. A forecast grid holds no counts after
    its origin, so this uses only what was known then.
    """
    frame = grid.select("series", "how", "hour").with_columns(
        pl.Series("ly", ly, dtype=pl.Float64).fill_nan(None)
    )
    out = np.full(len(ly), np.nan)
    for keys in (["series", "how"], ["series", "hour"], ["series"]):
        m = frame.select(pl.col("ly").mean().over(keys))["ly"]
        out = np.where(np.isnan(out), m.fill_null(np.nan).to_numpy(), out)
    return out
