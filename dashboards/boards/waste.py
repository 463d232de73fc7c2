"""Waste: how full every bin is, which must be emptied today, and the routes planned."""

from dashboards.model import COUNCIL, Board, Panel, geomap

FILL_BY_BIN = """
SELECT d.device_id, d.lat AS latitude, d.lon AS longitude, l.fill_pct, l.ts AS reading_at,
       coalesce(d.address, '') AS address
FROM device d
LEFT JOIN LATERAL (
    SELECT b.fill_pct, b.ts FROM bin_fill b
    WHERE b.device_id = d.device_id ORDER BY b.ts DESC LIMIT 1
) l ON true
WHERE d.council = ${council:sqlstring} AND d.kind = 'bin'
ORDER BY d.device_id
"""

# "Must" is the planner's word for a bin predicted to pass the collection threshold before the
# next chance to empty it; left_out holds those that did not fit the fleet or the shift.
TODAY_MUST = """
WITH todays AS (
    SELECT p.plan FROM collection_plan p JOIN council c ON c.slug = p.council
    WHERE p.council = ${council:sqlstring}
      AND p.shift_date = (now() AT TIME ZONE c.timezone)::date
    ORDER BY p.created_at DESC, p.plan_id DESC
    LIMIT 1
),
bins AS (
    SELECT s.stop, (r.route ->> 'vehicle')::int AS vehicle
    FROM todays t, jsonb_array_elements(t.plan -> 'routes') r(route),
         jsonb_array_elements(r.route -> 'stops') s(stop)
    UNION ALL
    SELECT s.stop, NULL FROM todays t, jsonb_array_elements(t.plan -> 'left_out') s(stop)
)
SELECT stop ->> 'device_id' AS device_id,
       coalesce(stop ->> 'street', '') AS street,
       coalesce(stop ->> 'zone', '') AS zone,
       (stop ->> 'fill_now_pct')::float8 AS fill_now_pct,
       (stop ->> 'predicted_fill_pct')::float8 AS predicted_fill_pct,
       vehicle,
       stop ->> 'reason' AS reason
FROM bins
WHERE stop ->> 'decision' = 'must'
ORDER BY predicted_fill_pct DESC NULLS LAST, device_id
"""

# Panel SQL for Grafana, composed only of the constants above.
TODAY_MUST_COUNT = (
    "SELECT count(*) AS bins FROM (" + TODAY_MUST + ") must\n"  # noqa: S608
)

# A shift may be planned more than once; the latest plan made for it is the one crews got.
ROUTES = """
WITH latest AS (
    SELECT DISTINCT ON (shift_date) shift_date, plan
    FROM collection_plan
    WHERE council = ${council:sqlstring} AND $__timeFilter(shift_date::timestamptz)
    ORDER BY shift_date, created_at DESC, plan_id DESC
)
SELECT l.shift_date::timestamptz AS shift,
       (r.route ->> 'vehicle')::int AS vehicle,
       jsonb_array_length(r.route -> 'stops') AS bins,
       round((r.route ->> 'distance_m')::numeric / 1000, 1)::float8 AS km,
       round((r.route ->> 'duration_s')::numeric / 3600, 2)::float8 AS hours,
       (r.route ->> 'load_litres')::float8 AS litres
FROM latest l, jsonb_array_elements(l.plan -> 'routes') r(route)
ORDER BY l.shift_date DESC, vehicle
"""

KM_PER_DAY = """
WITH latest AS (
    SELECT DISTINCT ON (shift_date) shift_date, plan
    FROM collection_plan
    WHERE council = ${council:sqlstring} AND $__timeFilter(shift_date::timestamptz)
    ORDER BY shift_date, created_at DESC, plan_id DESC
)
SELECT shift_date::timestamptz AS time, 'planned km' AS metric,
       (SELECT coalesce(sum((r ->> 'distance_m')::float8), 0)
        FROM jsonb_array_elements(plan -> 'routes') r) / 1000 AS value
FROM latest
UNION ALL
SELECT shift_date::timestamptz, 'km to empty every bin',
       (plan -> 'saving' ->> 'all_bins_distance_m')::float8 / 1000
FROM latest WHERE plan -> 'saving' IS NOT NULL AND plan -> 'saving' <> 'null'::jsonb
ORDER BY 1, 2
"""

BIN_LAYER = {
    "type": "markers",
    "name": "Bins",
    "config": {
        "showLegend": True,
        "style": {"size": {"fixed": 7}, "color": {"field": "fill_pct", "fixed": "dark-green"}},
    },
}

WASTE = Board(
    uid="smartstreets-waste",
    title="smartstreets · Waste",
    slug="waste",
    description="Bin fill levels on a map, bins predicted full today, and collection routes.",
    variables=(COUNCIL,),
    time_from="now-14d",
    time_to="now+1d",
    panels=(
        Panel(
            title="Fill level by bin",
            kind="geomap",
            sql=FILL_BY_BIN,
            columns=("device_id", "latitude", "longitude", "fill_pct", "reading_at", "address"),
            width=16,
            height=14,
            unit="percent",
            options=geomap(BIN_LAYER),
            field_config={
                "min": 0,
                "max": 100,
                "color": {"mode": "continuous-GrYlRd"},
            },
        ),
        Panel(
            title="Bins predicted full today",
            kind="stat",
            sql=TODAY_MUST_COUNT,
            columns=("bins",),
            width=8,
            height=14,
            description="Bins in today's latest plan that would pass the threshold if left.",
        ),
        Panel(
            title="Bins to empty today",
            kind="table",
            sql=TODAY_MUST,
            columns=(
                "device_id",
                "street",
                "zone",
                "fill_now_pct",
                "predicted_fill_pct",
                "vehicle",
                "reason",
            ),
            width=24,
            description="No vehicle: the bin should be emptied but did not fit the fleet or shift.",
        ),
        Panel(
            title="Routes",
            kind="table",
            sql=ROUTES,
            columns=("shift", "vehicle", "bins", "km", "hours", "litres"),
        ),
        Panel(
            title="Kilometres per shift",
            kind="timeseries",
            sql=KM_PER_DAY,
            columns=("time", "metric", "value"),
            fmt="time_series",
            unit="lengthkm",
        ),
    ),
)
