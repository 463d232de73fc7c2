"""Counts at earlier wall-clock hours of the same series, looked up by position, not by join.

A grid holds each series as a contiguous run of rows; its local wall-clock hours (``wall``,
hours since the epoch in local time) rise by one an hour, skip one in the spring and repeat
one in the autumn. A table per series from wall-clock hour to its first row then answers
"the count at wall-clock hour ``k``" for every row at once: the same answer as joining the
grid with its own ``series, wall, y`` (first row of each wall-clock hour kept), without
hashing millions of rows for every lag.
"""

import numpy as np
import polars as pl


class WallIndex:
    """The first row of each wall-clock hour of each series of ``grid`` (``wall``,
    ``first_row`` and ``y`` columns; rows ordered by series, then time)."""

    def __init__(self, grid: pl.DataFrame) -> None:
        wall = grid["wall"].to_numpy()
        first_row = grid["first_row"].to_numpy()
        new = np.ones(len(wall), dtype=bool)
        new[1:] = first_row[1:] != first_row[:-1]
        starts = np.flatnonzero(new)
        code = np.cumsum(new) - 1
        lo = np.minimum.reduceat(wall, starts) if len(wall) else wall
        hi = np.maximum.reduceat(wall, starts) if len(wall) else wall
        span = hi - lo + 1
        # Per row: its series' first and last wall-clock hour, and where its table starts.
        self.lo, self.hi = lo[code], hi[code]
        self.shift = (np.cumsum(span) - span)[code] - self.lo
        at = self.shift + wall
        self.table = np.full(int(span.sum()), -1, dtype=np.int64)
        if np.all(at[1:] >= at[:-1]):  # local time never goes back more than the hour repeated
            first = np.ones(len(at), dtype=bool)
            first[1:] = at[1:] != at[:-1]
            self.table[at[first]] = np.flatnonzero(first)
        else:
            where, row = np.unique(at, return_index=True)
            self.table[where] = row
        self.y = grid["y"]

    def counts_at(self, wall: np.ndarray, name: str) -> pl.Series:
        """Per row, the count of its series at wall-clock hour ``wall`` (null where the series
        has no such hour or no count in it)."""
        inside = (wall >= self.lo) & (wall <= self.hi)
        rows = np.where(inside, self.table[np.where(inside, self.shift + wall, 0)], -1)
        index = pl.Series(rows).set(pl.Series(rows < 0), None)
        return self.y.gather(index).alias(name)
