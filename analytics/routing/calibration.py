"""Real fill rates to calibrate the simulated town against.

The Edinburgh reference data (``waste/edinburgh_enevo_collections_2016.csv.gz`` in the shared
data) records each collection's fill before and after, as read by the bin's ultrasonic sensor. A
bin fills from one collection's ``fill_after_pct`` to the next one's ``fill_before_pct``; the
sensor's 100% is about 80% of the bin's physical volume.
"""

from pathlib import Path

import polars as pl

PHYSICAL_PER_SENSOR_PCT = 0.8
"""Physical fill per percentage point of the Enevo sensor's reading."""

MIN_INTERVAL_H = 12.0
"""Shortest interval between collections that counts: shorter ones are repeat visits."""


def _intervals(path: Path | str) -> pl.DataFrame:
    """Each Edinburgh bin's intervals between consecutive collections, longer than
    ``MIN_INTERVAL_H``: ``site_id``, ``days`` and ``rise`` (sensor percentage points)."""
    return (
        pl.read_csv(
            path,
            columns=["site_id", "collected_at_local", "fill_before_pct", "fill_after_pct"],
            try_parse_dates=True,
        )
        .with_columns(
            # Local wall-clock times: elapsed time has to be measured across DST changes.
            pl.col("collected_at_local").dt.replace_time_zone(
                "Europe/London", ambiguous="earliest", non_existent="null"
            )
        )
        .drop_nulls("collected_at_local")
        .sort("site_id", "collected_at_local")
        .with_columns(
            days=(
                pl.col("collected_at_local") - pl.col("collected_at_local").shift(1).over("site_id")
            ).dt.total_seconds()
            / 86_400,
            rise=pl.col("fill_before_pct") - pl.col("fill_after_pct").shift(1).over("site_id"),
        )
        .filter(pl.col("days") > MIN_INTERVAL_H / 24)
    )


def edinburgh_fill_rates(path: Path | str) -> list[float]:
    """Physical fill rates between consecutive collections of each Edinburgh bin.

    Parameters
    ----------
    path
        The Edinburgh collections file (gzipped CSV with ``site_id``, ``collected_at_local``,
        ``fill_before_pct`` and ``fill_after_pct``).

    Returns
    -------
    list[float]
        One rate per interval longer than ``MIN_INTERVAL_H``, in percent of the bin's physical
        volume per day: ``(fill_before - previous fill_after) * 0.8 / days``. A bin emptied
        often has many intervals, so these over-represent fast bins (see
        :func:`edinburgh_bin_rates`).
    """
    frame = _intervals(path)
    rates = frame["rise"] * PHYSICAL_PER_SENSOR_PCT / frame["days"]
    return [float(r) for r in rates]


def edinburgh_bin_rates(path: Path | str, min_days: float = 14.0) -> list[float]:
    """Each Edinburgh bin's physical fill rate: its rises summed over the days they cover.

    Parameters
    ----------
    path
        The Edinburgh collections file.
    min_days
        Bins whose intervals cover fewer days are left out (too little to say).

    Returns
    -------
    list[float]
        One rate per bin, in percent of its physical volume per day. This is the distribution
        a town's bins are drawn from: each bin counts once, however often it is emptied.
    """
    per_bin = (
        _intervals(path)
        .group_by("site_id")
        .agg(pl.col("rise").clip(lower_bound=0).sum(), pl.col("days").sum())
        .filter(pl.col("days") >= min_days)
    )
    rates = per_bin["rise"] * PHYSICAL_PER_SENSOR_PCT / per_bin["days"]
    return [float(r) for r in rates]


def edinburgh_intervals(path: Path | str) -> list[float]:
    """Days between consecutive collections of each Edinburgh bin (repeat visits left out)."""
    return [float(d) for d in _intervals(path)["days"]]
