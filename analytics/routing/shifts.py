"""A council's shift on a date: when it runs, what it may use, and its plan made and stored."""

import functools
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from analytics.geo.osm import load_osm
from analytics.geo.roads import RoadNetwork
from analytics.routing import io
from analytics.routing.errors import PlanError
from analytics.routing.planner import Shift, TravelFn, make_plan
from analytics.routing.schema import Plan
from analytics.routing.select import SelectionParams
from analytics.routing.settings import RoutingSettings
from analytics.routing.travel import TravelMatrix, travel_matrix
from analytics.routing.vrp import Fleet

log = logging.getLogger(__name__)


def shift_start(day: date, tz: str, settings: RoutingSettings) -> datetime:
    """Local start of the shift on ``day``."""
    hour, minute = (int(p) for p in settings.shift_start.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz))


def next_working_day(day: date, settings: RoutingSettings) -> date:
    """The next day crews work after ``day``."""
    following = day + timedelta(days=1)
    if not settings.sundays and following.weekday() == 6:
        following += timedelta(days=1)
    return following


def make_shift(day: date, tz: str, settings: RoutingSettings, **windows_kw: object) -> Shift:
    """The :class:`Shift` of ``day`` from the settings (windows passed through)."""
    fleet = Fleet(
        vehicles=settings.vehicles,
        capacity_litres=settings.capacity_litres,
        shift_s=round(settings.shift_hours * 3600),
        service_s=settings.service_s,
        trips=settings.trips,
    )
    start = shift_start(day, tz, settings)
    following = shift_start(next_working_day(day, settings), tz, settings)
    return Shift(start=start, next_opportunity=following, fleet=fleet, **windows_kw)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=2)
def _osm_network(path: Path) -> RoadNetwork:
    log.info("loading roads from %s", path)
    return load_osm(path)


def travel_source(settings: RoutingSettings, network: RoadNetwork | None = None) -> TravelFn:
    """Travel times: OSRM when configured, else the roads (a network or an OSM extract), else
    great-circle distance times circuity."""
    if network is None and settings.osrm_url is None and settings.osm_file is not None:
        network = _osm_network(settings.osm_file)

    def travel(points: Sequence[tuple[float, float]]) -> TravelMatrix:
        return travel_matrix(list(points), network=network, osrm_url=settings.osrm_url)

    return travel


def plan_day(
    conn: psycopg.Connection,
    council: str,
    day: date,
    settings: RoutingSettings,
    *,
    depot: tuple[float, float] | None = None,
    network: RoadNetwork | None = None,
    now: datetime | None = None,
    compare: bool = True,
    save: bool = True,
    seed: int = 1,
) -> Plan:
    """Plan the council's shift on ``day`` from what the database knows at the shift's start
    (or ``now``, if earlier), and store it."""
    tz = io.plan_timezone(conn, council)
    depot = depot or io.depot_of(conn, council)
    if depot is None:
        raise PlanError(
            f"council {council!r} has no depot: set one with "
            "'smartstreets routes depot --council C --lat LAT --lon LON'"
        )
    shift = make_shift(day, tz, settings, windows=io.windows_of(conn, council))
    # Plan from what is known now (a shift tomorrow) or at the shift's start (a past shift).
    as_of = min(shift.start, now or datetime.now(UTC))
    bins = io.bin_states(conn, council, as_of)
    params = SelectionParams(threshold_pct=settings.threshold_pct)
    plan = make_plan(
        council,
        bins,
        depot,
        shift,
        travel_source(settings, network),
        params,
        seconds=settings.seconds,
        seed=seed,
        compare=compare,
    )
    return io.save_plan(conn, plan) if save else plan
