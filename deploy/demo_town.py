"""What the demo puts in its database before the services start: the synthetic town, tokens,
the next collection round, road segments, and a week of phones' trips."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from analytics.geo.roads import RoadNetwork
from analytics.potholes.coverage import segments_from_network
from analytics.potholes.coverage_store import refresh_coverage, store_segments
from analytics.potholes.store import refresh_potholes
from analytics.routing.errors import RoutingError
from analytics.routing.io import set_depot, set_windows
from analytics.routing.settings import RoutingSettings
from analytics.routing.shifts import next_working_day, plan_day, shift_start
from api.auth import Scope, create_token
from ingest.db.connect import connect
from ingest.db.councils import council_timezone, set_drives_enabled
from ingest.db.registry import write_registry_csv
from ingest.errors import first_line
from simulators.backfill import backfill_phones
from simulators.history import register_town
from simulators.world import World, build_world

log = logging.getLogger(__name__)

DEMO_COUNCIL = "rutland"
PHONE_HISTORY_DAYS, PHONE_HISTORY_PHONES = 7, 12
"""The demo's phone history: a week of one trip a day by each of 12 phones."""


@dataclass(frozen=True)
class DemoTown:
    """The seeded town and what the demo prints about it."""

    world: World
    crew_token: str
    highways_token: str
    shift_day: date


def seed_town(db_url: str, prefix: str, data_dir: Path, history_days: int, seed: int) -> DemoTown:
    """Register the town's devices with ``history_days`` of history, write the registry CSV,
    create demo tokens, plan the next round, store the road segments and take drives."""
    world = build_world(DEMO_COUNCIL, seed=seed, bins=24, counters=6)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "registry.csv").write_text(write_registry_csv(world.town.devices()))
    with connect(db_url) as conn:
        register_town(conn, world.town, prefix, history_days=history_days, seed=seed)
        crew = create_token(conn, DEMO_COUNCIL, Scope.CREW, "demo")
        highways = create_token(conn, DEMO_COUNCIL, Scope.HIGHWAYS, "demo")
        shift_day = plan_rounds(conn, world.network)
        store_segments(conn, DEMO_COUNCIL, segments_from_network(world.network))
        set_drives_enabled(conn, DEMO_COUNCIL, True)  # the drive app takes residents' drives
    return DemoTown(world, crew, highways, shift_day)


def plan_rounds(conn: psycopg.Connection, network: RoadNetwork) -> date:
    """Register the demo depot and windows, and plan the next shift on the town's roads."""
    depot = network.nodes[network.depot]
    set_depot(conn, DEMO_COUNCIL, depot.lat, depot.lon, "demo depot")
    zones = {z.name for z in network.zones}
    if "high-street" in zones:
        set_windows(conn, DEMO_COUNCIL, {"high-street": (dt_time(7, 0), dt_time(10, 0))})
    settings = RoutingSettings(seconds=2)
    local_now = datetime.now(ZoneInfo(council_timezone(conn, DEMO_COUNCIL)))
    day = local_now.date()
    if local_now >= shift_start(day, str(local_now.tzinfo), settings):
        day = next_working_day(day, settings)
    try:
        plan = plan_day(conn, DEMO_COUNCIL, day, settings, network=network)
    except RoutingError as exc:
        log.warning("no collection plan: %s", exc)
        return day
    log.info(
        "planned %s: %d bins on %d route(s), %.1f km; %d left for another day",
        day,
        sum(len(r.stops) for r in plan.routes),
        len(plan.routes),
        plan.distance_m / 1000,
        len(plan.skipped),
    )
    return day


def phone_history(db_url: str, world: World, prefix: str, seed: int) -> None:
    """A week of phones' trips, then potholes and coverage refreshed from them (run in the
    background: the API need not wait for it)."""
    try:
        with connect(db_url) as conn:
            if conn.execute("SELECT 1 FROM bump_report LIMIT 1").fetchone() is not None:
                return  # a restarted demo keeps its history
            start = datetime.now(UTC).date() - timedelta(days=PHONE_HISTORY_DAYS)
            backfill_phones(
                conn,
                world.town,
                world.network,
                world.features,
                start=start,
                days=PHONE_HISTORY_DAYS,
                seed=seed,
                prefix=prefix,
                phones=PHONE_HISTORY_PHONES,
            )
            refresh_potholes(conn, DEMO_COUNCIL)
            counts = refresh_coverage(conn, DEMO_COUNCIL)
        log.info("phone history written; %d road segments driven", counts["passed"])
    except psycopg.Error as exc:
        log.warning("could not write phone history: %s", first_line(exc))
