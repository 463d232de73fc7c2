"""Named SQL queries of the residents' "how busy" answers beyond the level now: each zone's
busy hour (for how crowded it is in its own terms) and its forecast hours with what is usual
(for the best time to visit). Kept apart from ``api.queries`` so that each stays one concept."""

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from api.queries import MAX_PERIOD_H, PAST_WEEKS, all_rows


def zone_peaks(
    conn: psycopg.Connection, council: str, now: datetime, stale_after_min: int, quantile: float
) -> dict[str, dict[str, Any]]:
    """Per zone, from the counters reporting now (as ``zone_counts_now`` counts them): the
    ``quantile`` of the zone's complete hourly counts over the last four weeks (``peak_count``,
    its busy hour) and how many hours had counts (``history_hours``).

    Read from the raw counts by (device, ``period_start``), indexed on every storage, in the
    rollups' own hourly buckets: one four-week range per counter whatever the backend (about
    0.1 s for 40 counters reporting every 15 minutes on plain PostgreSQL), where a rollup view
    would aggregate the whole history there. Hours with no reading are left out, not zero.
    """
    hour, longest = timedelta(hours=1), timedelta(hours=1 + MAX_PERIOD_H)
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    rows = all_rows(
        conn,
        """
        WITH counters AS (
            SELECT zone, device_id FROM device
            WHERE council = %(council)s AND kind = 'counter'
        ),
        reporting AS (
            SELECT DISTINCT f.device_id
            FROM footfall_count f JOIN counters c USING (device_id)
            WHERE f.council = %(council)s
              AND f.period_end > %(reporting_since)s AND f.period_end <= %(now)s
              AND f.period_start > %(longest_ago)s AND f.period_start < %(now)s
        ),
        device_hours AS (
            SELECT r.device_id, h.bucket, h.count
            FROM reporting r
            CROSS JOIN LATERAL (
                SELECT date_bin(INTERVAL '1 hour', f.period_start,
                                TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
                       sum(f.count) AS count
                FROM footfall_count f
                WHERE f.device_id = r.device_id AND f.council = %(council)s
                  AND f.period_start >= %(since)s AND f.period_start < %(until)s
                GROUP BY 1
            ) h
        ),
        hours AS (
            SELECT c.zone, d.bucket, sum(d.count) AS count
            FROM device_hours d JOIN counters c USING (device_id)
            GROUP BY 1, 2
        )
        SELECT zone,
               percentile_cont(%(quantile)s) WITHIN GROUP (ORDER BY count)::float8 AS peak_count,
               count(*)::int AS history_hours
        FROM hours
        GROUP BY zone
        """,
        {
            "council": council,
            "now": now,
            "reporting_since": max(now - hour, now - timedelta(minutes=stale_after_min)),
            "longest_ago": now - longest,
            "since": this_hour - timedelta(weeks=len(PAST_WEEKS)),
            "until": this_hour,
            "quantile": quantile,
        },
    )
    return {r["zone"]: r for r in rows}


def local_days(local: datetime, days: int = 2) -> tuple[datetime, int]:
    """The UTC start and the number of hours of ``days`` local days from the local midnight of
    ``local`` (an aware time in the council's zone): a day with a clock change has 23 or 25."""
    midnight = datetime(local.year, local.month, local.day, tzinfo=local.tzinfo)
    # Wall-clock days, stepped in UTC, so clock changes stay exact.
    start = midnight.astimezone(UTC)
    end = (midnight + timedelta(days=days)).astimezone(UTC)
    return start, int((end - start).total_seconds() // 3600)


def zone_visit_hours(
    conn: psycopg.Connection, council: str, start: datetime, hours: int, now: datetime
) -> list[dict[str, Any]]:
    """Per zone and hour from ``start``, as of ``now``: the stored forecast, its 80% band and
    the usual count (the forecast's own, else the mean of the same hour over the four weeks
    before), the figures of ``zone_day_hours`` without the counted hours, for the best time to
    visit.

    The weeks before are read from the raw counts over those hours alone (by the indexed
    ``period_start``, in the rollups' buckets, complete hours only), not from a rollup over
    four weeks: a few milliseconds where ``zone_day_hours`` takes most of a second.
    """
    end = start + timedelta(hours=hours)
    counted_until = now.replace(minute=0, second=0, microsecond=0)
    weeks = [timedelta(weeks=w) for w in PAST_WEEKS]
    froms = [start - back for back in weeks]
    tos = [min(end - back, counted_until) for back in weeks]
    return all_rows(
        conn,
        """
        WITH zones AS (
            SELECT DISTINCT zone FROM device
            WHERE council = %(council)s AND kind = 'counter' AND zone IS NOT NULL
        ),
        past AS (
            SELECT f.zone, w.back,
                   date_bin(INTERVAL '1 hour', f.period_start,
                            TIMESTAMPTZ '2000-01-01 00:00:00+00') + w.back AS ts,
                   sum(f.count) AS count
            FROM unnest(%(backs)s::interval[], %(froms)s::timestamptz[],
                        %(tos)s::timestamptz[]) AS w(back, since, until)
            JOIN footfall_count f
              ON f.council = %(council)s
             AND f.period_start >= w.since AND f.period_start < w.until
             -- The weeks' span as constants too: without them the planner reads every row
             -- of the council (a year of it: 0.2 s), with them the index reads four weeks.
             AND f.period_start >= %(oldest)s AND f.period_start < %(newest)s
            GROUP BY 1, 2, 3
        ),
        usual AS (
            SELECT zone, ts, avg(count)::float8 AS usual FROM past GROUP BY zone, ts
        )
        SELECT z.zone, g.ts, f.forecast, f.lo80, f.hi80, coalesce(f.usual, u.usual) AS usual
        FROM zones z
        CROSS JOIN generate_series(%(start)s::timestamptz,
                                   %(start)s::timestamptz + make_interval(hours => %(n)s - 1),
                                   INTERVAL '1 hour') AS g(ts)
        LEFT JOIN footfall_forecast f
          ON f.council = %(council)s AND f.series = 'zone:' || z.zone AND f.ts = g.ts
        LEFT JOIN usual u ON u.zone = z.zone AND u.ts = g.ts
        ORDER BY z.zone, g.ts
        """,
        {
            "council": council,
            "start": start,
            "n": hours,
            "backs": weeks,
            "froms": froms,
            "tos": tos,
            "oldest": min(froms),
            "newest": max(tos),
        },
    )
