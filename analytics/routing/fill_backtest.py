"""How well time-to-threshold forecasts did on a bin history, against two baselines.

From each origin (every reading of coarse data; the last reading of each day of dense data)
whose cycle goes on to reach the threshold, each method forecasts the days until the first
reading at or over it, knowing only the readings up to the origin. Baselines: (a) the bin's
median past cycle (collection to threshold) minus the days since its last collection; (b) its
mean rise per day within cycles, extrapolated from the current fill. No forecast is earlier
than the next reading (one median reading interval): a crossing cannot be seen before it. On
coarse data the model's boosters (`fill_boost`) are refitted every few weeks on the cycles known
by then, as a deployment retraining on its own history would be.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from analytics.routing.fill_boost import BoostParams, on_readings, rolling_estimates
from analytics.routing.fill_features import cycle_left_h, reading_step_h, rows_for
from analytics.routing.fill_horizon import (
    BinSeries,
    HorizonParams,
    analogs,
    bin_series,
    by_rate,
    forecast_full,
)
from analytics.routing.fill_readings import FillReading

METHODS = ("model", "median_cycle", "mean_rise")
_DEFAULTS = HorizonParams()
_BOOST = BoostParams()


@dataclass(frozen=True)
class BacktestResult:
    """Mean absolute error in days per method (`METHODS`), the model's interval coverage and
    the number of origins scored (those where every method had a forecast)."""

    mae_days: dict[str, float]
    coverage: float
    origins: int
    bins: int

    @property
    def improvement_pct(self) -> float:
        """How much lower the model's error is than the better baseline's, in percent."""
        best = min(self.mae_days["median_cycle"], self.mae_days["mean_rise"])
        return 100 * (1 - self.mae_days["model"] / best) if best > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        """Plain values, for JSON."""
        return {
            "origins": self.origins,
            "bins": self.bins,
            "mae_days": self.mae_days,
            "improvement_pct": round(self.improvement_pct, 2),
            "coverage": round(self.coverage, 4),
        }


def _origins(s: BinSeries) -> Sequence[int]:
    if s.coarse:
        return range(len(s.t))
    day = np.floor(s.t / 24)
    return [int(i) for i in np.flatnonzero(np.append(day[1:] != day[:-1], True))]


def _coarse_estimates(
    series: Mapping[str, BinSeries],
    thresholds: Mapping[str, float],
    params: HorizonParams,
    boost: BoostParams | None,
    window: tuple[float, float],
    on_bin: Callable[[str], None] | None,
) -> dict[tuple[str, int], tuple[float, float, float]]:
    """The model's (median, lower, upper) hours left at every scored origin of coarse bins."""
    if not series:
        return {}
    rows = rows_for(series, thresholds, params, on_bin)
    lo_h, hi_h = window
    wanted = np.flatnonzero(np.isfinite(rows.remaining) & (rows.t >= lo_h) & (rows.t < hi_h))
    est = rows.analog[wanted] if boost is None else rolling_estimates(rows, wanted, boost)
    steps = {b: reading_step_h(s) for b, s in series.items()}
    names = [rows.bins[int(rows.bin[k])] for k in wanted]
    grid = on_readings(est, np.array([steps[b] for b in names]))
    return {
        (b, int(rows.index[k])): (float(m), float(lo), float(hi))
        for b, k, (m, lo, hi) in zip(names, wanted, grid, strict=True)
    }


def backtest(
    histories: Mapping[str, Sequence[FillReading]],
    threshold_pct: float | Mapping[str, float] = 80.0,
    *,
    params: HorizonParams = _DEFAULTS,
    boost: BoostParams | None = _BOOST,
    since: datetime | None = None,
    until: datetime | None = None,
    on_bin: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Score the model and both baselines on every bin's history.

    Parameters
    ----------
    histories
        Each bin's readings.
    threshold_pct
        One threshold for all bins, or one per bin id.
    params
        The analogs' parameters.
    boost
        The boosters' (see `fill_boost`), refitted every ``boost.refit_days`` on what was
        known then; ``None``: coarse bins are forecast from their analogs alone.
    since, until
        Only origins in ``[since, until)`` are scored (all the history before an origin is
        still used): for choosing settings on one part of a period and reporting on another.
    on_bin
        Called with each bin id once it is scored (for a progress bar).
    """
    errors: dict[str, list[float]] = {m: [] for m in METHODS}
    covered: list[bool] = []
    scored_bins = 0
    lo_h = since.timestamp() / 3600 if since else -np.inf
    hi_h = until.timestamp() / 3600 if until else np.inf
    series = {b: bin_series(r, params.drop_pct) for b, r in histories.items()}
    thresholds = {
        b: float(threshold_pct if isinstance(threshold_pct, float | int) else threshold_pct[b])
        for b in histories
    }
    coarse = {b: s for b, s in series.items() if s.coarse}
    made = _coarse_estimates(coarse, thresholds, params, boost, (lo_h, hi_h), on_bin)
    for bin_id, readings in histories.items():
        thr, s = thresholds[bin_id], series[bin_id]
        idx, own = analogs(s, thr)
        truth = dict(zip((int(i) for i in idx), own.remaining, strict=True))
        floor = reading_step_h(s)
        order = sorted(readings, key=lambda r: r.ts)
        before = len(covered)
        for i in _origins(s):
            if i not in truth or not lo_h <= s.t[i] < hi_h:
                continue
            if s.coarse:
                est = made.get((bin_id, i))
            else:
                f = forecast_full(bin_id, order[: i + 1], threshold_pct=thr, horizon_days=365)
                est = (
                    None
                    if f.full_at is None or f.full_lo is None or f.full_hi is None
                    else tuple(
                        (x - f.last_reading).total_seconds() / 3600
                        for x in (f.full_at, f.full_lo, f.full_hi)
                    )  # type: ignore[assignment]
                )
            a = cycle_left_h(s, i, thr)
            b = by_rate(s, i, thr, 0.1)
            if est is None or not np.isfinite([*est, a, b[0]]).all():
                continue
            med, lo, hi = (max(x, floor) for x in est)
            real = truth[i]
            for name, guess in zip(METHODS, (med, max(a, floor), max(b[0], floor)), strict=True):
                errors[name].append(abs(guess - real) / 24)
            covered.append(lo - 1e-9 <= real <= hi + 1e-9)
        scored_bins += len(covered) > before
        if on_bin is not None and not s.coarse:
            on_bin(bin_id)
    return BacktestResult(
        mae_days={m: float(np.mean(e)) if e else float("nan") for m, e in errors.items()},
        coverage=float(np.mean(covered)) if covered else float("nan"),
        origins=len(covered),
        bins=scored_bins,
    )
