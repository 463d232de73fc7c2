"""Collection plans for waste crews (scope ``crew``): make, fetch, export, mark bins emptied."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, Response

from analytics.routing import io
from analytics.routing.errors import RoutingError
from analytics.routing.export import plan_geojson, plan_gpx
from analytics.routing.schema import Plan
from analytics.routing.shifts import plan_day
from analytics.routing.travel import TravelError
from api.deps import Conn, CouncilPath, Crew, Routing
from api.map_queries import roads_credit, roads_in_bbox
from api.pages.route import route_map_bbox, route_page
from api.params import unprocessable
from api.schemas import CollectionCreate, CollectionPublic, ErrorPublic
from ingest.db.council_profile import load_profile
from ingest.kernel.params import require

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["crew"],
    responses={401: {"model": ErrorPublic}, 403: {"model": ErrorPublic}},
)
ShiftDate = Annotated[date, Query(alias="date", description="Shift date, local (YYYY-MM-DD).")]


def _plan_or_404(conn: Conn, council: str, plan_id: int) -> Plan:
    plan = io.load_plan(conn, council, plan_id=plan_id)
    if plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no plan {plan_id} for {council!r}")
    return plan


def _require_vehicle(plan: Plan, plan_id: int, vehicle: int) -> None:
    if all(r.vehicle != vehicle for r in plan.routes):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"plan {plan_id} has no vehicle {vehicle}")


@router.post(
    "/routes",
    response_model=Plan,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorPublic}},
)
def make_routes(
    council: CouncilPath, conn: Conn, routing: Routing, principal: Crew, day: ShiftDate
) -> Plan:
    """Plan the shift of ``date`` now, store it and return it (takes a few seconds)."""
    today = datetime.now(UTC).date()
    with unprocessable():
        require(
            today - timedelta(days=7) <= day <= today + timedelta(days=7),
            "date must be within 7 days of today",
        )
    try:
        return plan_day(conn, council, day, routing)
    except (RoutingError, TravelError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.get("/routes", response_model=Plan, responses={404: {"model": ErrorPublic}})
def latest_routes(
    council: CouncilPath,
    conn: Conn,
    principal: Crew,
    day: ShiftDate,
) -> Plan:
    """The latest plan made for the shift of ``date``."""
    plan = io.load_plan(conn, council, shift_date=day)
    if plan is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no plan for {day}: POST to this address or run 'smartstreets routes plan'",
        )
    return plan


@router.get("/routes/{plan_id}", response_model=Plan, responses={404: {"model": ErrorPublic}})
def get_routes(council: CouncilPath, plan_id: int, conn: Conn, principal: Crew) -> Plan:
    """A stored plan."""
    return _plan_or_404(conn, council, plan_id)


@router.get(
    "/routes/{plan_id}/geojson",
    responses={200: {"content": {"application/geo+json": {}}}, 404: {"model": ErrorPublic}},
)
def routes_geojson(council: CouncilPath, plan_id: int, conn: Conn, principal: Crew) -> Response:
    """The plan as GeoJSON: a LineString per route, a Point per stop, skipped bins and depot."""
    body = json.dumps(plan_geojson(_plan_or_404(conn, council, plan_id)))
    return Response(body, media_type="application/geo+json")


@router.get(
    "/routes/{plan_id}/gpx",
    responses={200: {"content": {"application/gpx+xml": {}}}, 404: {"model": ErrorPublic}},
)
def routes_gpx(
    council: CouncilPath,
    plan_id: int,
    conn: Conn,
    principal: Crew,
    vehicle: Annotated[int | None, Query(ge=1, description="One vehicle only.")] = None,
) -> Response:
    """The plan as GPX 1.1 for satnavs: a route per vehicle and the driven track."""
    plan = _plan_or_404(conn, council, plan_id)
    if vehicle is not None:
        _require_vehicle(plan, plan_id, vehicle)
    return Response(plan_gpx(plan, vehicle), media_type="application/gpx+xml")


@router.get(
    "/routes/{plan_id}/vehicles/{vehicle}/page",
    response_class=HTMLResponse,
    responses={404: {"model": ErrorPublic}},
)
def route_page_html(
    council: CouncilPath,
    plan_id: int,
    vehicle: int,
    conn: Conn,
    routing: Routing,
    principal: Crew,
) -> HTMLResponse:
    """One vehicle's route as a printable page with an offline map, bins already emptied ticked."""
    plan = _plan_or_404(conn, council, plan_id)
    _require_vehicle(plan, plan_id, vehicle)
    page = route_page(
        plan,
        vehicle,
        tile_url=routing.tile_url,
        collected=io.collected_in_plan(conn, plan),
        action_base=f"/v1/councils/{council}/bins",
        roads=roads_in_bbox(conn, council, route_map_bbox(plan, vehicle, routing.tile_url)),
        roads_credit=roads_credit(conn, council),
        profile=load_profile(conn, council),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post(
    "/bins/{device_id}/collected",
    response_model=CollectionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": ErrorPublic}},
)
def bin_collected(
    council: CouncilPath,
    device_id: str,
    conn: Conn,
    principal: Crew,
    body: CollectionCreate | None = None,
) -> CollectionPublic:
    """Record that a crew emptied a bin; the fill model takes it as a certain collection."""
    body = body or CollectionCreate()
    now = datetime.now(UTC)
    at = body.collected_at or now
    with unprocessable():
        require(at.tzinfo is not None, "collected_at needs a time zone (e.g. 2026-11-29T07:42:00Z)")
        require(at <= now + timedelta(minutes=5), "collected_at is in the future")
    if not io.mark_collected(conn, council, device_id, at, body.plan_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no bin {device_id!r} in {council!r}")
    return CollectionPublic(device_id=device_id, collected_at=at, plan_id=body.plan_id)
