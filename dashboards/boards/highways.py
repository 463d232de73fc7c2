"""Highways: potholes on a map, confirmations over time, a heatmap of jolts and each road
segment's estimated roughness (IRI)."""

from analytics.potholes.heatmap import MIN_PHONES
from dashboards.model import COUNCIL, Board, Panel, geomap

OPEN_POTHOLES = """
SELECT pothole_id, lat AS latitude, lon AS longitude, state, severity, confidence,
       reports, devices, last_seen
FROM pothole
WHERE council = ${council:sqlstring} AND state IN ('candidate', 'confirmed', 'reported', 'reopened')
ORDER BY pothole_id
"""

# From the potholes' state history (migration 0010), so a pothole confirmed on Monday and
# repaired on Friday counts on both days.
STATE_CHANGES = """
SELECT date_trunc('day', changed_at) AS time, state AS metric, count(*)::float8 AS value
FROM pothole_state_change
WHERE council = ${council:sqlstring} AND $__timeFilter(changed_at)
  AND state IN ('confirmed', 'reported', 'repaired', 'reopened')
GROUP BY 1, 2
ORDER BY 1, 2
"""

# Cells of 0.001° (about 110 m by 70 m in Britain); as the API's heatmap, a cell is shown only
# when at least three different phones reported in it, so no cell traces one phone's trips.
# Phone pseudonyms of different salt periods may be one phone, so phones are counted within a
# period (the part of the pseudonym before its dash) and the largest count is taken.
ROUGHNESS = """
WITH per_period AS (
    SELECT round(lat::numeric, 3)::float8 AS latitude, round(lon::numeric, 3)::float8 AS longitude,
           CASE WHEN device_id ~ '^p[0-9]+-' THEN split_part(device_id, '-', 1) END AS period,
           sum(peak_z_g) AS jolts, count(*) AS reports, count(DISTINCT device_id) AS phones
    FROM bump_report
    WHERE council = ${council:sqlstring} AND $__timeFilter(ts)
    GROUP BY 1, 2, 3
)
SELECT latitude, longitude, (sum(jolts) / sum(reports))::float8 AS roughness_g,
       sum(reports)::bigint AS reports, max(phones) AS phones
FROM per_period
GROUP BY 1, 2
HAVING max(phones) >= %(min_phones)s
ORDER BY 1, 2
""".replace("%(min_phones)s", str(MIN_PHONES))

# Each road segment's median estimated IRI as of the last coverage refresh, at the segment's
# middle point; like the API, only segments that three or more phones measured.
SEGMENT_IRI = """
SELECT s.lats[(cardinality(s.lats) + 1) / 2] AS latitude,
       s.lons[(cardinality(s.lons) + 1) / 2] AS longitude,
       c.iri_m_per_km::float8 AS iri_m_per_km, s.name, s.segment_id, c.iri_phones AS phones
FROM road_segment s JOIN road_coverage c USING (council, segment_id)
WHERE s.council = ${council:sqlstring} AND c.iri_m_per_km IS NOT NULL
  AND c.iri_phones >= %(min_phones)s
ORDER BY s.segment_id
""".replace("%(min_phones)s", str(MIN_PHONES))

REPORTS_PER_DAY = """
SELECT date_trunc('day', ts) AS time, 'bump reports' AS metric, count(*)::float8 AS value
FROM bump_report
WHERE council = ${council:sqlstring} AND $__timeFilter(ts)
GROUP BY 1
ORDER BY 1
"""


POTHOLE_LAYER = {
    "type": "markers",
    "name": "Potholes",
    "config": {
        "showLegend": True,
        "style": {"size": {"fixed": 7}, "color": {"field": "severity", "fixed": "orange"}},
    },
}
HEAT_LAYER = {
    "type": "heatmap",
    "name": "Roughness",
    "config": {
        "blur": 15,
        "radius": 6,
        "weight": {"field": "roughness_g", "fixed": 1, "min": 0, "max": 1},
    },
}

IRI_LAYER = {
    "type": "markers",
    "name": "IRI",
    "config": {
        "showLegend": True,
        "style": {"size": {"fixed": 6}, "color": {"field": "iri_m_per_km", "fixed": "green"}},
    },
}

HIGHWAYS = Board(
    uid="smartstreets-highways",
    title="smartstreets · Highways",
    slug="highways",
    description="Open potholes, confirmations over time and road roughness from phones.",
    variables=(COUNCIL,),
    time_from="now-30d",
    panels=(
        Panel(
            title="Open potholes",
            kind="geomap",
            sql=OPEN_POTHOLES,
            columns=(
                "pothole_id",
                "latitude",
                "longitude",
                "state",
                "severity",
                "confidence",
                "reports",
                "devices",
                "last_seen",
            ),
            height=14,
            options=geomap(POTHOLE_LAYER),
            field_config={"color": {"mode": "continuous-YlRd"}},
        ),
        Panel(
            title="Road roughness (mean jolt, g)",
            kind="geomap",
            sql=ROUGHNESS,
            columns=("latitude", "longitude", "roughness_g", "reports", "phones"),
            height=14,
            options=geomap(HEAT_LAYER),
            description="Cells with reports from fewer than three phones are left out.",
        ),
        Panel(
            title="Road roughness per segment (IRI, m/km)",
            kind="geomap",
            sql=SEGMENT_IRI,
            columns=("latitude", "longitude", "iri_m_per_km", "name", "segment_id", "phones"),
            height=14,
            options=geomap(IRI_LAYER),
            field_config={
                "color": {"mode": "thresholds"},
                "thresholds": {
                    "mode": "absolute",
                    "steps": [
                        {"color": "green", "value": None},
                        {"color": "yellow", "value": 2},
                        {"color": "orange", "value": 4},
                        {"color": "purple", "value": 6},
                    ],
                },
            },
            description="Median estimated International Roughness Index of each road segment "
            "over the phones' 100 m stretches in 30 days (good < 2, fair 2-4, poor 4-6, very "
            "poor > 6); segments measured by fewer than three phones are left out.",
        ),
        Panel(
            title="Potholes by the day they entered their state",
            kind="timeseries",
            sql=STATE_CHANGES,
            columns=("time", "metric", "value"),
            fmt="time_series",
            options={"legend": {"displayMode": "list", "placement": "bottom"}},
            field_config={"custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}}},
        ),
        Panel(
            title="Bump reports per day",
            kind="timeseries",
            sql=REPORTS_PER_DAY,
            columns=("time", "metric", "value"),
            fmt="time_series",
            field_config={"custom": {"drawStyle": "bars"}},
        ),
    ),
)
