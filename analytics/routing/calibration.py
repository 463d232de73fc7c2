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
        volume per day: ``(fill_before - previous fill_after) * 0.8 / days``.
    """
    frame = (
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
    rates = frame["rise"] * PHYSICAL_PER_SENSOR_PCT / frame["days"]
    return [float(r) for r in rates]
