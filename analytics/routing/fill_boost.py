"""Time to a fill threshold from coarse readings, learnt across a council's bins at once.

Gradient-boosted quantile trees (LightGBM) learn log(1 + days left) from the rows of
`fill_features` on every cycle already seen to reach its threshold: the median (blended with the
bin's analogs) is the forecast and the 10% and 90% quantiles bound the 80% interval, put on the
grid of the bin's readings. With too few such cycles the analogs alone answer.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import lightgbm as lgb
import numpy as np

from analytics.routing.fill_features import DAY_H, FEATURES, Rows, reading_step_h, rows_for
from analytics.routing.fill_horizon import FullForecast, HorizonParams, bin_series, forecast_full
from analytics.routing.fill_readings import FillReading
from analytics.routing.local_time import Floats, Ints
from ingest.kernel.params import require_in

__all__ = [
    "BoostParams",
    "FillBoosters",
    "estimates",
    "fit_boosters",
    "forecast_bins",
    "on_readings",
    "rolling_estimates",
]


@dataclass(frozen=True)
class BoostParams:
    """How the boosters are grown and used.

    ``quantiles`` are the outer quantiles fitted for the 80% interval. ``analog_weight``: the
    forecast is a weighted geometric mean of the boosters' median and the analogs' (of one plus
    the days left), the analogs weighing this much; on Wyndham's first half 0.3 and 0.5 did
    equally well, 0 and 0.7 worse. ``refit_days``: in a backtest, the boosters are refitted
    this often on what was known then. ``min_cycles``: fewer resolved origins than this and the
    analogs answer alone.
    """

    rounds: int = 200
    learning_rate: float = 0.05
    leaves: int = 7
    min_leaf: int = 100
    min_cycles: int = 300
    refit_days: float = 28.0
    quantiles: tuple[float, float] = (0.1, 0.9)
    analog_weight: float = 0.3

    def __post_init__(self) -> None:
        require_in("rounds", self.rounds, 1, 100_000)
        require_in("learning_rate", self.learning_rate, 0, 1, lo_open=True)
        require_in("leaves", self.leaves, 2, 1024)
        require_in("min_leaf", self.min_leaf, 1, 1_000_000)
        require_in("min_cycles", self.min_cycles, 1, 10**9)
        require_in("analog_weight", self.analog_weight, 0, 1)
        require_in("refit_days", self.refit_days, 0, 3650, lo_open=True)
        lo, hi = self.quantiles
        require_in("quantiles", lo, 0, 0.5, lo_open=True, hi_open=True)
        require_in("quantiles", hi, 0.5, 1, lo_open=True, hi_open=True)


@dataclass(frozen=True)
class FillBoosters:
    """Boosters for the median and the outer quantiles of log(1 + days left)."""

    median: lgb.Booster
    lo: lgb.Booster
    hi: lgb.Booster

    def predict(self, rows: Rows, pick: Ints, analog_weight: float) -> Floats:
        """(median, lower, upper) hours left for rows ``pick``, the median blended with the
        analogs' where they have one (see `BoostParams`)."""
        x = rows.x[pick]
        out = [np.maximum(m.predict(x), 0.0) for m in (self.median, self.lo, self.hi)]
        analog = np.log1p(rows.analog[pick, 0] / DAY_H)
        med = np.where(
            np.isfinite(analog), (1 - analog_weight) * out[0] + analog_weight * analog, out[0]
        )
        lo, hi = (np.expm1(o) * DAY_H for o in out[1:])
        med = np.expm1(med) * DAY_H
        return np.column_stack((med, np.minimum(lo, med), np.maximum(hi, med)))


def fit_boosters(rows: Rows, known_at: float, bp: BoostParams | None = None) -> FillBoosters | None:
    """Boosters trained on the rows whose truth was known by hour ``known_at``; ``None`` with
    fewer than ``bp.min_cycles`` of them."""
    bp = bp or BoostParams()
    train = np.isfinite(rows.remaining) & (rows.resolved <= known_at)
    if int(train.sum()) < bp.min_cycles:
        return None
    x, target = rows.x[train], np.log1p(rows.remaining[train] / DAY_H)
    lo_q, hi_q = bp.quantiles

    def grow(alpha: float) -> lgb.Booster:
        settings = {
            "objective": "quantile",
            "alpha": alpha,
            "learning_rate": bp.learning_rate,
            "num_leaves": bp.leaves,
            "min_data_in_leaf": bp.min_leaf,
            "num_threads": 1,
            "feature_fraction": 0.9,
            "deterministic": True,
            "seed": 1,
            "verbose": -1,
        }
        data = lgb.Dataset(x, target, feature_name=list(FEATURES), free_raw_data=True)
        return lgb.train(settings, data, num_boost_round=bp.rounds)

    return FillBoosters(grow(0.5), grow(lo_q), grow(hi_q))


def estimates(
    rows: Rows, at: Sequence[int] | Ints, known_at: float = np.inf, bp: BoostParams | None = None
) -> Floats:
    """(median, lower, upper) hours left for rows ``at``, from boosters fitted on what was
    known by hour ``known_at`` (everything, by default), or the analogs without enough."""
    bp = bp or BoostParams()
    pick = np.asarray(at, dtype=np.intp)
    model = fit_boosters(rows, known_at, bp) if len(pick) else None
    return rows.analog[pick] if model is None else model.predict(rows, pick, bp.analog_weight)


def rolling_estimates(
    rows: Rows, wanted: Sequence[int] | Ints, bp: BoostParams | None = None
) -> Floats:
    """Estimates for rows ``wanted`` as a backtest makes them: the boosters are refitted every
    ``bp.refit_days`` on what was known at the start of each period."""
    bp = bp or BoostParams()
    pick = np.asarray(wanted, dtype=np.intp)
    out = np.full((len(pick), 3), np.nan)
    if not len(pick):
        return out
    start = float(rows.t[pick].min())
    period = np.floor((rows.t[pick] - start) / (bp.refit_days * DAY_H)).astype(np.int64)
    for p in np.unique(period):
        here = period == p
        model = fit_boosters(rows, start + p * bp.refit_days * DAY_H, bp)
        rows_here = pick[here]
        out[here] = (
            rows.analog[rows_here]
            if model is None
            else model.predict(rows, rows_here, bp.analog_weight)
        )
    return out


def on_readings(est: Floats, step_h: float | Floats) -> Floats:
    """(median, lower, upper) hours left, put on a grid of readings ``step_h`` apart (one
    step, or one per row; 0 leaves a row as it is): a crossing is seen at a reading, so the
    interval runs from the reading at or before its lower bound to the one at or after its
    upper bound, and the median is the nearest. Infinite bounds stay infinite."""
    if np.ndim(step_h) == 0 and float(step_h) <= 0:
        return est
    est = np.asarray(est, dtype=np.float64)
    step = np.broadcast_to(np.asarray(step_h, dtype=np.float64), est.shape[:1])[:, None]
    grid = est / np.where(step > 0, step, 1.0)
    snapped = np.column_stack((np.round(grid[:, 0]), np.floor(grid[:, 1]), np.ceil(grid[:, 2])))
    return np.where(step > 0, snapped * step, est)


def forecast_bins(
    histories: Mapping[str, Sequence[FillReading]],
    threshold_pct: float = 80.0,
    *,
    horizon_days: float = 14.0,
    tz: str = "UTC",
    params: HorizonParams | None = None,
    boost: BoostParams | None = None,
) -> list[FullForecast]:
    """When each bin first reaches ``threshold_pct``, in bin id order: bins read densely from
    their hour-of-week model (``tz`` their local time zone), coarse ones from boosters fitted
    on every coarse bin's past cycles (see `forecast_full` for a bin alone)."""
    params = params or HorizonParams()
    series = {b: bin_series(r, params.drop_pct) for b, r in histories.items() if r}
    coarse = {b: s for b, s in series.items() if s.coarse}
    rows = rows_for(coarse, dict.fromkeys(coarse, threshold_pct), params)
    last = {b: len(s.t) - 1 for b, s in coarse.items()}
    at = [k for k in range(len(rows.t)) if rows.index[k] == last[rows.bins[int(rows.bin[k])]]]
    est = estimates(rows, at, bp=boost)
    made = {rows.bins[int(rows.bin[k])]: e for k, e in zip(at, est, strict=True)}
    out = []
    for bin_id in sorted(histories):
        if bin_id not in made:
            out.append(
                forecast_full(
                    bin_id,
                    histories[bin_id],
                    threshold_pct=threshold_pct,
                    horizon_days=horizon_days,
                    tz=tz,
                    params=params,
                )
            )
            continue
        s = coarse[bin_id]
        hours = made[bin_id]
        hours = on_readings(hours[None, :], reading_step_h(s))[0]
        when = max(r.ts for r in histories[bin_id])
        within = [
            when + timedelta(hours=float(h)) if h <= horizon_days * DAY_H else None for h in hours
        ]
        out.append(FullForecast(bin_id, when, float(s.y[-1]), *within))
    return out
