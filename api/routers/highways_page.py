"""The highways team's map page (scope ``highways``) and the phone-friendly page that opens it.

``/highways`` asks once for a highways token (kept in the browser), then loads the council's
map page with it: roughness hexagons, road coverage, the potholes and their list, all drawn on
the server (``api.pages.highways``) so the page keeps working offline once loaded, and prints.
"""

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import HTMLResponse

from api.deps import Conn, CouncilPath, Highways, Routing
from api.features import coverage_features, heatmap_features
from api.map_queries import roads_credit, roads_in_bbox
from api.pages.entry import highways_entry_page
from api.pages.highways import highways_map_bbox, highways_page
from api.params import MapBBox
from api.pothole_queries import EXPORTED_STATES, council_extent, coverage_in_bbox, potholes_in_bbox
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
    council: CouncilPath, conn: Conn, routing: Routing, principal: Highways, box: MapBBox
) -> HTMLResponse:
    """The map page: rough-road hexagons (3+ phones), road coverage over 30 days and the
    potholes a highways team acts on (confirmed and later), numbered, with their list."""
    box = council_extent(conn, council) if box is None else box
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
        heatmap_features(conn, council, box, MAP_RESOLUTION),
        holes,
        datetime.now(UTC),
        tile_url=routing.tile_url,
        roads=roads_in_bbox(conn, council, highways_map_bbox(box, routing.tile_url)),
        roads_credit=roads_credit(conn, council),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/highways", response_class=HTMLResponse)
def highways_entry() -> HTMLResponse:
    """The highways team's entry page: pick the council, then see its map and potholes."""
    return HTMLResponse(highways_entry_page(), headers={"Cache-Control": "no-store"})
