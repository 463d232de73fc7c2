"""The phone-friendly entry pages of crews and highways teams.

Each asks once for a token (kept in the browser's localStorage), then fetches the page it
opens with that token and writes it into itself. Their inline scripts are public here because
the content security policy (``api.security``) allows exactly these scripts, by hash.
"""

from api.pages.layout import BASE_STYLE, page_top

CREW_SCRIPT = """
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
"""The crews' page: lists the shift's vehicles, then writes the chosen route page in."""

HIGHWAYS_ENTRY_SCRIPT = """
const q = new URLSearchParams(location.search);
const out = document.getElementById('out');
function token() {
  let t = localStorage.getItem('smartstreets.highways');
  if (!t) { t = prompt('Highways token'); if (t) localStorage.setItem('smartstreets.highways', t); }
  return t;
}
async function load(council) {
  const url = '/v1/councils/' + encodeURIComponent(council) + '/highways/map';
  const res = await fetch(url, {headers: {Authorization: 'Bearer ' + token()}});
  if (res.status === 401) { localStorage.removeItem('smartstreets.highways'); }
  if (!res.ok) { out.textContent = (await res.json()).detail || res.statusText; return; }
  const html = await res.text();
  document.open(); document.write(html); document.close();
}
const form = document.getElementById('pick');
form.council.value = q.get('council') || '';
form.onsubmit = (e) => { e.preventDefault(); load(form.council.value); };
if (q.get('council')) load(form.council.value);
"""
"""The highways teams' page: writes the council's map page in."""

_FORM_STYLE = (
    "button,input{font-size:1.1rem;padding:.6rem;margin:.3rem 0;min-height:2.75rem}"
    "button{display:block;width:100%}"
)


def _entry_page(title: str, heading: str, fields: str, noscript: str, script: str) -> str:
    """A page with a form (the council, then ``fields``: input labels and the button), a live
    status line for what the script says, and ``noscript`` for browsers without script."""
    return (
        page_top(title, BASE_STYLE + _FORM_STYLE) + f"<header><h1>{heading}</h1></header><main>"
        '<form id="pick"><label>Council <input name="council" required '
        'pattern="[a-z0-9-]{1,40}" autocomplete="organization"></label> '
        f"{fields}</form>"
        '<div id="out" role="status" aria-live="polite"></div>'
        f"<noscript><p>{noscript}</p></noscript>"
        f"</main><script>{script}</script></body></html>"
    )


def crew_entry_page() -> str:
    """The crews' entry page: pick the shift, then a vehicle's printable route."""
    return _entry_page(
        "smartstreets: today's rounds",
        "Today's collection rounds",
        '<label>Date <input name="date" type="date" required></label> <button>Show rounds</button>',
        "This page needs JavaScript. Printed rounds: "
        "<code>smartstreets routes plan --html DIR</code>.",
        CREW_SCRIPT,
    )


def highways_entry_page() -> str:
    """The highways team's entry page: pick the council, then see its map and potholes."""
    return _entry_page(
        "smartstreets: potholes",
        "Potholes and road coverage",
        "<button>Show the map</button>",
        "This page needs JavaScript to send your token; the map itself is "
        "<code>GET /v1/councils/COUNCIL/highways/map</code>.",
        HIGHWAYS_ENTRY_SCRIPT,
    )
