"""A council's profile for its admins: read it whole, change any part of it.

Runs on the request's council-scoped connection: the tenant role may update its own council's
row, zones and depot only (migration 0017), so a token of one council cannot touch another's.
"""

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from api.council_profiles import check_change, profile_json
from api.deps import Admin, Conn, CouncilPath
from api.uploads import error_response
from ingest.db.council_profile import (
    DepotPlace,
    ProfileChange,
    ZoneName,
    load_profile,
    update_profile,
)
from ingest.db.councils import UnknownCouncil

router = APIRouter(prefix="/v1/councils/{council}/profile", tags=["councils"])


class CouncilProfilePublic(BaseModel):
    """Everything a council has set about itself."""

    slug: str
    name: str = Field(description="For people: 'Rutland County Council'.")
    timezone: str
    holiday_calendar: str
    locale: str
    bbox: list[float] | None = Field(description="West, south, east, north in degrees.")
    boundary: dict[str, Any] | None = Field(description="GeoJSON Polygon or MultiPolygon.")
    depot: DepotPlace | None
    zones: list[ZoneName]
    publish_counters: bool
    drives_enabled: bool
    open_data_licence: str | None = Field(description="None: the deployment's licence.")


_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_response("No token, or an invalid or revoked one."),
    403: error_response("The token is not an admin token of this council."),
    404: error_response("No such council."),
}


@router.get(
    "", response_model=CouncilProfilePublic, summary="A council's profile", responses=_RESPONSES
)
def get_profile(council: CouncilPath, conn: Conn, _admin: Admin) -> CouncilProfilePublic:
    """The council's display name, time zone, calendar, locale, place, depot, zones and what
    it publishes."""
    try:
        return CouncilProfilePublic.model_validate(profile_json(load_profile(conn, council)))
    except UnknownCouncil as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.patch(
    "",
    response_model=CouncilProfilePublic,
    summary="Change a council's profile",
    responses={**_RESPONSES, 422: error_response("A field is not valid.")},
)
def patch_profile(
    council: CouncilPath, change: ProfileChange, conn: Conn, _admin: Admin
) -> CouncilProfilePublic:
    """Set the fields given (others stay); zones given are named or renamed, others kept."""
    try:
        check_change(change)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    try:
        profile = update_profile(conn, council, change)
    except UnknownCouncil as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return CouncilProfilePublic.model_validate(profile_json(profile))
