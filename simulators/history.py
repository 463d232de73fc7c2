"""Weeks of footfall and bin history for a live town, so its charts and forecasts have a past.

Written straight to the database through the same decoder and writer as ingest (fast, and the
history is validated exactly as live data would be).
"""

import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg

from ingest.contract.payloads import FootfallCount
from ingest.contract.topics import Stream, build_topic
from ingest.db.connect import refresh_rollups
from ingest.db.registry import import_devices
from simulators.bins import as_reading, simulate_bin
from simulators.calendar import day_factors
from simulators.footfall import sample_count
from simulators.sink import Sink, encode
from simulators.town import Town

log = logging.getLogger(__name__)


def _history(
    town: Town, prefix: str, days: int, until: datetime, seed: int
) -> Iterator[tuple[str, bytes, datetime]]:
    """(topic, body, received) of every message of the ``days`` before ``until``."""
    rng = random.Random(seed)
    start = (until - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    step = timedelta(minutes=15)
    for sim in town.counters:
        t = start
        while t + step <= until:
            count = sample_count(rng, sim.peak_per_hour, t, t + step)
            body = encode(FootfallCount(period_start=t, period_end=t + step, count=count))
            topic = build_topic(prefix, town.council, Stream.FOOTFALL, sim.device.device_id)
            yield topic, body, t + step
            t += step
    # Bins: readings as their sensors sent them, emptied by a morning round above a threshold.
    first = (start - timedelta(days=1)).date()
    factors = day_factors(first, days + 2, seed)
    for bin_sim in town.bins:
        bin_rng = random.Random(f"{seed}-{bin_sim.device.device_id}")
        topic = build_topic(prefix, town.council, Stream.BIN_FILL, bin_sim.device.device_id)
        for seq, s in enumerate(
            simulate_bin(bin_sim.location_type, bin_sim.fill_rate_pct_h, factors, bin_rng)
        ):
            if start <= s.ts <= until:
                yield topic, encode(as_reading(s, seq)), s.ts


def backfill_footfall(
    conn: psycopg.Connection,
    town: Town,
    prefix: str,
    *,
    days: int,
    until: datetime,
    seed: int = 1,
    batch: int = 5000,
) -> int:
    """Write ``days`` of 15-minute counts and bin readings straight to the database, through
    the same decoder and writer as ingest (fast, and the history is validated exactly as live
    data would be).

    Returns the rows written; existing rows are left alone, so running it twice is harmless.
    """
    sink = Sink(conn, prefix, batch)
    for topic, body, received in _history(town, prefix, days, until, seed):
        sink.add(topic, body, received)
    sink.flush()
    refresh_rollups(conn, until - timedelta(days=days + 1), until)
    return sum(sink.result.written.values())


def register_town(
    conn: psycopg.Connection, town: Town, prefix: str, *, history_days: int = 0, seed: int = 1
) -> int:
    """Register the town's devices and, if its counters have no history yet, backfill
    ``history_days`` of footfall. Returns the history rows written (0 when there was some)."""
    import_devices(conn, town.devices())
    if not history_days:
        return 0
    has_history = conn.execute(
        "SELECT 1 FROM footfall_count WHERE council = %s LIMIT 1", (town.council,)
    ).fetchone()
    if has_history:
        return 0
    rows = backfill_footfall(
        conn, town, prefix, days=history_days, until=datetime.now(UTC), seed=seed
    )
    log.info("backfilled %d days of footfall history (%d rows)", history_days, rows)
    return rows
