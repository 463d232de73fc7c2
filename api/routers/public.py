"""Residents and open data: no token, aggregated counts only, cacheable.

The zone answers (now and forecast) are the same for every caller, so each process renders them
once per council and ``public_cache_s`` (api/response_cache.py) and serves the bytes from memory
in between, without a database connection or a worker thread.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import TypeAdapter

from analytics.forecasting.levels import CrowdThresholds, sentence, zone_crowding, zone_level
from analytics.forecasting.visit import best_time, hours_by_zone
from api.busy_queries import local_days, zone_peaks, zone_visit_hours
from api.deps import CouncilPath, known_council, thread_conn
from api.queries import (
    counter_publication,
    forecast_series_status,
    stored_forecasts,
    zone_counts_now,
)
from api.response_cache import cached_body
from api.schemas import ErrorPublic, ForecastHourPublic, ForecastPublic, ZoneNowPublic
from api.settings import ApiSettings
from ingest.db.councils import council_timezone

MIN_COUNTERS_PUBLIC = 3

router = APIRouter(
    prefix="/v1/councils/{council}", tags=["public"], responses={404: {"model": ErrorPublic}}
)

_ZONES_NOW = TypeAdapter(list[ZoneNowPublic])
_FORECASTS = TypeAdapter(list[ForecastPublic])

Render = Callable[[psycopg.Connection, str, ApiSettings], bytes]


def _render(request: Request, council: str, render: Render) -> bytes:
    # The same connection and council check as the routes that take them as dependencies.
    with thread_conn(request) as conn:
        known_council(council, conn)
        return render(conn, council, request.app.state.settings)


async def _cached(
    request: Request, kind: str, council: str, render: Render, max_age: int
) -> Response:
    """The answer from the cache, or rendered in a worker thread (blocking I/O stays off the
    event loop) and kept."""
    body = await cached_body(request, (kind, council), partial(_render, request, council, render))
    return Response(
        body,
        media_type="application/json",
        headers={"Cache-Control": f"public, max-age={max_age}"},
    )


def _zones_now(conn: psycopg.Connection, council: str, settings: ApiSettings) -> bytes:
    now = datetime.now(UTC)
    tz = ZoneInfo(council_timezone(conn, council))
    local = now.astimezone(tz)
    crowd_rules = CrowdThresholds()
    peaks = zone_peaks(conn, council, now, settings.stale_after_min, crowd_rules.peak_quantile)
    days = hours_by_zone(zone_visit_hours(conn, council, *local_days(local), now), tz)
    zones = []
    for row in zone_counts_now(conn, council, now, settings.stale_after_min):
        level, reason = zone_level(row)
        peak = peaks.get(row["zone"], {})
        crowd = zone_crowding({**row, **peak}, crowd_rules)
        visit = best_time(days.get(row["zone"], []), local)
        zones.append(
            ZoneNowPublic(
                as_of=now,
                level=level,
                reason=reason,
                summary=sentence(level, local),
                crowd=crowd.level,
                crowd_summary=crowd.sentence,
                crowd_share=None if crowd.share is None else round(crowd.share, 2),
                peak_count=peak.get("peak_count"),
                best_time=visit.sentence,
                best_time_kind=visit.kind,
                best_from=visit.best_from,
                best_until=visit.best_until,
                **row,
            )
        )
    return _ZONES_NOW.dump_json(zones)


@router.get("/zones/now", response_model=list[ZoneNowPublic])
async def zones_now(council: CouncilPath, request: Request) -> Response:
    """How busy each town-centre zone is now: compared with the same hour of the week, in the
    zone's own terms (its busy hour), and the best time to visit today."""
    return await _cached(request, "zones/now", council, _zones_now, max_age=60)


def _forecasts(rows: list[dict[str, Any]], status: list[dict[str, Any]]) -> list[ForecastPublic]:
    """Forecasts per series from stored hours and what each series' forecast knew; a series
    whose forecast was withheld comes with no hours and the reason."""
    by_series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_series[row["series"]].append(row)
    facts = {f["series"]: f for f in status}
    out = []
    for series in sorted(set(by_series) | {n for n, f in facts.items() if f["unknown"]}):
        hours, fact = by_series.get(series, []), facts.get(series, {})
        kind, _, name = series.partition(":")
        ratio = fact.get("today_ratio")
        out.append(
            ForecastPublic(
                zone=name if kind == "zone" else "",
                counter=name if kind == "counter" else None,
                made_at=hours[0]["made_at"] if hours else fact["made_at"],
                hours=[ForecastHourPublic.model_validate(h) for h in hours],
                counted_until=fact.get("counted_until"),
                today_vs_usual=None if ratio is None else round(ratio, 2),
                unknown=fact.get("unknown"),
            )
        )
    return out


def _stored(conn: psycopg.Connection, council: str, series: str) -> list[ForecastPublic]:
    return _forecasts(
        stored_forecasts(conn, council, series), forecast_series_status(conn, council, series)
    )


def _zones_forecast(conn: psycopg.Connection, council: str, settings: ApiSettings) -> bytes:
    return _FORECASTS.dump_json(_stored(conn, council, "zone:%"))


@router.get("/zones/forecast", response_model=list[ForecastPublic])
async def zones_forecast(council: CouncilPath, request: Request) -> Response:
    """The next 48 hours of every zone: people expected per hour, an 80% interval, and what is
    usual for each hour. Empty until the first forecast refresh has run."""
    return await _cached(request, "zones/forecast", council, _zones_forecast, max_age=300)


def _zone_forecast(zone: str, conn: psycopg.Connection, council: str, _: ApiSettings) -> bytes:
    found = _stored(conn, council, f"zone:{zone}")
    if not found:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no forecast for zone {zone!r} (unknown zone, or none yet)"
        )
    return found[0].model_dump_json().encode()


@router.get("/zones/{zone}/forecast", response_model=ForecastPublic)
async def zone_forecast(
    council: CouncilPath,
    zone: Annotated[str, Path(max_length=80, description="Zone name, as in /zones/now.")],
    request: Request,
) -> Response:
    """The next 48 hours of one zone."""
    render = partial(_zone_forecast, zone)
    return await _cached(request, f"zones/{zone}/forecast", council, render, max_age=300)


def _counter_forecast(
    device_id: str, conn: psycopg.Connection, council: str, _: ApiSettings
) -> bytes:
    facts = counter_publication(conn, council, device_id)
    if facts is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no counter {device_id!r} in {council!r}")
    if facts["zone_counters"] < MIN_COUNTERS_PUBLIC and not facts["publish_counters"]:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"zone {facts['zone']!r} has fewer than {MIN_COUNTERS_PUBLIC} counters: only the "
            "zone's figures are published",
        )
    found = _stored(conn, council, f"counter:{device_id}")
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no forecast for {device_id!r} yet")
    return found[0].model_copy(update={"zone": facts["zone"]}).model_dump_json().encode()


@router.get(
    "/counters/{device_id}/forecast",
    response_model=ForecastPublic,
    responses={403: {"model": ErrorPublic}},
)
async def counter_forecast(
    council: CouncilPath,
    device_id: Annotated[str, Path(max_length=64)],
    request: Request,
) -> Response:
    """The next 48 hours of one counter, where its zone has at least three counters or the
    council has chosen to publish per-counter figures."""
    render = partial(_counter_forecast, device_id)
    return await _cached(request, f"counters/{device_id}/forecast", council, render, max_age=300)
