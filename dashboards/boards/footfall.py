"""Footfall: how busy each zone is now against usual, by the hour, and forecast against actual."""

from dashboards.model import COUNCIL, Board, Panel, Variable

ZONE = Variable(
    name="zone",
    label="Zone",
    sql="SELECT DISTINCT zone FROM device "
    "WHERE council = ${council:sqlstring} AND kind = 'counter' ORDER BY zone",
)

# As the public "how busy" page: the last hour against the same hour of the week over the
# previous four weeks, from the same counters, so a counter outage never looks like a quiet
# street.
NOW_VS_USUAL = """
WITH counters AS (
    SELECT zone, device_id FROM device
    WHERE council = ${council:sqlstring} AND kind = 'counter'
),
recent AS (
    SELECT f.device_id, sum(f.count) AS count, max(f.period_end) AS last_end
    FROM footfall_count f JOIN counters c USING (device_id)
    WHERE f.council = ${council:sqlstring}
      AND f.period_end > now() - INTERVAL '1 hour' AND f.period_end <= now()
    GROUP BY f.device_id
),
reporting AS (
    SELECT device_id, count FROM recent WHERE last_end > now() - INTERVAL '30 minutes'
),
past AS (
    SELECT c.zone, w.weeks, sum(f.count) AS count
    FROM generate_series(1, 4) AS w(weeks)
    JOIN footfall_count f
      ON f.period_end > now() - make_interval(weeks => w.weeks) - INTERVAL '1 hour'
     AND f.period_end <= now() - make_interval(weeks => w.weeks)
    JOIN counters c USING (device_id)
    WHERE f.council = ${council:sqlstring}
      AND f.device_id IN (SELECT device_id FROM reporting)
    GROUP BY c.zone, w.weeks
)
SELECT c.zone,
       sum(r.count)::float8 AS now,
       (SELECT avg(p.count)::float8 FROM past p WHERE p.zone = c.zone) AS usual
FROM counters c LEFT JOIN reporting r USING (device_id)
GROUP BY c.zone
ORDER BY c.zone
"""

HOURLY_BY_ZONE = """
SELECT bucket AS time, zone AS metric, count::float8 AS value
FROM footfall_hourly_zone
WHERE council = ${council:sqlstring} AND $__timeFilter(bucket)
ORDER BY 1, 2
"""

FORECAST_VS_ACTUAL = """
SELECT bucket AS time, 'actual' AS metric, count::float8 AS value
FROM footfall_hourly_zone
WHERE council = ${council:sqlstring} AND zone = ${zone:sqlstring} AND $__timeFilter(bucket)
UNION ALL
SELECT f.ts, m.metric, m.value
FROM footfall_forecast f
CROSS JOIN LATERAL (VALUES ('forecast', f.forecast::float8), ('low (80%)', f.lo80::float8),
                           ('high (80%)', f.hi80::float8), ('usual', f.usual::float8))
    AS m(metric, value)
WHERE f.council = ${council:sqlstring} AND f.series = 'zone:' || ${zone:sqlstring}
  AND $__timeFilter(f.ts) AND m.value IS NOT NULL
ORDER BY 1, 2
"""

FORECAST_TABLE = """
SELECT substr(series, 6) AS zone, ts AS time, round(forecast)::float8 AS forecast,
       round(lo80)::float8 AS lo80, round(hi80)::float8 AS hi80, made_at
FROM footfall_forecast
WHERE council = ${council:sqlstring} AND series LIKE 'zone:%'
  AND ts >= date_trunc('hour', now()) AND ts < date_trunc('hour', now()) + INTERVAL '12 hours'
ORDER BY zone, ts
"""

FOOTFALL = Board(
    uid="smartstreets-footfall",
    title="smartstreets · Footfall",
    slug="footfall",
    description="People counted per zone: now against usual, by the hour, and the forecasts.",
    variables=(COUNCIL, ZONE),
    time_from="now-3d",
    time_to="now+1d",
    panels=(
        Panel(
            title="Last hour against usual, per zone",
            kind="barchart",
            sql=NOW_VS_USUAL,
            columns=("zone", "now", "usual"),
            description="Usual: the same hour of the week over the previous four weeks.",
            options={"xField": "zone", "orientation": "auto"},
        ),
        Panel(
            title="People per hour, per zone",
            kind="timeseries",
            sql=HOURLY_BY_ZONE,
            columns=("time", "metric", "value"),
            fmt="time_series",
        ),
        Panel(
            title="Forecast against actual: $zone",
            kind="timeseries",
            sql=FORECAST_VS_ACTUAL,
            columns=("time", "metric", "value"),
            fmt="time_series",
            width=24,
            height=10,
        ),
        Panel(
            title="Forecast, next 12 hours",
            kind="table",
            sql=FORECAST_TABLE,
            columns=("zone", "time", "forecast", "lo80", "hi80", "made_at"),
            width=24,
        ),
    ),
)
