"""The index page: each council's zones and how busy they are now, with links for developers.

Plain HTML that works on a phone, no JavaScript or CDN needed; it refreshes every two minutes.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from analytics.forecasting.levels import zone_level
from api.pages.busy import counts_note, level_badge
from api.pages.layout import BASE_STYLE, page_top

Row = Mapping[str, Any]


def _council_section(council: Row, zones: Sequence[Row]) -> str:
    slug = escape(council["slug"])
    items = []
    for row in zones:
        level, reason = zone_level(row)
        items.append(
            f"<li><strong>{escape(row['zone'])}</strong> {level_badge(level)}<br>"
            f"{escape(reason)} <small>{counts_note(row)}</small></li>"
        )
    listed = "".join(items) or "<li>No people counters registered yet.</li>"
    return (
        f"<h2>{escape(council['name'])}</h2>"
        f"<p>{council['bins']} bins and {council['counters']} people counters.</p>"
        f'<ul class="zones">{listed}</ul>'
        f'<p><a href="/councils/{slug}">Today and tomorrow, zone by zone</a> · '
        f'data: <a href="/v1/councils/{slug}/zones/now">how busy now (JSON)</a></p>'
    )


def index_page(councils: Iterable[tuple[Row, Sequence[Row]]], now: datetime) -> str:
    """The index as one HTML document: each council (a ``councils`` row) with its
    ``zone_counts_now`` rows, as of ``now`` (UTC)."""
    sections = [_council_section(council, zones) for council, zones in councils]
    body = "".join(sections) or "<p>No councils registered yet.</p>"
    return (
        page_top("smartstreets", BASE_STYLE, refresh_s=120)
        + "<header><h1>smartstreets: how busy is the town centre?</h1></header>"
        f"<main>{body}</main>"
        '<footer><a href="/open-data/catalog.json">open data</a> · <a href="/crew">crews</a> · '
        '<a href="/highways">highways</a> · <a href="/docs">API documentation</a> · '
        '<a href="/health">health</a> · '
        f"updated {now:%H:%M} UTC</footer></body></html>"
    )
