"""The residents' page: each zone's level now in words, and a chart of today and tomorrow.

Plain HTML and server-drawn SVG: readable on a phone and by screen readers, no script and no
CDN; it refreshes itself every five minutes.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from analytics.forecasting.levels import sentence, zone_level
from api.charts import HourPoint, chart_table, day_chart
from api.deps import Conn, Settings, known_council
from api.queries import zone_counts_now, zone_day_hours
from ingest.db.councils import council_name, council_timezone

router = APIRouter(tags=["pages"], include_in_schema=False)

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;
line-height:1.5;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin:0 0 .25rem}
.zone{border:1px solid #bbb;border-radius:.5rem;padding:.75rem;margin:1rem 0}
.level{font-weight:700;padding:.1rem .5rem;border-radius:.3rem;border:1px solid #555}
.quiet{background:#d8efff}.usual{background:#e5f5e0}.busy{background:#ffe9b3}
.very-busy{background:#ffc9c2}.unknown{background:#eee}
.say{font-size:1.15rem;margin:.4rem 0}.small{font-size:.9rem;color:#444}
svg.chart{width:100%;height:auto;display:block;margin:.5rem 0}
svg.chart text{fill:#333}
table{border-collapse:collapse;font-size:.9rem}th,td{padding:.2rem .5rem;text-align:right}
thead th{border-bottom:1px solid #888}
a{color:#0645ad}.skip{position:absolute;left:-999px}.skip:focus{left:1rem}
footer{margin-top:2rem;font-size:.9rem;color:#444}
"""


def _points(rows: list[dict[str, Any]], tz: ZoneInfo) -> dict[str, list[HourPoint]]:
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


@router.get("/councils/{council}", response_class=HTMLResponse)
def busy_page(
    council: Annotated[str, Depends(known_council)], conn: Conn, settings: Settings
) -> HTMLResponse:
    """How busy each zone of the council is now, and a chart of today and tomorrow."""
    now = datetime.now(UTC)
    tz = ZoneInfo(council_timezone(conn, council))
    local = now.astimezone(tz)
    midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
    # 48 wall-clock hours from local midnight, stepped in UTC so clock changes stay exact.
    start = midnight.astimezone(UTC)
    hours = int(((midnight + timedelta(days=2)).astimezone(UTC) - start).total_seconds() // 3600)
    charts = _points(zone_day_hours(conn, council, start, hours), tz)
    name = council_name(conn, council)
    cards = []
    for row in zone_counts_now(conn, council, now, settings.stale_after_min):
        level, reason = zone_level(row)
        zone = row["zone"]
        points = charts.get(zone, [])
        count = row["count_last_hour"]
        counted = f"{count:,} people in the last hour" if count is not None else "no count"
        cards.append(
            f'<section class="zone" aria-labelledby="z-{escape(zone)}">'
            f'<h2 id="z-{escape(zone)}">{escape(zone)} '
            f'<span class="level {level.replace(" ", "-")}">{escape(level)}</span></h2>'
            f'<p class="say">{escape(sentence(level, local))}</p>'
            f'<p class="small">{escape(reason)} ({counted}; {row["counters_reporting"]} of '
            f"{row['counters_total']} counters reporting)</p>"
            f"{day_chart(zone, points, local)}"
            f"<details><summary>The figures behind the chart</summary>"
            f"{chart_table(points)}</details></section>"
        )
    body = "".join(cards) or "<p>No people counters registered yet.</p>"
    slug = escape(council)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="refresh" content="300">'
        f"<title>How busy is {escape(name)}? smartstreets</title><style>{STYLE}</style></head>"
        '<body><a class="skip" href="#main">Skip to the zones</a>'
        f"<header><h1>How busy is {escape(name)} town centre?</h1>"
        f"<p>Now, compared with what is usual for a {local:%A} at this time, and the next two "
        "days.</p></header>"
        f'<main id="main">{body}</main>'
        f'<footer>Data: <a href="/v1/councils/{slug}/zones/now">now (JSON)</a> · '
        f'<a href="/v1/councils/{slug}/zones/forecast">forecast (JSON)</a> · '
        f"updated {local:%H:%M} · refreshes every 5 minutes</footer></body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "public, max-age=60"})
