"""One vehicle's route as a printable page for a crew's phone.

The page needs no network: its map is an SVG drawn here, with map tiles beneath only when a tile
URL template is configured.
"""

import html
from collections.abc import Iterable, Sequence, Set
from datetime import datetime, tzinfo

from analytics.geo.bbox import BBox
from analytics.routing.export import route_of
from analytics.routing.fill_words import visit_words
from analytics.routing.schema import Plan, VehicleRoute
from api.pages.maps import (
    MAP_W,
    MapFrame,
    corner_boxes,
    fit_frame,
    scale_and_north,
    streets_credit,
    tile_credit,
    tile_images,
)
from api.pages.road_layer import Road, road_layer
from ingest.db.council_profile import CouncilProfile

_COLUMNS = ("Bin", "Street", "Zone", "Arrive", "Fill", "Reason")
_LEGEND = (
    "Numbered circles are stops in visiting order; D is the depot; green means collected; "
    "yellow roads are main roads."
)
_CSS = """
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fff;
margin:0 auto;max-width:960px;padding:12px}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1rem 0 .4rem}p{margin:.3rem 0}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(7rem,1fr));gap:6px;
margin:.5rem 0}.summary div{border:1px solid #6b7280;border-radius:6px;padding:4px 8px}
.summary dt{font-size:.8rem;color:#374151}.summary dd{margin:0;font-weight:700;font-size:1.15rem}
figure{margin:0}figcaption{font-size:.85rem;color:#374151}
svg.map{display:block;width:100%;height:auto;border:1px solid #6b7280;background:#eef2f5}
.path{fill:none;stroke:#1d4ed8;stroke-width:3;stroke-linejoin:round;stroke-linecap:round}
.path.approx{stroke-dasharray:6 5}.stop circle{fill:#1d4ed8;stroke:#fff;stroke-width:2}
.stop.done circle{fill:#15803d}.depot rect{fill:#111827;stroke:#fff;stroke-width:2}
.stop text,.depot text{fill:#fff;font:700 11px sans-serif;text-anchor:middle;
dominant-baseline:central}
.panel{fill:#fff;fill-opacity:.9;stroke:#6b7280}.ink{fill:#111;font:600 11px sans-serif}
.bar{fill:none;stroke:#111;stroke-width:2}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:8px 6px;border-bottom:1px solid #9ca3af}
thead th{background:#e5e7eb}tbody th{font-size:1.2rem}
tr.done td{text-decoration:line-through;color:#4b5563}
td:nth-child(2),td:nth-child(5){white-space:nowrap}
button{font:inherit;font-weight:700;min-height:44px;min-width:44px;padding:8px 14px;color:#fff;
background:#15803d;border:2px solid #14532d;border-radius:8px;cursor:pointer}
button:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.msg{display:block;font-size:.9rem}.msg.err{color:#b91c1c;font-weight:700}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media screen and (max-width:640px){thead{position:absolute;width:1px;height:1px;overflow:hidden;
clip:rect(0 0 0 0)}tbody tr{display:block;position:relative;padding:6px 0 8px 2.6rem;
border-bottom:2px solid #6b7280}tbody th{position:absolute;left:4px;top:6px;border:0;padding:0}
tbody td{display:block;border:0;padding:2px 4px}
tbody td:nth-child(4),tbody td:nth-child(5),tbody td:nth-child(6){display:inline-block}
td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:#374151}}
@page{size:A4;margin:12mm}
@media print{button,.msg,script{display:none!important}body{max-width:none;padding:0;font-size:10pt}
svg.map{max-height:150mm;width:auto;max-width:100%;margin:0 auto}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
thead{display:table-header-group}tr{page-break-inside:avoid;break-inside:avoid}}
"""
ROUTE_SCRIPT = """(function () {
  var KEY = "smartstreets.token", table = document.getElementById("stops");
  var base = table.getAttribute("data-action");
  function token() {
    var t = localStorage.getItem(KEY);
    if (!t) {
      t = window.prompt("Access token for recording collections (asked once):");
      if (t) { localStorage.setItem(KEY, t.trim()); }
    }
    return t ? t.trim() : null;
  }
  table.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-device]");
    if (!btn) { return; }
    var row = btn.closest("tr"), msg = row.querySelector(".msg"), t = token();
    msg.classList.toggle("err", !t);
    if (!t) { msg.textContent = "No access token: not recorded."; return; }
    btn.disabled = true; msg.textContent = "Saving\\u2026";
    fetch(base + "/" + encodeURIComponent(btn.getAttribute("data-device")) + "/collected", {
      method: "POST", headers: {"Authorization": /^Bearer /.test(t) ? t : "Bearer " + t}
    }).then(function (r) {
      if (r.status === 401 || r.status === 403) { localStorage.removeItem(KEY); }
      if (!r.ok) { throw new Error("server answered " + r.status); }
      row.classList.add("done"); btn.remove(); msg.textContent = "Collected \\u2713";
      var marker = document.getElementById("m-" + row.getAttribute("data-stop"));
      if (marker) { marker.classList.add("done"); }
    }).catch(function (e) {
      btn.disabled = false; msg.classList.add("err");
      msg.textContent = "Not recorded (" + e.message + "). Try again.";
    });
  });
})();"""
"""The route page's one script: the "Collected" buttons (allowed by hash in ``api.security``)."""


def _route_line(plan: Plan, route: VehicleRoute) -> list[tuple[float, float]]:
    """The driven path, or without one the stops joined straight from and to the depot."""
    if len(route.path) < 2:
        return [plan.depot, *((s.lat, s.lon) for s in route.stops), plan.depot]
    return list(route.path)


def _frame(plan: Plan, route: VehicleRoute, tiled: bool) -> MapFrame:
    stops = [(s.lat, s.lon) for s in route.stops]
    return fit_frame([*_route_line(plan, route), plan.depot, *stops], tiled)


def route_map_bbox(plan: Plan, vehicle: int, tile_url: str | None = None) -> BBox:
    """The area the map of ``vehicle``'s route shows: the roads to pass to :func:`route_page`."""
    return _frame(plan, route_of(plan, vehicle), tile_url is not None).bbox()


def _map_svg(
    plan: Plan,
    route: VehicleRoute,
    collected: Set[str],
    tile_url: str | None,
    roads: Sequence[Road] = (),
) -> str:
    approx = len(route.path) < 2  # no driven line: join the stops straight, drawn dashed
    line = _route_line(plan, route)
    frame = _frame(plan, route, tile_url is not None)
    # Roads go under the tiles: hidden where tiles load, the map's streets where they fail.
    drawn = road_layer(frame, roads, avoid=corner_boxes(frame))
    # Names go over the lines drawn here (they are what a reader looks for), under tiles.
    under, over = (drawn.labels, "") if tile_url else ("", drawn.labels)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (frame.xy(*p) for p in line))
    dx, dy = frame.xy(*plan.depot)
    markers = []
    for i, s in reversed(list(enumerate(route.stops, 1))):  # stop 1 ends up on top
        x, y = frame.xy(s.lat, s.lon)
        done = " done" if s.device_id in collected else ""
        tip = html.escape(f"{i}: {s.device_id}, {s.street or 'street unknown'}")
        markers.append(
            f'<g class="stop{done}" id="m-{i}"><title>{tip}</title><circle cx="{x:.1f}" '
            f'cy="{y:.1f}" r="11"/><text x="{x:.1f}" y="{y:.1f}">{i}</text></g>'
        )
    label = html.escape(
        f"Map of vehicle {route.vehicle}'s route: {len(route.stops)} numbered "
        "stops, starting and ending at the depot (D)."
    )
    return (
        f'<svg class="map" viewBox="0 0 {MAP_W:.0f} {frame.height:.0f}" role="img" '
        f'aria-label="{label}"><title>{label}</title>{drawn.lines}{under}'
        f"{tile_images(frame, tile_url) if tile_url else ''}"
        f'<polyline class="path{" approx" if approx else ""}" points="{points}"/>'
        f'{over}<g class="depot"><rect x="{dx - 10:.1f}" y="{dy - 10:.1f}" width="20" height="20"/>'
        f'<text x="{dx:.1f}" y="{dy:.1f}">D</text></g>{"".join(markers)}'
        f"{scale_and_north(frame)}</svg>"
    )


def _local(moment: datetime, zone: tzinfo | None) -> datetime:
    """The plan's local time; a naive moment is taken as already local."""
    return moment.astimezone(zone) if zone and moment.tzinfo else moment


def _clock(moment: datetime, zone: tzinfo | None) -> str:
    return f"{_local(moment, zone):%H:%M}"


def _rows(
    route: VehicleRoute,
    collected: Set[str],
    zone: tzinfo | None,
    act: bool,
    profile: CouncilProfile | None,
) -> str:
    rows = []
    for i, s in enumerate(route.stops, 1):
        done = s.device_id in collected
        fill = visit_words(
            s.fill_now_pct, s.fill_at_visit_pct, s.overflow_at, s.overflow_likely, s.arrival, zone
        )
        cells = (
            s.device_id,
            s.street or "—",
            (profile.zone_name(s.zone) if profile else s.zone) or "—",
            _clock(s.arrival, zone),
            fill,
            s.reason,
        )
        tds = "".join(
            f'<td data-label="{k}">{html.escape(v)}</td>'
            for k, v in zip(_COLUMNS, cells, strict=True)
        )
        if act:
            button = (
                ""
                if done
                else f'<button type="button" data-device="{html.escape(s.device_id)}"'
                f' aria-label="Collected bin {html.escape(s.device_id)}">Collected</button>'
            )
            tds += f'<td>{button}<span class="msg" role="status"></span></td>'
        tick = ' <span aria-hidden="true">✓</span><span class="vh">collected</span>' if done else ""
        state = ' class="done"' if done else ""
        rows.append(f'<tr data-stop="{i}"{state}><th scope="row">{i}{tick}</th>{tds}</tr>')
    return "\n".join(rows)


def _summary(items: Iterable[tuple[str, str]]) -> str:
    cells = "".join(
        f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>" for k, v in items
    )
    return f'<dl class="summary">{cells}</dl>'


def route_page(
    plan: Plan,
    vehicle: int,
    *,
    tile_url: str | None = None,
    collected: Set[str] = frozenset(),
    action_base: str | None = None,
    roads: Sequence[Road] = (),
    roads_credit: str | None = None,
    profile: CouncilProfile | None = None,
) -> str:
    """A complete, self-contained HTML page of one vehicle's route for a crew's phone or A4.

    Parameters
    ----------
    plan, vehicle
        The plan and the vehicle number; an unknown vehicle raises ValueError.
    tile_url
        An XYZ tile template (``{z}``, ``{x}``, ``{y}``, optionally ``{s}``) drawn under the
        map. Without it the page makes no network request at all.
    collected
        Device ids already emptied: shown ticked and struck through.
    action_base
        When given, each stop not yet collected gets a "Collected" button that POSTs to
        ``{action_base}/{device_id}/collected`` with the bearer token kept in the browser's
        localStorage (key ``smartstreets.token``). Without it the page has no script.
    roads
        The council's roads in the map's area (:func:`route_map_bbox`), drawn beneath.
    roads_credit
        Whose map data the roads are, credited under the map when roads are drawn.
    profile
        The council's profile, for its display name and its zones'.
    """
    route = route_of(plan, vehicle)
    council = profile.name if profile else plan.council
    zone = plan.shift_start.tzinfo
    minutes = round(route.duration_s / 60)
    done = sum(s.device_id in collected for s in route.stops)
    day = f"{plan.shift_date:%a} {plan.shift_date.day} {plan.shift_date:%b %Y}"
    summary = _summary(
        [
            ("Council", council),
            ("Date", day),
            ("Shift", f"{_clock(plan.shift_start, zone)}\u2013{_clock(plan.shift_end, zone)}"),
            ("Vehicle", str(route.vehicle)),
            ("Stops", f"{len(route.stops)}" + (f" ({done} done)" if done else "")),
            ("Distance", f"{route.distance_m / 1000:.1f} km"),
            ("Duration", f"{minutes // 60}:{minutes % 60:02d}"),
            ("Load", f"{route.load_litres:,.0f} L"),
        ]
    )
    left = len(plan.skipped) + len(plan.left_out)
    left_note = f" ({len(plan.left_out)} needed but did not fit today)" if plan.left_out else ""
    credit = tile_credit(tile_url) if tile_url else ""
    credit += streets_credit(roads_credit if roads else None)
    act = action_base is not None
    action = f' data-action="{html.escape(action_base)}"' if action_base is not None else ""
    head = "".join(f'<th scope="col">{h}</th>' for h in ("#", *_COLUMNS, *["Done?"][: int(act)]))
    made = f"{_local(plan.created_at, zone):%Y-%m-%d %H:%M}; travel times: {plan.travel}."
    made = html.escape(f"Plan {plan.plan_id}, made {made}" if plan.plan_id else f"Made {made}")
    return f"""<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(f"Vehicle {route.vehicle} · {council} · {day}")}</title>
<style>{_CSS}</style></head>
<body>
<header><h1>Vehicle {route.vehicle} collection route</h1>
{summary}
<p>Left for another day: <strong>{left} bin{"" if left == 1 else "s"}</strong>{left_note}.</p>
</header>
<main>
<section aria-labelledby="map-h"><h2 id="map-h">Map</h2><figure>
{_map_svg(plan, route, collected, tile_url, roads)}
<figcaption>{credit}{_LEGEND}</figcaption></figure></section>
<section aria-labelledby="stops-h"><h2 id="stops-h">Stops in order</h2>
<table id="stops"{action}><thead><tr>{head}</tr></thead>
<tbody>
{_rows(route, collected, zone, act, profile)}
</tbody></table></section>
</main>
<footer><p>{made}</p></footer>
{f"<script>{ROUTE_SCRIPT}</script>" if act else ""}
</body></html>
"""
