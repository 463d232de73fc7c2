"""How the forecaster is trained: one frozen, validated set of parameters."""

from dataclasses import dataclass


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
        checks = (
            (4 <= self.train_weeks <= 520, "Expected train_weeks in [4, 520]."),
            (1_000 <= self.max_train_rows <= 10_000_000, "Expected max_train_rows in [1000, 1e7]."),
            (10 <= self.trees <= 5_000, "Expected trees in [10, 5000]."),
            (0 < self.learning_rate <= 1, "Expected learning_rate in (0, 1]."),
            (2 <= self.leaves <= 4_096, "Expected leaves in [2, 4096]."),
            (1 <= self.min_leaf <= 100_000, "Expected min_leaf in [1, 100000]."),
            (1 <= self.retrain_days <= 365, "Expected retrain_days in [1, 365]."),
            (2 <= self.stuck_zero_hours <= 8_760, "Expected stuck_zero_hours in [2, 8760]."),
            (1 <= self.threads <= 64, "Expected threads in [1, 64]."),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
