"""Plain HTML pages: work on a phone, no JavaScript or CDN needed."""

from datetime import UTC, datetime
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from analytics.forecasting.levels import zone_level
from api.deps import Conn, Settings
from api.queries import councils, zone_counts_now

router = APIRouter(tags=["pages"], include_in_schema=False)

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;line-height:1.5;
color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
ul.zones{list-style:none;padding:0}ul.zones li{border:1px solid #bbb;border-radius:.5rem;
padding:.75rem;margin:.5rem 0}
.level{font-weight:700;padding:.1rem .5rem;border-radius:.3rem;border:1px solid #555}
.quiet{background:#d8efff}.usual{background:#e5f5e0}.busy{background:#ffe9b3}
.very-busy{background:#ffc9c2}.unknown{background:#eee}
a{color:#0645ad}footer{margin-top:2rem;font-size:.9rem;color:#444}
"""


@router.get("/", response_class=HTMLResponse)
def index(conn: Conn, settings: Settings) -> HTMLResponse:
    """Each council's zones and how busy they are now, with links for developers."""
    now = datetime.now(UTC)
    sections = []
    for council in councils(conn):
        slug = escape(council["slug"])
        items = []
        for row in zone_counts_now(conn, council["slug"], now, settings.stale_after_min):
            level, reason = zone_level(row)
            count = row["count_last_hour"]
            counted = f"{count} people in the last hour" if count is not None else "no count"
            items.append(
                f"<li><strong>{escape(row['zone'])}</strong> "
                f'<span class="level {level.replace(" ", "-")}">{escape(level)}</span><br>'
                f"{escape(reason)} <small>({counted}; {row['counters_reporting']} of "
                f"{row['counters_total']} counters reporting)</small></li>"
            )
        zones = "".join(items) or "<li>No people counters registered yet.</li>"
        sections.append(
            f"<h2>{escape(council['name'])}</h2>"
            f"<p>{council['bins']} bins and {council['counters']} people counters.</p>"
            f'<ul class="zones">{zones}</ul>'
            f'<p><a href="/councils/{slug}">Today and tomorrow, zone by zone</a> · '
            f'data: <a href="/v1/councils/{slug}/zones/now">how busy now (JSON)</a></p>'
        )
    body = "".join(sections) or "<p>No councils registered yet.</p>"
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="refresh" content="120">'
        f"<title>smartstreets</title><style>{STYLE}</style></head><body>"
        "<header><h1>smartstreets: how busy is the town centre?</h1></header>"
        f"<main>{body}</main>"
        '<footer><a href="/open-data/catalog.json">open data</a> · <a href="/crew">crews</a> · '
        '<a href="/highways">highways</a> · <a href="/docs">API documentation</a> · '
        '<a href="/health">health</a> · '
        f"updated {now:%H:%M} UTC</footer></body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "public, max-age=60"})


_CREW_SCRIPT = """
const q = new URLSearchParams(location.search);
const out = document.getElementById('out');
function token() {
  let t = localStorage.getItem('smartstreets.token');
  if (!t) { t = prompt('Crew token'); if (t) localStorage.setItem('smartstreets.token', t); }
  return t;
}
function say(text) { out.textContent = text; }
async function load(council, day) {
  const headers = {Authorization: 'Bearer ' + token()};
  const base = '/v1/councils/' + encodeURIComponent(council);
  const res = await fetch(base + '/routes?date=' + encodeURIComponent(day), {headers});
  if (res.status === 401) { localStorage.removeItem('smartstreets.token'); }
  if (!res.ok) { say((await res.json()).detail || res.statusText); return; }
  const plan = await res.json();
  out.replaceChildren();
  for (const r of plan.routes) {
    const b = document.createElement('button');
    b.textContent = 'Vehicle ' + r.vehicle + ': ' + r.stops.length + ' bins, ' +
      (r.distance_m / 1000).toFixed(1) + ' km';
    b.onclick = async () => {
      const page = await fetch(base + '/routes/' + plan.plan_id + '/vehicles/' + r.vehicle +
        '/page', {headers});
      if (!page.ok) { say('Could not load the route: ' + page.status); return; }
      const html = await page.text();
      document.open(); document.write(html); document.close();
    };
    out.append(b);
  }
  if (!plan.routes.length) say('No bins need emptying on this shift.');
}
const form = document.getElementById('pick');
form.council.value = q.get('council') || '';
form.date.value = q.get('date') || new Date().toISOString().slice(0, 10);
form.onsubmit = (e) => { e.preventDefault(); load(form.council.value, form.date.value); };
if (q.get('council')) load(form.council.value, form.date.value);
"""


@router.get("/crew", response_class=HTMLResponse)
def crew() -> HTMLResponse:
    """The crews' entry page: pick the shift, then a vehicle's printable route."""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>smartstreets: today's rounds</title><style>{STYLE}"
        "button,input{font-size:1.1rem;padding:.6rem;margin:.3rem 0;min-height:2.75rem}"
        "button{display:block;width:100%}</style></head><body>"
        "<header><h1>Today's collection rounds</h1></header><main>"
        '<form id="pick"><label>Council <input name="council" required '
        'pattern="[a-z0-9-]{1,40}" autocomplete="organization"></label> '
        '<label>Date <input name="date" type="date" required></label> '
        "<button>Show rounds</button></form>"
        '<div id="out" role="status" aria-live="polite"></div>'
        "<noscript><p>This page needs JavaScript. Printed rounds: "
        "<code>smartstreets routes plan --html DIR</code>.</p></noscript>"
        f"</main><script>{_CREW_SCRIPT}</script></body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
