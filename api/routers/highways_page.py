"""The highways team's map page (scope ``highways``) and the phone-friendly page that opens it.

``/highways`` asks once for a highways token (kept in the browser), then loads the council's
map page with it: roughness hexagons, road coverage, the potholes and their list, all drawn on
the server so the page keeps working offline once loaded, and prints.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import HTMLResponse

from api.auth import Principal, Scope
from api.deps import Conn, CouncilPath, require
from api.pages.highways import highways_page
from api.pothole_queries import EXPORTED_STATES, council_extent, coverage_in_bbox, potholes_in_bbox
from api.routers.coverage import coverage_features
from api.routers.heatmap import heat_cells
from api.routers.highways import parse_bbox
from api.routers.pages import STYLE
from api.routers.routes import Routing
from api.schemas import TOKEN_ERRORS, ErrorPublic
from ingest.db.councils import council_name

router = APIRouter(tags=["highways"])

MAP_RESOLUTION = 9
"""H3 resolution of the page's hexagons (about 0.1 km² each)."""


@router.get(
    "/v1/councils/{council}/highways/map",
    response_class=HTMLResponse,
    responses={**TOKEN_ERRORS, 404: {"model": ErrorPublic}},
)
def highways_map(
    council: CouncilPath,
    conn: Conn,
    routing: Routing,
    principal: Annotated[Principal, Depends(require(Scope.HIGHWAYS))],
    bbox: Annotated[
        str | None,
        Query(
            description="min_lon,min_lat,max_lon,max_lat (WGS 84); default: the council's roads."
        ),
    ] = None,
) -> HTMLResponse:
    """The map page: rough-road hexagons (3+ phones), road coverage over 30 days and the
    potholes a highways team acts on (confirmed and later), numbered, with their list."""
    try:
        box = parse_bbox(bbox) if bbox is not None else council_extent(conn, council)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if box is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "no roads or potholes yet: import roads (smartstreets potholes roads) or give bbox",
        )
    holes = [
        p for p in potholes_in_bbox(conn, council, box, None, 0.0) if p["state"] in EXPORTED_STATES
    ]
    page = highways_page(
        council_name(conn, council),
        box,
        coverage_features(coverage_in_bbox(conn, council, box)),
        heat_cells(conn, council, box, MAP_RESOLUTION),
        holes,
        datetime.now(UTC),
        tile_url=routing.tile_url,
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


_SCRIPT = """
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


@router.get("/highways", response_class=HTMLResponse)
def highways_entry() -> HTMLResponse:
    """The highways team's entry page: pick the council, then see its map and potholes."""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>smartstreets: potholes</title><style>{STYLE}"
        "button,input{font-size:1.1rem;padding:.6rem;margin:.3rem 0;min-height:2.75rem}"
        "button{display:block;width:100%}</style></head><body>"
        "<header><h1>Potholes and road coverage</h1></header><main>"
        '<form id="pick"><label>Council <input name="council" required '
        'pattern="[a-z0-9-]{1,40}" autocomplete="organization"></label> '
        "<button>Show the map</button></form>"
        '<div id="out" role="status" aria-live="polite"></div>'
        "<noscript><p>This page needs JavaScript to send your token; the map itself is "
        "<code>GET /v1/councils/COUNCIL/highways/map</code>.</p></noscript>"
        f"</main><script>{_SCRIPT}</script></body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
