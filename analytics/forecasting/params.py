"""How the forecaster is trained: one frozen, validated set of parameters."""

from dataclasses import dataclass

from ingest.kernel.params import require_in


@dataclass(frozen=True)
class ForecastParams:
    """How the forecaster is trained.

    Parameters
    ----------
    train_weeks
        Weeks of history before the origin to learn from.
    max_train_rows
        Training hours drawn at random from that window when it holds more (keeps a fit to
        a few seconds on one core).
    trees
        Boosting rounds of each booster.
    learning_rate
        Shrinkage of each tree.
    leaves
        Leaves per tree.
    min_leaf
        Training hours a leaf must hold.
    retrain_days
        In a backtest, days between refits (origins in between reuse the last model).
    stuck_zero_hours
        Runs of zero counts at least this long are an outage, treated as missing.
    threads
        Threads LightGBM may use.
    seed
        Seed of the row sampling, the leads and LightGBM's bagging.
    """

    train_weeks: int = 104
    max_train_rows: int = 150_000
    trees: int = 150
    learning_rate: float = 0.1
    leaves: int = 63
    min_leaf: int = 100
    retrain_days: int = 7
    stuck_zero_hours: int = 12
    threads: int = 1
    seed: int = 1

    def __post_init__(self) -> None:
        require_in("train_weeks", self.train_weeks, 4, 520)
        require_in("max_train_rows", self.max_train_rows, 1_000, 10_000_000)
        require_in("trees", self.trees, 10, 5_000)
        require_in("learning_rate", self.learning_rate, 0, 1, lo_open=True)
        require_in("leaves", self.leaves, 2, 4_096)
        require_in("min_leaf", self.min_leaf, 1, 100_000)
        require_in("retrain_days", self.retrain_days, 1, 365)
        require_in("stuck_zero_hours", self.stuck_zero_hours, 2, 8_760)
        require_in("threads", self.threads, 1, 64)
