"""Rolling-origin evaluation over several windows: one grid, every window's origins.

The history is laid on its grid once; each :class:`~analytics.forecasting.windows.Window`
is then backtested on its own (MASE scales taken before its first origin, so a window is
scored as if it were the only one), and the scored hours carry the window's name.
"""

from collections.abc import Callable, Sequence

import polars as pl

from analytics.forecasting.backtest import prepare_backtest, run_origins
from analytics.forecasting.baselines import BASELINES
from analytics.forecasting.calendar import Calendar
from analytics.forecasting.errors import HistoryError
from analytics.forecasting.params import ForecastParams
from analytics.forecasting.scoring import breakdown, methods_of, summarise
from analytics.forecasting.statistical import StatisticalParams
from analytics.forecasting.windows import Window
from ingest.kernel.params import require

WindowProgress = Callable[[str, int, int], None]
"""Called with (window name, origins done, origins in the window)."""


def backtest_windows(
    history: pl.DataFrame,
    windows: Sequence[Window],
    horizon: int = 24,
    *,
    calendar: Calendar | None = None,
    params: ForecastParams | None = None,
    statistical: StatisticalParams | None = None,
    progress: WindowProgress | None = None,
) -> pl.DataFrame:
    """Scored hours of every window, with a leading ``window`` column.

    Parameters are those of :func:`analytics.forecasting.backtest.backtest_points`, with
    ``windows`` in place of ``origins``, ``last_origin`` and ``stride_days``.

    Raises
    ------
    HistoryError
        A window where no hour can be scored (named).
    """
    require(len(windows) >= 1, "Expected at least one window.")
    names = [w.name for w in windows]
    require(len(set(names)) == len(names), "Expected windows with distinct names.")
    params = params or ForecastParams()
    calendar = calendar or Calendar()
    grid = prepare_backtest(history, calendar, params)
    parts = []
    for w in windows:

        def tick(done: int, total: int, name: str = w.name) -> None:
            if progress is not None:
                progress(name, done, total)

        try:
            points = run_origins(
                grid, w.days(), horizon, params, statistical=statistical, progress=tick
            )
        except HistoryError as exc:
            raise HistoryError(f"window {w.name}: {exc}") from exc
        parts.append(points.select(pl.lit(w.name).alias("window"), pl.all()))
    return pl.concat(parts)


def window_table(points: pl.DataFrame) -> pl.DataFrame:
    """One row per window: scored hours, series, origins, each method's MASE and coverage,
    smartstreets' improvement on the better naive baseline and on the statistical model,
    and the series where smartstreets is more than twice as bad as the seasonal naive.

    Returns
    -------
    polars.DataFrame
        ``window, series, origins, hours``, ``mase_m`` and ``cover_m`` for each method,
        ``gain_naive`` (1 - smartstreets' MASE over the better of the seasonal naive's and
        the four-week mean's), ``gain_statistical`` (when present), ``worse`` (count) and
        ``worst_ratio``; windows in the order they first appear.
    """
    methods = methods_of(points)
    rows = []
    per_series = breakdown(points, ("window",))
    for name in points["window"].unique(maintain_order=True):
        mine = points.filter(pl.col("window") == name)
        overall = {
            r["method"]: r
            for r in summarise(mine).filter(pl.col("series").is_null()).iter_rows(named=True)
        }
        best = min(overall[m]["mase"] for m in BASELINES)
        own = overall["smartstreets"]["mase"]
        ratios = per_series.filter(pl.col("window") == name)
        row: dict[str, object] = {
            "window": name,
            "series": mine["series"].n_unique(),
            "origins": mine["origin"].n_unique(),
            "hours": len(mine),
            **{f"mase_{m}": overall[m]["mase"] for m in methods},
            **{f"cover_{m}": overall[m]["coverage80"] for m in methods},
            "gain_naive": 1 - own / best,
            "worse": int(ratios["worse"].sum()),
            "worst_ratio": ratios["ratio"].max(),
        }
        if "statistical" in methods:
            row["gain_statistical"] = 1 - own / overall["statistical"]["mase"]
        rows.append(row)
    return pl.DataFrame(rows)
