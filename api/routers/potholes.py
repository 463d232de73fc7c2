"""Potholes for highways teams (scope ``highways``): list, act on, export as CSV and Open311."""

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from analytics.potholes.lifecycle import Lifecycle
from analytics.potholes.store import TransitionError, apply_action
from api.deps import Conn, CouncilPath, Highways
from api.params import OptionalBBox, unprocessable
from api.pothole_queries import potholes_for_export, potholes_in_bbox
from api.schemas import (
    TOKEN_ERRORS,
    ErrorPublic,
    PotholeActionCreate,
    PotholePublic,
    PotholeStatePublic,
    ServiceRequestPublic,
)
from ingest.kernel.params import require

router = APIRouter(
    prefix="/v1/councils/{council}",
    tags=["highways"],
    responses=TOKEN_ERRORS,
)

PotholeId = Annotated[int, Path(ge=1, description="The pothole's id.")]

CSV_HEADER = (
    "pothole_id",
    "state",
    "street",
    "lat",
    "lon",
    "heading_deg",
    "severity",
    "confidence",
    "reports",
    "devices",
    "first_seen",
    "last_seen",
    "state_changed_at",
    "duplicate_of",
)
"""Columns of the CSV export, in order."""
_OPEN: tuple[Lifecycle, ...] = ("confirmed", "reported", "reopened")


@router.get("/potholes", response_model=list[PotholePublic])
def potholes(
    council: CouncilPath,
    conn: Conn,
    principal: Highways,
    box: OptionalBBox,
    state: Annotated[Lifecycle | None, Query(description="Only potholes in this state.")] = None,
    min_confidence: Annotated[float, Query(ge=0, le=1)] = 0.0,
) -> list[PotholePublic]:
    """The council's potholes, most confident first; phone ids are never returned."""
    rows = potholes_in_bbox(conn, council, box, state, min_confidence)
    return [PotholePublic.model_validate(r) for r in rows]


@router.post(
    "/potholes/{pothole_id}/state",
    response_model=PotholeStatePublic,
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}},
)
def pothole_action(
    council: CouncilPath,
    pothole_id: PotholeId,
    body: PotholeActionCreate,
    conn: Conn,
    principal: Highways,
) -> PotholeStatePublic:
    """Report a pothole to the contractor, mark it repaired, or mark it a duplicate of another.

    409 if the pothole's state does not allow the action (a candidate is neither reported nor
    repaired; a duplicate is final).
    """
    with unprocessable():
        require(
            body.action != "mark_duplicate" or body.duplicate_of not in (None, pothole_id),
            "mark_duplicate needs duplicate_of, another pothole's id",
        )
    try:
        state = apply_action(conn, council, pothole_id, body.action, body.duplicate_of)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except TransitionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    duplicate_of = body.duplicate_of if body.action == "mark_duplicate" else None
    return PotholeStatePublic(pothole_id=pothole_id, state=state, duplicate_of=duplicate_of)


@router.get(
    "/potholes.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per pothole."}},
)
def potholes_csv(council: CouncilPath, conn: Conn, principal: Highways) -> Response:
    """Confirmed potholes and those further along (reported, repaired, reopened) as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in potholes_for_export(conn, council):
        writer.writerow([_cell(r[c]) for c in CSV_HEADER])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="potholes-{council}.csv"'},
    )


@router.get("/potholes/open311", response_model=list[ServiceRequestPublic])
def potholes_open311(
    council: CouncilPath, conn: Conn, principal: Highways
) -> list[ServiceRequestPublic]:
    """The same potholes as Open311 GeoReport v2 service requests (service code ``pothole``);
    repaired ones are ``closed``."""
    return [_service_request(r) for r in potholes_for_export(conn, council)]


def _service_request(r: dict[str, Any]) -> ServiceRequestPublic:
    return ServiceRequestPublic(
        service_request_id=str(r["pothole_id"]),
        status="open" if r["state"] in _OPEN else "closed",
        status_notes=r["state"],
        service_name="Pothole",
        service_code="pothole",
        description=(
            f"Pothole{', ' + r['street'] if r['street'] else ''}: "
            f"found by {r['devices']} phones in {r['reports']} reports; "
            f"severity {r['severity']:.2f}, confidence {r['confidence']:.2f}."
        ),
        requested_datetime=r["first_seen"],
        updated_datetime=max(r["last_seen"], r["state_changed_at"]),
        address=r["street"],
        lat=r["lat"],
        long=r["lon"],
    )


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value
