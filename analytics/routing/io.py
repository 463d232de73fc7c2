"""The routing package's database access: bins and their readings in, plans and collections out.

Every query is here, named; the planner itself is pure.
"""

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

import psycopg
from psycopg.types.json import Jsonb

from analytics.places import street_namer
from analytics.routing.errors import PlanError
from analytics.routing.fill import FillModel, FillReading, council_prior, fit_fill_model
from analytics.routing.schema import Plan
from analytics.routing.select import BinState
from ingest.db.council_profile import DepotPlace
from ingest.db.council_profile import set_depot as store_depot
from ingest.db.councils import UnknownCouncil, council_timezone

HISTORY = timedelta(days=42)


def plan_timezone(conn: psycopg.Connection, council: str) -> str:
    """The council's time zone; :class:`PlanError` (the planner's own error) for an unknown
    council."""
    try:
        return council_timezone(conn, council)
    except UnknownCouncil as exc:
        raise PlanError(str(exc)) from exc


def bin_states(
    conn: psycopg.Connection, council: str, now: datetime, history: timedelta = HISTORY
) -> list[BinState]:
    """Every bin of the council with a fill model fitted on its readings up to ``now``.

    Bins with little history lean on the council's typical hour-of-week profile.
    """
    tz = plan_timezone(conn, council)
    bins = conn.execute(
        "SELECT device_id, lat, lon, capacity_litres, zone, address FROM device "
        "WHERE council = %s AND kind = 'bin' ORDER BY device_id",
        (council,),
    ).fetchall()
    readings: dict[str, list[FillReading]] = defaultdict(list)
    cursor = conn.cursor(binary=True)
    cursor.execute(
        "SELECT device_id, ts, fill_pct, flags FROM bin_fill "
        "WHERE council = %s AND ts > %s AND ts <= %s ORDER BY device_id, ts",
        (council, now - history, now),
    )
    for device_id, ts, fill, flags in cursor:
        readings[device_id].append(FillReading(ts, float(fill), tuple(flags)))
    collected: dict[str, list[datetime]] = defaultdict(list)
    for device_id, at in conn.execute(
        "SELECT device_id, collected_at FROM bin_collection "
        "WHERE council = %s AND collected_at > %s AND collected_at <= %s ORDER BY collected_at",
        (council, now - history, now),
    ):
        collected[device_id].append(at)

    def fit(device_id: str, prior: tuple[float, ...] | None) -> FillModel | None:
        if not readings[device_id] and not collected[device_id]:
            return None
        return fit_fill_model(
            device_id,
            readings[device_id],
            now,
            tz=tz,
            collections=collected[device_id],
            prior=prior,
        )

    models = {row[0]: fit(row[0], None) for row in bins}
    fitted = [m for m in models.values() if m is not None]
    try:
        prior = council_prior(fitted)
    except ValueError:  # no bin has a week of history yet: each stands on its own
        prior = None
    if prior is not None:
        models = {k: fit(k, prior) for k in models}
    namer = street_namer(conn, council)
    return [
        BinState(
            device_id=device_id,
            lat=lat,
            lon=lon,
            capacity_litres=capacity,
            model=models[device_id],
            zone=zone,
            street=address or namer.describe(lat, lon),  # the registry's address wins
        )
        for device_id, lat, lon, capacity, zone, address in bins
    ]


def depot_of(conn: psycopg.Connection, council: str) -> tuple[float, float] | None:
    """The council's registered depot, if any."""
    row = conn.execute(
        "SELECT lat, lon FROM collection_depot WHERE council = %s", (council,)
    ).fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


def set_depot(
    conn: psycopg.Connection, council: str, lat: float, lon: float, name: str = "depot"
) -> None:
    """Register (or move) the council's depot."""
    with conn.transaction():
        store_depot(conn, council, DepotPlace(name=name, lat=lat, lon=lon))


def windows_of(conn: psycopg.Connection, council: str) -> dict[str, tuple[time, time]]:
    """Zones whose bins must be emptied within local times."""
    return {
        zone: (early, late)
        for zone, early, late in conn.execute(
            "SELECT zone, earliest, latest FROM collection_window WHERE council = %s", (council,)
        )
    }


def set_windows(
    conn: psycopg.Connection, council: str, windows: Mapping[str, tuple[time, time]]
) -> None:
    """Replace the council's collection windows."""
    with conn.transaction():
        conn.execute("DELETE FROM collection_window WHERE council = %s", (council,))
        conn.cursor().executemany(
            "INSERT INTO collection_window (council, zone, earliest, latest) "
            "VALUES (%s, %s, %s, %s)",
            [(council, zone, early, late) for zone, (early, late) in windows.items()],
        )


def save_plan(conn: psycopg.Connection, plan: Plan) -> Plan:
    """Store the plan; returns it with its ``plan_id``."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO collection_plan (council, shift_date, plan) VALUES (%s, %s, %s) "
            "RETURNING plan_id",
            (plan.council, plan.shift_date, Jsonb(plan.model_dump(mode="json"))),
        ).fetchone()
        assert row is not None
        stored = plan.model_copy(update={"plan_id": int(row[0])})
        conn.execute(
            "UPDATE collection_plan SET plan = %s WHERE plan_id = %s",
            (Jsonb(stored.model_dump(mode="json")), stored.plan_id),
        )
    return stored


def load_plan(
    conn: psycopg.Connection,
    council: str,
    *,
    plan_id: int | None = None,
    shift_date: date | None = None,
) -> Plan | None:
    """A stored plan by id, or the latest one made for a shift date."""
    if plan_id is not None:
        row = conn.execute(
            "SELECT plan FROM collection_plan WHERE council = %s AND plan_id = %s",
            (council, plan_id),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT plan FROM collection_plan WHERE council = %s AND shift_date = %s "
            "ORDER BY created_at DESC, plan_id DESC LIMIT 1",
            (council, shift_date),
        ).fetchone()
    return None if row is None else Plan.model_validate(row[0])


def collected_in_plan(conn: psycopg.Connection, plan: Plan) -> set[str]:
    """Bins of the plan that crews have marked collected since the plan's shift began."""
    ids = [s.device_id for r in plan.routes for s in r.stops]
    rows = conn.execute(
        "SELECT DISTINCT device_id FROM bin_collection "
        "WHERE council = %s AND device_id = ANY(%s) AND collected_at >= %s",
        (plan.council, ids, plan.shift_start),
    ).fetchall()
    return {r[0] for r in rows}


def mark_collected(
    conn: psycopg.Connection,
    council: str,
    device_id: str,
    at: datetime,
    plan_id: int | None = None,
) -> bool:
    """Record that a crew emptied a bin; False if the bin is not one of the council's."""
    with conn.transaction():
        known = conn.execute(
            "SELECT 1 FROM device WHERE device_id = %s AND council = %s AND kind = 'bin'",
            (device_id, council),
        ).fetchone()
        if known is None:
            return False
        if (
            plan_id is not None
            and conn.execute(
                "SELECT 1 FROM collection_plan WHERE plan_id = %s AND council = %s",
                (plan_id, council),
            ).fetchone()
            is None
        ):
            plan_id = None
        conn.execute(
            "INSERT INTO bin_collection (device_id, council, collected_at, plan_id) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (device_id, collected_at) DO NOTHING",
            (device_id, council, at, plan_id),
        )
    return True
