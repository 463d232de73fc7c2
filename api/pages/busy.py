"""The residents' page of a council: each zone's level now in words (against usual, and against
the zone's own busy hours), the best time to visit today, and a chart of today and tomorrow.

Plain HTML and server-drawn SVG: readable on a phone and by screen readers, no CDN; its figures
refresh in place every five minutes (``/page-refresh.js``, not a meta refresh).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from analytics.forecasting.levels import sentence, zone_crowding, zone_level
from analytics.forecasting.visit import best_time
from api.pages.charts import HourPoint, chart_table, day_chart
from api.pages.layout import page_top
from api.pages.maps import streets_credit
from api.pages.road_layer import Road
from api.pages.zone_map import ZoneArea, zone_map_svg

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;
line-height:1.5;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin:0 0 .25rem}
.zone{border:1px solid #bbb;border-radius:.5rem;padding:.75rem;margin:1rem 0}
.level{font-weight:700;padding:.1rem .5rem;border-radius:.3rem;border:1px solid #555}
.quiet{background:#d8efff}.usual{background:#e5f5e0}.busy{background:#ffe9b3}
.very-busy{background:#ffc9c2}.unknown{background:#eee}
.say{font-size:1.15rem;margin:.4rem 0}
.facts{margin:.4rem 0}.facts dt{font-weight:700}.facts dd{margin:0 0 .4rem 0}
.small{font-size:.9rem;color:#444}
svg.chart{width:100%;height:auto;display:block;margin:.5rem 0}
svg.chart text{fill:#333}
table{border-collapse:collapse;font-size:.9rem}th,td{padding:.2rem .5rem;text-align:right}
thead th{border-bottom:1px solid #888}
a{color:#0645ad}.skip{position:absolute;left:-999px}.skip:focus{left:1rem}
figure{margin:1rem 0}figcaption{font-size:.9rem;color:#444}
svg.zone-map{display:block;width:100%;max-width:30rem;height:auto;border:1px solid #6b7280;
background:#f1f3f5}.panel{fill:#fff;fill-opacity:.9;stroke:#6b7280}
.ink{fill:#111;font:600 11px sans-serif}.bar{fill:none;stroke:#111;stroke-width:2}
footer{margin-top:2rem;font-size:.9rem;color:#444}
"""

Row = Mapping[str, Any]


def level_badge(level: str) -> str:
    """A zone's level as a coloured badge (its class is the level, hyphenated)."""
    return f'<span class="level {level.replace(" ", "-")}">{escape(level)}</span>'


def counts_note(row: Row, *, grouped: bool = False) -> str:
    """``(N people in the last hour; R of T counters reporting)`` of a ``zone_counts_now`` row;
    ``grouped`` writes N with thousands separators."""
    count = row["count_last_hour"]
    counted = "no count"
    if count is not None:
        counted = (
            f"{count:,} people in the last hour" if grouped else f"{count} people in the last hour"
        )
    return f"({counted}; {row['counters_reporting']} of {row['counters_total']} counters reporting)"


def hour_points(rows: Iterable[Row], tz: ZoneInfo) -> dict[str, list[HourPoint]]:
    """The chart points of each zone from ``zone_day_hours`` rows, in local time."""
    by_zone: dict[str, list[HourPoint]] = defaultdict(list)
    for r in rows:
        by_zone[r["zone"]].append(
            HourPoint(
                start=r["ts"].astimezone(tz),
                actual=r["actual"],
                forecast=r["forecast"],
                lo80=r["lo80"],
                hi80=r["hi80"],
                usual=r["usual"],
            )
        )
    return by_zone


def facts(row: Row, points: Sequence[HourPoint], local: datetime) -> str:
    """How crowded the zone is in its own terms, and the best time to visit today, as a
    description list (``row`` carries the zone's ``zone_peaks`` figures)."""
    crowd = zone_crowding(row)
    visit = best_time(points, local)
    return (
        '<dl class="facts">'
        f"<dt>How crowded for this place</dt><dd>{escape(crowd.sentence)}</dd>"
        f"<dt>Best time to visit today</dt><dd>{escape(visit.sentence)}</dd></dl>"
    )


def _zone_card(row: Row, points: Sequence[HourPoint], local: datetime, title: str) -> str:
    level, reason = zone_level(row)
    zone = escape(row["zone"])
    return (
        f'<section class="zone" aria-labelledby="z-{zone}">'
        f'<h2 id="z-{zone}">{escape(title)} {level_badge(level)}</h2>'
        f'<p class="say">{escape(sentence(level, local))}</p>'
        f"{facts(row, points, local)}"
        f'<p class="small">{escape(reason)} {counts_note(row, grouped=True)}</p>'
        f"{day_chart(title, points, local)}"
        f"<details><summary>The figures behind the chart</summary>"
        f"{chart_table(points)}</details></section>"
    )


def _zones_figure(
    zones: Sequence[Row], areas: Sequence[ZoneArea], roads: Sequence[Road], credit: str | None
) -> str:
    """The map of the zones coloured by their level now, or nothing without zone shapes."""
    svg = zone_map_svg(areas, {row["zone"]: zone_level(row)[0] for row in zones}, roads)
    if not svg:
        return ""
    return (
        f"<figure>{svg}<figcaption>The zones, coloured by how busy they are now (each says "
        "its level); streets from the council&#8217;s road map. "
        f"{streets_credit(credit if roads else None)}</figcaption></figure>"
    )


def busy_page(
    name: str,
    slug: str,
    zones: Iterable[Row],
    charts: Mapping[str, Sequence[HourPoint]],
    local: datetime,
    areas: Sequence[ZoneArea] = (),
    roads: Sequence[Road] = (),
    roads_credit: str | None = None,
) -> str:
    """The page of council ``name`` (path ``slug``) as one HTML document.

    ``zones`` are its ``zone_counts_now`` rows (with the ``zone_peaks`` figures), ``charts``
    each zone's hours of today and tomorrow, and ``local`` now in the council's time zone;
    ``areas`` are its zones' shapes (``zone_areas``) and ``roads`` its roads around them
    (``zone_frame``), for the map.
    """
    zones = list(zones)
    titles = {a.zone: a.display_name for a in areas}
    cards = [
        _zone_card(row, charts.get(row["zone"], []), local, titles.get(row["zone"]) or row["zone"])
        for row in zones
    ]
    body = "".join(cards) or "<p>No people counters registered yet.</p>"
    body = _zones_figure(zones, areas, roads, roads_credit) + body
    slug = escape(slug)
    return (
        page_top(f"How busy is the town centre? {escape(name)}", STYLE, refresh_s=300)
        + '<a class="skip" href="#main">Skip to the zones</a>'
        f"<header><p>{escape(name)}</p><h1>How busy is the town centre?</h1>"
        f"<p>Now, compared with what is usual for a {local:%A} at this time and with each "
        "place&#8217;s own busy hours; the best time to go today; and the next two days.</p>"
        "</header>"
        f'<main id="main">{body}</main>'
        f'<footer>Data: <a href="/v1/councils/{slug}/zones/now">now (JSON)</a> · '
        f'<a href="/v1/councils/{slug}/zones/forecast">forecast (JSON)</a> · '
        f"updated {local:%H:%M} · refreshes every 5 minutes</footer></body></html>"
    )
