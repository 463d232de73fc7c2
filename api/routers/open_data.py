"""Open data (no token): each council's footfall, bin fill and potholes as CSV, GeoJSON and
Parquet, FIWARE Smart Data Models snapshots, and a DCAT catalogue of them all."""

import logging
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from analytics.places import describe_points
from api.deps import Conn, CouncilPath, thread_conn
from api.open_data import (
    BIN_FILL,
    FOOTFALL,
    POTHOLES,
    ROAD_ROUGHNESS,
    Dataset,
    bin_fill_rows,
    date_window,
    day_bounds,
    footfall_rows,
    pothole_rows,
    roughness_rows,
)
from api.open_data_catalog import catalogue
from api.open_data_fiware import crowd_flows, waste_containers
from api.open_data_formats import MEDIA_TYPES, Format, Row, encode
from api.open_data_queries import (
    bin_fill_daily_by_zone,
    footfall_hourly_by_zone,
    latest_bin_states,
    latest_zone_hours,
    open_data_council,
    open_data_coverage,
    public_potholes,
    public_roughness,
)
from api.open_data_settings import OpenDataSettings
from api.params import unprocessable
from api.pothole_queries import with_streets
from api.response_cache import cached_body
from api.schemas import ErrorPublic
from ingest.db.council_profile import zone_names

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/open-data",
    tags=["open data"],
    responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
)

CACHE = "public, max-age=300"
FromDate = Annotated[
    date | None,
    Query(alias="from", description="First local day (YYYY-MM-DD); default 29 days before 'to'."),
]
ToDate = Annotated[
    date | None, Query(alias="to", description="Last local day (YYYY-MM-DD); default today.")
]
_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {m: {} for m in MEDIA_TYPES.values()}, "description": "The dataset file."}
}


def open_data_settings(request: Request) -> OpenDataSettings:
    """The open-data settings the app read at start-up (or, for an app started without its
    lifespan, from the environment on first use)."""
    settings: OpenDataSettings | None = getattr(request.app.state, "open_data", None)
    if settings is None:
        settings = OpenDataSettings()
        log.info("open data settings: %s", settings.model_dump())
        request.app.state.open_data = settings
    return settings


def _council(conn: Conn, council: str) -> dict[str, Any]:
    found = open_data_council(conn, council)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown council {council!r}")
    return found


def _window(found: dict[str, Any], start: date | None, end: date | None) -> tuple[date, date]:
    today = datetime.now(UTC).astimezone(ZoneInfo(found["timezone"])).date()
    with unprocessable():
        return date_window(start, end, today)


def _period(
    found: dict[str, Any], start: date | None, end: date | None
) -> tuple[datetime | None, datetime | None, str]:
    """The instants of the local days from/to and the file name's label; without from and
    to, no bounds and the label "all"."""
    if start is None and end is None:
        return None, None, "all"
    first, last = _window(found, start, end)
    lo, hi = day_bounds(first, last, found["timezone"])
    return lo, hi, f"{first}-{last}"


def _file(dataset: Dataset, council: str, fmt: Format, rows: list[Row], label: str) -> Response:
    name = f"{council}-{dataset.slug}-{label}.{fmt.value}"
    return Response(
        content=encode(fmt, dataset.columns, rows, dataset.geometry),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": CACHE},
    )


@router.get("/catalog.json", responses={200: {"content": {"application/ld+json": {}}}})
async def catalog(request: Request) -> Response:
    """The DCAT catalogue (JSON-LD) of every council's open datasets and their downloads.

    The same for every caller and costly on a shared service (two index probes per council and
    dataset; 110-150 ms at p99 for 50 councils' year on TimescaleDB, mostly planning), so it is
    rendered once per ``SMARTSTREETS_API_PUBLIC_CACHE_S`` and process, like the public answers.
    """
    settings = open_data_settings(request)
    base = (settings.base_url or str(request.base_url)).rstrip("/")
    render = partial(_catalog_body, request, settings, base)
    body = await cached_body(request, ("catalog", base), render)
    return Response(body, media_type="application/ld+json", headers={"Cache-Control": CACHE})


def _catalog_body(request: Request, settings: OpenDataSettings, base: str) -> bytes:
    with thread_conn(request) as conn:
        return bytes(JSONResponse(catalogue(open_data_coverage(conn), settings, base)).body)


@router.get("/{council}/footfall-hourly.{fmt}", response_class=Response, responses=_FILE_RESPONSES)
def footfall_hourly(
    council: CouncilPath, fmt: Format, conn: Conn, start: FromDate = None, end: ToDate = None
) -> Response:
    """People counted per zone and hour (UTC hours) over the local days from/to; counts under
    10 are withheld."""
    found = _council(conn, council)
    first, last = _window(found, start, end)
    lo, hi = day_bounds(first, last, found["timezone"])
    # Only complete hours: the current one is still being counted.
    hi = min(hi, datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    rows = footfall_rows(footfall_hourly_by_zone(conn, council, lo, hi), zone_names(conn, council))
    return _file(FOOTFALL, council, fmt, rows, f"{first}-{last}")


@router.get("/{council}/bin-fill-daily.{fmt}", response_class=Response, responses=_FILE_RESPONSES)
def bin_fill_daily(
    council: CouncilPath, fmt: Format, conn: Conn, start: FromDate = None, end: ToDate = None
) -> Response:
    """Fill statistics of litter bins per local day and zone; withheld under 3 bins."""
    found = _council(conn, council)
    first, last = _window(found, start, end)
    lo, hi = day_bounds(first, last, found["timezone"])
    rows = bin_fill_rows(
        bin_fill_daily_by_zone(conn, council, lo, hi, found["timezone"]), zone_names(conn, council)
    )
    return _file(BIN_FILL, council, fmt, rows, f"{first}-{last}")


@router.get("/{council}/potholes.{fmt}", response_class=Response, responses=_FILE_RESPONSES)
def potholes(
    council: CouncilPath, fmt: Format, conn: Conn, start: FromDate = None, end: ToDate = None
) -> Response:
    """Confirmed, reported, repaired and reopened potholes; with from/to only those seen in
    those local days. Positions rounded to about 1 m, nothing about phones."""
    lo, hi, label = _period(_council(conn, council), start, end)
    rows = pothole_rows(with_streets(conn, council, public_potholes(conn, council, lo, hi)))
    return _file(POTHOLES, council, fmt, rows, label)


@router.get("/{council}/road-roughness.{fmt}", response_class=Response, responses=_FILE_RESPONSES)
def road_roughness(
    council: CouncilPath, fmt: Format, conn: Conn, start: FromDate = None, end: ToDate = None
) -> Response:
    """Median estimated IRI (m/km) per road segment measured by 3 or more phones; with from/to
    only segments refreshed in those local days. Nothing about phones."""
    lo, hi, label = _period(_council(conn, council), start, end)
    rows = roughness_rows(public_roughness(conn, council, lo, hi))
    return _file(ROAD_ROUGHNESS, council, fmt, rows, label)


def _entities(body: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(body, media_type="application/ld+json", headers={"Cache-Control": CACHE})


@router.get(
    "/{council}/fiware/WasteContainer.json",
    responses={200: {"content": {"application/ld+json": {}}}},
)
def fiware_waste_containers(council: CouncilPath, conn: Conn) -> JSONResponse:
    """Every bin as a Smart Data Models WasteContainer (NGSI-LD keyValues)."""
    _council(conn, council)
    rows = latest_bin_states(conn, council)
    streets = describe_points(conn, council, ((r["lat"], r["lon"]) for r in rows))
    # A bin's registry address wins; else the street it stands on.
    rows = [r | {"address": r["address"] or s} for r, s in zip(rows, streets, strict=True)]
    return _entities(waste_containers(council, rows))


@router.get(
    "/{council}/fiware/CrowdFlowObserved.json",
    responses={200: {"content": {"application/ld+json": {}}}},
)
def fiware_crowd_flows(council: CouncilPath, conn: Conn) -> JSONResponse:
    """Each zone's latest complete hour as a Smart Data Models CrowdFlowObserved (NGSI-LD
    keyValues); counts under 10 are left out."""
    _council(conn, council)
    now = datetime.now(UTC)
    names = zone_names(conn, council)
    return _entities(crowd_flows(council, latest_zone_hours(conn, council, now), names))
