"""Residents and open data: no token, aggregated counts only, cacheable."""

from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status

from analytics.forecasting.levels import sentence, zone_level
from api.deps import Conn, Settings, known_council
from api.queries import (
    council_timezone,
    counter_publication,
    stored_forecasts,
    zone_counts_now,
)
from api.schemas import ErrorPublic, ForecastHourPublic, ForecastPublic, ZoneNowPublic

MIN_COUNTERS_PUBLIC = 3

router = APIRouter(
    prefix="/v1/councils/{council}", tags=["public"], responses={404: {"model": ErrorPublic}}
)


@router.get("/zones/now", response_model=list[ZoneNowPublic])
def zones_now(
    council: Annotated[str, Depends(known_council)],
    conn: Conn,
    settings: Settings,
    response: Response,
) -> list[ZoneNowPublic]:
    """How busy each town-centre zone is now, compared with the same hour of the week."""
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo(council_timezone(conn, council)))
    zones = []
    for row in zone_counts_now(conn, council, now, settings.stale_after_min):
        level, reason = zone_level(row)
        zones.append(
            ZoneNowPublic(
                as_of=now, level=level, reason=reason, summary=sentence(level, local), **row
            )
        )
    response.headers["Cache-Control"] = "public, max-age=60"
    return zones


def _forecasts(rows: list[dict[str, Any]]) -> list[ForecastPublic]:
    by_series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_series[row["series"]].append(row)
    out = []
    for series, hours in by_series.items():
        kind, _, name = series.partition(":")
        out.append(
            ForecastPublic(
                zone=name if kind == "zone" else "",
                counter=name if kind == "counter" else None,
                made_at=hours[0]["made_at"],
                hours=[ForecastHourPublic.model_validate(h) for h in hours],
            )
        )
    return out


@router.get("/zones/forecast", response_model=list[ForecastPublic])
def zones_forecast(
    council: Annotated[str, Depends(known_council)], conn: Conn, response: Response
) -> list[ForecastPublic]:
    """The next 48 hours of every zone: people expected per hour, an 80% interval, and what is
    usual for each hour. Empty until the first forecast refresh has run."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return _forecasts(stored_forecasts(conn, council, "zone:%"))


@router.get("/zones/{zone}/forecast", response_model=ForecastPublic)
def zone_forecast(
    council: Annotated[str, Depends(known_council)],
    zone: Annotated[str, Path(max_length=80, description="Zone name, as in /zones/now.")],
    conn: Conn,
    response: Response,
) -> ForecastPublic:
    """The next 48 hours of one zone."""
    found = _forecasts(stored_forecasts(conn, council, f"zone:{zone}"))
    if not found:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no forecast for zone {zone!r} (unknown zone, or none yet)"
        )
    response.headers["Cache-Control"] = "public, max-age=300"
    return found[0]


@router.get(
    "/counters/{device_id}/forecast",
    response_model=ForecastPublic,
    responses={403: {"model": ErrorPublic}},
)
def counter_forecast(
    council: Annotated[str, Depends(known_council)],
    device_id: Annotated[str, Path(max_length=64)],
    conn: Conn,
    response: Response,
) -> ForecastPublic:
    """The next 48 hours of one counter, where its zone has at least three counters or the
    council has chosen to publish per-counter figures."""
    facts = counter_publication(conn, council, device_id)
    if facts is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no counter {device_id!r} in {council!r}")
    if facts["zone_counters"] < MIN_COUNTERS_PUBLIC and not facts["publish_counters"]:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"zone {facts['zone']!r} has fewer than {MIN_COUNTERS_PUBLIC} counters: only the "
            "zone's figures are published",
        )
    found = _forecasts(stored_forecasts(conn, council, f"counter:{device_id}"))
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no forecast for {device_id!r} yet")
    result = found[0].model_copy(update={"zone": facts["zone"]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return result
