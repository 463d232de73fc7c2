"""Operations: is data arriving, how late, what is refused, and which devices need a visit."""

from analytics.alerts.rules import AlertParams
from dashboards.model import COUNCIL, Board, Panel

_SILENT_H, _BATTERY_V = AlertParams().silent_after_h, AlertParams().battery_low_v

# Readings are found by their own timestamp (indexed, and the hypertables' partitioning column)
# within a day of the range, then counted by when ingest stored them.
INGEST_RATE = """
SELECT date_bin(make_interval(secs => $__interval_ms / 1000.0), received_at,
                TIMESTAMPTZ '2000-01-01 00:00:00+00') AS time,
       stream AS metric,
       count(*) * 60000.0 / $__interval_ms AS value
FROM (
    SELECT 'bin_fill' AS stream, received_at FROM bin_fill
    WHERE council = ${council:sqlstring} AND ts > $__timeFrom()::timestamptz - INTERVAL '1 day'
      AND $__timeFilter(received_at)
    UNION ALL
    SELECT 'footfall_count', received_at FROM footfall_count
    WHERE council = ${council:sqlstring}
      AND period_start > $__timeFrom()::timestamptz - INTERVAL '1 day'
      AND $__timeFilter(received_at)
    UNION ALL
    SELECT 'bump_report', received_at FROM bump_report
    WHERE council = ${council:sqlstring} AND ts > $__timeFrom()::timestamptz - INTERVAL '1 day'
      AND $__timeFilter(received_at)
) m
GROUP BY 1, 2
ORDER BY 1, 2
"""

INGEST_LAG = """
SELECT date_bin(make_interval(secs => $__interval_ms / 1000.0), received_at,
                TIMESTAMPTZ '2000-01-01 00:00:00+00') AS time,
       stream || ' p95' AS metric,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY lag_s) AS value
FROM (
    SELECT 'bin_fill' AS stream, received_at, extract(epoch FROM received_at - ts) AS lag_s
    FROM bin_fill WHERE council = ${council:sqlstring} AND $__timeFilter(ts)
    UNION ALL
    SELECT 'footfall_count', received_at, extract(epoch FROM received_at - period_end)
    FROM footfall_count WHERE council = ${council:sqlstring} AND $__timeFilter(period_start)
    UNION ALL
    SELECT 'bump_report', received_at, extract(epoch FROM received_at - ts)
    FROM bump_report WHERE council = ${council:sqlstring} AND $__timeFilter(ts)
) m
GROUP BY 1, 2
ORDER BY 1, 2
"""

# The reason's first clause ("invalid JSON", "out of range", "topic does not parse", or the
# field pydantic refused) groups messages that failed the same way; messages whose topic named
# no council belong to every council's view.
QUARANTINE_BY_REASON = """
SELECT split_part(reason, ':', 1) AS reason,
       sum(copies)::bigint AS messages
FROM quarantine
WHERE (council = ${council:sqlstring} OR council IS NULL) AND $__timeFilter(last_received_at)
GROUP BY 1
ORDER BY messages DESC, reason
"""

QUARANTINE_LATEST = """
SELECT last_received_at AS time, coalesce(stream, '') AS stream,
       coalesce(device_id, '') AS device_id, reason, copies, topic
FROM quarantine
WHERE (council = ${council:sqlstring} OR council IS NULL) AND $__timeFilter(last_received_at)
ORDER BY last_received_at DESC
LIMIT 100
"""

# Bins report every 30 minutes and counters every 15: two hours of silence is four missed bin
# readings. A device never heard from is silent too.
SILENT = """
SELECT d.device_id, d.kind, coalesce(d.zone, '') AS zone, s.last_seen,
       extract(epoch FROM now() - s.last_seen) AS silent_s
FROM device d
CROSS JOIN LATERAL (
    SELECT CASE d.kind
        WHEN 'bin' THEN (SELECT max(b.ts) FROM bin_fill b WHERE b.device_id = d.device_id)
        ELSE (SELECT f.period_end FROM footfall_count f WHERE f.device_id = d.device_id
              ORDER BY f.period_start DESC LIMIT 1)
    END AS last_seen
) s
WHERE d.council = ${council:sqlstring}
  AND (s.last_seen IS NULL OR s.last_seen < now() - INTERVAL '%(silent_h)s hours')
ORDER BY s.last_seen NULLS FIRST, d.device_id
""".replace("%(silent_h)s", f"{_SILENT_H:g}")

# Panel SQL for Grafana, composed only of the constants above.
SILENT_COUNT = (
    "SELECT count(*) AS silent FROM (" + SILENT + ") silent_devices\n"  # noqa: S608
)

# The thresholds are the alerts' defaults, so a panel and an alert never disagree.
BATTERY_LOW = """
SELECT d.device_id, coalesce(d.address, '') AS address, l.battery_v, l.ts AS reading_at
FROM device d
CROSS JOIN LATERAL (
    SELECT b.battery_v, b.ts FROM bin_fill b
    WHERE b.device_id = d.device_id ORDER BY b.ts DESC LIMIT 1
) l
WHERE d.council = ${council:sqlstring} AND d.kind = 'bin' AND l.battery_v < %(battery_v)s
ORDER BY l.battery_v, d.device_id
""".replace("%(battery_v)s", f"{_BATTERY_V:g}")

OPERATIONS = Board(
    uid="smartstreets-operations",
    title="smartstreets · Operations",
    slug="operations",
    description="Ingest rate and lag, quarantined messages, silent devices and low batteries.",
    variables=(COUNCIL,),
    time_from="now-24h",
    panels=(
        Panel(
            title="Ingest rate (readings per minute)",
            kind="timeseries",
            sql=INGEST_RATE,
            columns=("time", "metric", "value"),
            fmt="time_series",
            unit="short",
        ),
        Panel(
            title="Ingest lag, 95th percentile",
            kind="timeseries",
            sql=INGEST_LAG,
            columns=("time", "metric", "value"),
            fmt="time_series",
            unit="s",
            description="Seconds between a reading's own time and ingest storing it.",
        ),
        Panel(
            title="Quarantined messages by reason",
            kind="barchart",
            sql=QUARANTINE_BY_REASON,
            columns=("reason", "messages"),
            options={"orientation": "horizontal", "xField": "reason"},
        ),
        Panel(
            title="Latest quarantined messages",
            kind="table",
            sql=QUARANTINE_LATEST,
            columns=("time", "stream", "device_id", "reason", "copies", "topic"),
        ),
        Panel(
            title=f"Devices silent for {_SILENT_H:g} hours",
            kind="stat",
            sql=SILENT_COUNT,
            columns=("silent",),
            width=6,
            field_config={
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}],
                }
            },
        ),
        Panel(
            title="Silent devices",
            kind="table",
            sql=SILENT,
            columns=("device_id", "kind", "zone", "last_seen", "silent_s"),
            width=18,
            unit="s",
        ),
        Panel(
            title=f"Bins with a low battery (below {_BATTERY_V:g} V)",
            kind="table",
            sql=BATTERY_LOW,
            columns=("device_id", "address", "battery_v", "reading_at"),
            width=24,
        ),
    ),
)
