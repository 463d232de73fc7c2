"""What the demo puts in its database before the services start: the town (Oakham's real
streets, or a generated one), tokens, the next collection round, road segments, and a week of
phones' trips."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from analytics.geo.osm import OSM_ATTRIBUTION
from analytics.geo.roads import RoadNetwork
from analytics.potholes.coverage import segments_from_network
from analytics.potholes.coverage_store import refresh_coverage, store_segments
from analytics.potholes.store import refresh_potholes
from analytics.routing.errors import RoutingError
from analytics.routing.io import set_windows
from analytics.routing.settings import RoutingSettings
from analytics.routing.shifts import next_working_day, plan_day, shift_start
from api.auth import Scope, create_token
from ingest.db.connect import connect
from ingest.db.council_profile import DepotPlace, ProfileChange, ZoneName, update_profile
from ingest.db.councils import council_timezone
from ingest.db.registry import write_registry_csv
from ingest.errors import first_line
from simulators.backfill import backfill_phones
from simulators.history import register_town
from simulators.towns import OAKHAM
from simulators.world import World, build_world

log = logging.getLogger(__name__)

DEMO_COUNCIL = "rutland"
DEMO_TOWN = OAKHAM
"""The demo's real town: Rutland's county town, from a shipped OpenStreetMap extract."""
PHONE_HISTORY_DAYS, PHONE_HISTORY_PHONES = 7, 12
"""The demo's phone history: a week of one trip a day by each of 12 phones."""


@dataclass(frozen=True)
class DemoTown:
    """The seeded town and what the demo prints about it."""

    world: World
    osm: Path | None
    crew_token: str
    highways_token: str
    shift_day: date

    @property
    def place(self) -> str:
        """Where the town is, to tell the person at the terminal."""
        return "a generated town" if self.osm is None else DEMO_TOWN.name


def seed_town(
    db_url: str, prefix: str, data_dir: Path, history_days: int, seed: int, generated: bool
) -> DemoTown:
    """Register the town's devices with ``history_days`` of history, write the registry CSV,
    create demo tokens, plan the next round, store the road segments and take drives.

    The roads are Oakham's (:data:`DEMO_TOWN`), or the town generator's when ``generated``.
    """
    osm = None if generated else DEMO_TOWN.path
    world = build_world(DEMO_COUNCIL, seed=seed, bins=24, counters=6, osm=osm)
    log.info(
        "demo town: %s, %d road edges, %d zones",
        "generated" if osm is None else DEMO_TOWN.name,
        len(world.network.edges),
        len(world.network.zones),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "registry.csv").write_text(write_registry_csv(world.town.devices()))
    with connect(db_url) as conn:
        register_town(conn, world.town, prefix, history_days=history_days, seed=seed)
        update_profile(conn, DEMO_COUNCIL, demo_profile(world.network, generated))
        crew = create_token(conn, DEMO_COUNCIL, Scope.CREW, "demo")
        highways = create_token(conn, DEMO_COUNCIL, Scope.HIGHWAYS, "demo")
        # The roads first: the round's stops are named after them.
        credit = None if osm is None else OSM_ATTRIBUTION
        store_segments(conn, DEMO_COUNCIL, segments_from_network(world.network), credit)
        shift_day = plan_rounds(conn, world.network)
    return DemoTown(world, osm, crew, highways, shift_day)


def demo_profile(network: RoadNetwork, generated: bool) -> ProfileChange:
    """The demo council's profile: Rutland's name and calendar, the town's box, its depot and
    its zones' names; residents' drives are taken (the drive app)."""
    names = dict(DEMO_TOWN.zone_names)
    lats, lons = [n.lat for n in network.nodes], [n.lon for n in network.nodes]
    depot = network.nodes[network.depot]
    where = DEMO_TOWN.depot_street if not generated and DEMO_TOWN.depot_street else "the town"
    return ProfileChange(
        name="Rutland County Council",
        timezone="Europe/London",
        holiday_calendar="england",
        locale="en-GB",
        bbox=(min(lons), min(lats), max(lons), max(lats)),
        depot=DepotPlace(name=f"Depot, {where}", lat=depot.lat, lon=depot.lon),
        zones=[
            ZoneName(zone=z.name, display_name=names.get(z.name, z.name.replace("-", " ").title()))
            for z in network.zones
        ],
        drives_enabled=True,
    )


def plan_rounds(conn: psycopg.Connection, network: RoadNetwork) -> date:
    """Register the demo's windows and plan the next shift on the town's roads (the depot is
    the profile's)."""
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
