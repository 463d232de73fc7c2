"""Council isolation: no endpoint lets one council's token read or change another council's data,
and the database itself confines a council-scoped connection to that council's rows."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from psycopg import sql

from analytics.routing.io import save_plan, set_depot
from analytics.routing.schema import Plan, Stop, VehicleRoute
from analytics.routing.settings import RoutingSettings
from api.app import create_app
from api.auth import Scope, create_token
from api.settings import ApiSettings
from api.tenancy import TENANT_ROLE, scope_of, scope_to_council
from ingest.db.connect import refresh_rollups
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings

BBOX = "-1.0,52.0,0.0,54.0"
"""Covers both councils' data, so a bbox query without its council filter would show both."""


@dataclass(frozen=True)
class Town:
    """One council's test data: ids to put in paths and strings only its data contains."""

    slug: str
    bin: str
    counter: str
    zone: str
    plan_id: int
    pothole_id: int
    markers: tuple[str, ...]
    tokens: dict[Scope, str]


def _town(conn: psycopg.Connection, uid: str, name: str, lat: float, forecast: float) -> Town:
    """A council with bins, counters and their counts, forecasts, a plan, bump reports, potholes,
    roads and their coverage, and a crew, a highways and an admin token."""
    slug = f"{name.lower()}-{uid}"
    label = f"{name}{uid}"
    zone = f"{label}-zone"
    now = datetime.now(UTC)
    conn.execute("INSERT INTO council (slug, name) VALUES (%s, %s)", (slug, f"{label} Council"))
    bins = [f"{slug}-bin{i}" for i in range(2)]
    counters = [f"{slug}-ctr{i}" for i in range(3)]
    import_devices(
        conn,
        [
            *(
                DeviceCreate(
                    council=slug,
                    kind="bin",
                    device_id=b,
                    lat=lat + 0.001 * i,
                    lon=-0.72,
                    capacity_litres=240,
                    zone=zone,
                    address=f"{label} Street",
                )
                for i, b in enumerate(bins)
            ),
            *(
                DeviceCreate(
                    council=slug, kind="counter", device_id=c, lat=lat, lon=-0.72, zone=zone
                )
                for c in counters
            ),
        ],
    )
    cur = conn.cursor()
    cur.executemany(
        "INSERT INTO bin_fill (council, device_id, ts, fill_pct) VALUES (%s, %s, %s, %s)",
        [(slug, b, now - timedelta(hours=h), 30 + 10 * h) for b in bins for h in range(4)],
    )
    hour = now.replace(minute=0, second=0, microsecond=0)
    cur.executemany(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, %s, %s, %s, 50)",
        [
            (slug, c, zone, start, start + timedelta(minutes=15))
            for c in counters
            for start in (now - timedelta(minutes=20), hour - timedelta(hours=2))
        ],
    )
    cur.executemany(
        "INSERT INTO footfall_forecast (council, series, ts, forecast, lo80, hi80, usual, made_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (slug, series, hour + timedelta(hours=h), forecast, forecast, forecast, forecast, now)
            for series in (f"zone:{zone}", f"counter:{counters[0]}")
            for h in range(3)
        ],
    )
    set_depot(conn, slug, lat, -0.72)
    stop = Stop(
        device_id=bins[0],
        lat=lat,
        lon=-0.72,
        street=f"{label} Street",
        zone=zone,
        decision="must",
        reason=f"{label} bin is full",
        fill_now_pct=90,
        predicted_fill_pct=100,
        load_litres=200,
        arrival=now,
        distance_from_previous_m=10,
    )
    plan = save_plan(
        conn,
        Plan(
            council=slug,
            shift_date=now.date(),
            shift_start=now,
            shift_end=now + timedelta(hours=8),
            depot=(lat, -0.72),
            travel="haversine",
            routes=[
                VehicleRoute(
                    vehicle=1,
                    stops=[stop],
                    distance_m=20,
                    duration_s=600,
                    load_litres=200,
                    path=[(lat, -0.72), (lat, -0.72)],
                )
            ],
            skipped=[],
            left_out=[],
            created_at=now,
        ),
    )
    cur.executemany(
        "INSERT INTO bump_report (council, device_id, ts, lat, lon, speed_mps, peak_z_g) "
        "VALUES (%s, %s, %s, %s, -0.72, 10, 1.6)",
        [(slug, f"p1-{slug}-{i}", now - timedelta(hours=1), lat) for i in range(4)],
    )
    row = conn.execute(
        "INSERT INTO pothole (council, lat, lon, heading_deg, severity, confidence, reports, "
        "devices, first_seen, last_seen, state, state_changed_at) "
        "VALUES (%s, %s, -0.72, 90, 0.5, 0.9, 4, 4, %s, %s, 'confirmed', %s) "
        "RETURNING pothole_id",
        (slug, lat, now - timedelta(hours=1), now, now),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO road_segment (council, segment_id, name, road_class, lats, lons, length_m) "
        "VALUES (%s, 's1', %s, 'residential', %s, %s, 100)",
        (slug, f"{label} Road", [lat, lat + 0.0009], [-0.72, -0.72]),
    )
    conn.execute(
        "INSERT INTO road_coverage (council, segment_id, passes, phones, last_pass, refreshed_at) "
        "VALUES (%s, 's1', 12, 4, %s, %s)",
        (slug, now, now),
    )
    return Town(
        slug=slug,
        bin=bins[0],
        counter=counters[0],
        zone=zone,
        plan_id=int(plan.plan_id or 0),
        pothole_id=int(row[0]),
        markers=(label, f"{lat:.4f}", f"{forecast:g}"),
        tokens={s: create_token(conn, slug, s) for s in Scope},
    )


@pytest.fixture
def towns(conn: psycopg.Connection, uid: str) -> tuple[Town, Town]:
    """Councils A and B, with data and tokens of every scope; their places differ in latitude."""
    both = (
        _town(conn, uid, "Alpha", 52.6712, 111.25),
        _town(conn, uid, "Bravo", 53.6134, 777.75),
    )
    # On TimescaleDB another test's backfill may have materialised the rollups over these hours.
    now = datetime.now(UTC)
    refresh_rollups(conn, now - timedelta(hours=4), now + timedelta(hours=1))
    return both


@pytest.fixture
def app(database_url: str, mqtt_url: str) -> FastAPI:
    """The API with one pooled connection (so every request reuses it) and short plans."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    return create_app(
        ApiSettings(health_cache_s=0, pool_size=1), services, RoutingSettings(seconds=0.5)
    )


@pytest.fixture
def app_client(app: FastAPI) -> Iterator[TestClient]:
    """A client of ``app``, started."""
    with TestClient(app) as c:
        yield c


@dataclass(frozen=True)
class Endpoint:
    """A route as mounted: its full path and the route itself."""

    path: str
    route: APIRoute


def _council_routes(app: FastAPI) -> list[Endpoint]:
    """Every mounted route with a council in its path, across included routers."""
    found = [
        Endpoint(str(ctx.path), ctx.original_route)
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute) and "{council}" in str(ctx.path)
    ]
    assert len(found) >= 20, [e.path for e in found]
    return found


def _params(dependant: Dependant) -> tuple[list[Any], list[Any]]:
    """The path and query parameters of a route and of all its dependencies."""
    path, query = list(dependant.path_params), list(dependant.query_params)
    for sub in dependant.dependencies:
        sub_path, sub_query = _params(sub)
        path += sub_path
        query += sub_query
    return path, query


@dataclass(frozen=True)
class Call:
    """One request to a council route, with the path values it echoes back."""

    method: str
    url: str
    params: dict[str, str]
    body: dict[str, Any] | None
    echoed: tuple[str, ...]


def _call(endpoint: Endpoint, council: str, objects: Town) -> Call:
    """A request to ``route`` on ``council``'s path, naming ``objects``' plan, bins, zone and
    pothole; fails for a path or required parameter this test does not know yet."""
    route = endpoint.route
    values = {
        "council": council,
        "plan_id": str(objects.plan_id),
        "vehicle": "1",
        "device_id": objects.counter if "/counters/" in endpoint.path else objects.bin,
        "zone": objects.zone,
        "pothole_id": str(objects.pothole_id),
        "fmt": "csv",
        "network": "ttn",
    }
    path_params, query_params = _params(route.dependant)
    url = endpoint.path
    for p in path_params:
        assert p.name in values, f"add a value for path parameter {p.name} of {url}"
        url = url.replace("{" + p.name + "}", values[p.name])
    known = {
        "date": str(datetime.now(ZoneInfo("Europe/London")).date()),
        "bbox": BBOX,
        "zoom": "14",
    }
    params = {}
    for q in query_params:
        if q.field_info.is_required():
            assert q.alias in known, f"add a value for query parameter {q.alias} of {url}"
        if q.alias in known:
            params[q.alias] = known[q.alias]
    bodies: dict[str, dict[str, Any]] = {
        "PotholeActionCreate": {"action": "report"},
        "CollectionCreate": {},
        "ProfileChange": {"locale": "en-GB"},
    }
    body = None
    if route.body_field is not None:
        annotation = str(route.body_field.field_info.annotation)
        found = [v for k, v in bodies.items() if k in annotation]
        assert found, f"add a body for {endpoint.path}"
        body = found[0]
    (method,) = route.methods
    echoed = tuple(v for k, v in values.items() if "{" + k + "}" in endpoint.path)
    return Call(method, url, params, body, echoed)


def _send(client: TestClient, call: Call, token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = client.request(
        call.method, call.url, params=call.params, json=call.body, headers=headers
    )
    text = resp.text
    for value in call.echoed:  # an id the caller sent may come back in a 404's detail
        text = text.replace(value, "")
    return resp.status_code, text


def _leaks(text: str, town: Town) -> list[str]:
    return [m for m in town.markers if m in text]


def _state(conn: psycopg.Connection, town: Town) -> tuple[Any, ...]:
    """What a write to the council would change: its pothole, collections, plans and profile."""
    row = conn.execute(
        "SELECT (SELECT state FROM pothole WHERE pothole_id = %(p)s), "
        "(SELECT count(*) FROM bin_collection WHERE council = %(c)s), "
        "(SELECT count(*) FROM collection_plan WHERE council = %(c)s), "
        "(SELECT to_jsonb(c) FROM council c WHERE slug = %(c)s), "
        "(SELECT jsonb_agg(z) FROM council_zone z WHERE council = %(c)s), "
        "(SELECT to_jsonb(d) FROM collection_depot d WHERE council = %(c)s)",
        {"p": town.pothole_id, "c": town.slug},
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_no_route_serves_another_councils_data(
    app: FastAPI, app_client: TestClient, conn: psycopg.Connection, towns: tuple[Town, Town]
) -> None:
    """Every council route, called with council A's tokens on B's path or on A's own path with
    B's plan, bin, counter, zone and pothole ids, shows nothing of B and changes nothing of B;
    B's own admin token on B's path works and shows nothing of A."""
    a, b = towns
    before = _state(conn, b)
    problems = []
    for endpoint in _council_routes(app):
        tokenless, _ = _send(app_client, _call(endpoint, b.slug, b), None)
        public = tokenless not in (401, 403)
        # A's tokens on B's path: refused, unless the route is public (then B's public data is
        # the answer, but nothing of A's).
        cross = _call(endpoint, b.slug, b)
        for token in a.tokens.values():
            status, text = _send(app_client, cross, token)
            if not public and (status not in (401, 403, 404) or _leaks(text, b)):
                problems.append(f"{endpoint.path} A token on B: {status} {_leaks(text, b)}")
            if status >= 500 or _leaks(text, a):
                problems.append(f"{endpoint.path} A token on B shows A: {status} {_leaks(text, a)}")
        # A's admin token on A's path naming B's objects: nothing of B.
        status, text = _send(app_client, _call(endpoint, a.slug, b), a.tokens[Scope.ADMIN])
        if status >= 500 or _leaks(text, b):
            problems.append(f"{endpoint.path} A on A with B ids: {status} {_leaks(text, b)}")
    assert not problems, "\n".join(problems)
    assert _state(conn, b) == before, "a request of council A changed council B's data"
    showing_b = 0
    for endpoint in _council_routes(app):
        status, text = _send(app_client, _call(endpoint, b.slug, b), b.tokens[Scope.ADMIN])
        if status >= 500 or _leaks(text, a):
            problems.append(f"{endpoint.path} B on B: {status} {text[:200]} {_leaks(text, a)}")
        showing_b += bool(_leaks(text, b))
    assert not problems, "\n".join(problems)
    # The markers are in the answers, so their absence above means something.
    assert showing_b >= 15, showing_b


def test_every_council_route_is_known_to_this_test(app: FastAPI) -> None:
    """The enumeration above covers the crew, highways, residents' and open-data routes."""
    paths = {r.path for r in _council_routes(app)}
    assert "/v1/councils/{council}/bins/{device_id}/collected" in paths
    assert "/v1/councils/{council}/potholes/{pothole_id}/state" in paths
    assert "/councils/{council}" in paths
    assert "/v1/councils/{council}/profile" in paths


def test_only_the_councils_admin_changes_its_profile(
    app_client: TestClient, conn: psycopg.Connection, towns: tuple[Town, Town]
) -> None:
    """A's admin token cannot read or change B's profile; B's crew and highways tokens cannot
    either; B's admin can, and a bad field is a 422 that changes nothing."""
    a, b = towns
    url = f"/v1/councils/{b.slug}/profile"
    change = {"name": "Renamed", "zones": [{"zone": b.zone, "display_name": "Market Place"}]}
    before = _state(conn, b)
    for token in (a.tokens[Scope.ADMIN], b.tokens[Scope.CREW], b.tokens[Scope.HIGHWAYS]):
        headers = {"Authorization": f"Bearer {token}"}
        assert app_client.get(url, headers=headers).status_code == 403
        assert app_client.patch(url, json=change, headers=headers).status_code == 403
    admin = {"Authorization": f"Bearer {b.tokens[Scope.ADMIN]}"}
    for bad in ({"holiday_calendar": "xmas"}, {"timezone": "Mars/Base"}, {"bbox": [1, 2, 0, 3]}):
        resp = app_client.patch(url, json=bad, headers=admin)
        assert resp.status_code == 422, bad
        assert resp.json()["detail"]
    assert _state(conn, b) == before
    resp = app_client.patch(url, json=change, headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "Renamed"
    assert resp.json()["zones"] == [
        {"zone": b.zone, "display_name": "Market Place", "boundary": None}
    ]
    assert app_client.get(url, headers=admin).json()["name"] == "Renamed"
    assert (
        app_client.get(
            f"/v1/councils/{a.slug}/profile",
            headers={"Authorization": f"Bearer {a.tokens[Scope.ADMIN]}"},
        ).json()["name"]
        == f"{a.markers[0]} Council"
    )


def _council_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name = 'council' "
        "UNION SELECT 'council' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def test_database_confines_a_scoped_connection(
    conn: psycopg.Connection, towns: tuple[Town, Town]
) -> None:
    """Scoped to A, a query without any council filter counts only A's rows (or may not read
    the table at all), on every table and rollup with a council; writes to B are refused."""
    a, b = towns
    column = {"council": "slug"}
    expected = {}
    for table in _council_tables(conn):
        q = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
            sql.Identifier(table), sql.Identifier(column.get(table, "council"))
        )
        expected[table] = conn.execute(q, (a.slug,)).fetchone()
    assert len(expected) >= 20
    with conn.transaction():
        scope_to_council(conn, a.slug)
        assert scope_of(conn) == (TENANT_ROLE, a.slug)
        readable = 0
        for table, count in expected.items():
            try:
                with conn.transaction():
                    got = conn.execute(
                        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                    ).fetchone()
            except psycopg.errors.InsufficientPrivilege:
                continue
            readable += 1
            assert got == count, table
        assert readable >= 15
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SELECT count(*) FROM public.bin_fill")  # not the filtering view
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(
                "INSERT INTO bin_collection (device_id, council, collected_at) "
                "VALUES (%s, %s, now())",
                (b.bin, b.slug),
            )
        cur = conn.execute(
            "UPDATE pothole SET state = 'repaired' WHERE pothole_id = %s", (b.pothole_id,)
        )
        assert cur.rowcount == 0
        cur = conn.execute(
            "UPDATE collection_plan SET shift_date = shift_date WHERE plan_id = %s", (b.plan_id,)
        )
        assert cur.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SELECT count(*) FROM api_token")
        row = conn.execute(
            "SELECT council FROM api_token_lookup(%s)", (b.tokens[Scope.CREW][4:16],)
        )
        assert row.fetchone() == (b.slug,)  # a token's id alone, so a 403 can name the council
    assert scope_of(conn)[1] is None


def test_relations_the_tenant_can_touch_have_policies(conn: psycopg.Connection) -> None:
    """Every table the tenant role may read or write has row-level security with a policy for
    it; every other relation with a council is closed to it (the streams and rollups it reads
    through the filtering views of its own schema)."""
    rows = conn.execute(
        """
        SELECT c.relname, c.relkind, c.relrowsecurity,
               EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid
                       AND %(role)s::regrole = ANY(p.polroles)),
               has_table_privilege(%(role)s, c.oid, 'SELECT, INSERT, UPDATE, DELETE')
        FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
        """,
        {"role": TENANT_ROLE},
    ).fetchall()
    open_without_policy = [r[0] for r in rows if r[4] and not (r[2] and r[3])]
    assert not open_without_policy
    views = conn.execute(
        "SELECT table_name FROM information_schema.views WHERE table_schema = %s ORDER BY 1",
        (TENANT_ROLE,),
    ).fetchall()
    assert [v[0] for v in views] == [
        "bin_fill",
        "bump_report",
        "footfall_count",
        "footfall_hourly_device",
        "footfall_hourly_zone",
    ]


def test_rollups_are_filtered_for_the_tenant(
    conn: psycopg.Connection, towns: tuple[Town, Town]
) -> None:
    """Scoped to B, the hourly rollups and raw streams show B's zone only."""
    _, b = towns
    with conn.transaction():
        scope_to_council(conn, b.slug)
        zones = conn.execute("SELECT DISTINCT zone FROM footfall_hourly_zone").fetchall()
        councils = conn.execute(
            "SELECT DISTINCT council FROM footfall_count UNION SELECT council FROM bin_fill "
            "UNION SELECT council FROM bump_report UNION SELECT council FROM footfall_hourly_device"
        ).fetchall()
    assert zones == [(b.zone,)]
    assert councils == [(b.slug,)]


def test_scope_never_outlives_the_request(
    app: FastAPI, app_client: TestClient, towns: tuple[Town, Town]
) -> None:
    """After council requests that succeed, fail or write, the pooled connection is back to the
    owner with no council, and routes without a council see every council."""
    a, b = towns
    pool = app.state.pool
    with pool.connection() as pooled:
        pid = pooled.info.backend_pid
        owner = scope_of(pooled)
    assert owner[1] is None and owner[0] != TENANT_ROLE
    crew = {"Authorization": f"Bearer {b.tokens[Scope.CREW]}"}
    requests = [
        ("GET", f"/v1/councils/{b.slug}/bins/latest", crew, 200),
        ("POST", f"/v1/councils/{b.slug}/bins/{b.bin}/collected", crew, 201),
        ("GET", f"/v1/councils/{b.slug}/routes/999999999", crew, 404),
        ("GET", f"/v1/councils/{a.slug}/bins/latest", crew, 403),
        ("GET", f"/v1/councils/{b.slug}/zones/now", {}, 200),
    ]
    for method, url, headers, expected in requests:
        assert app_client.request(method, url, headers=headers).status_code == expected, url
        with pool.connection() as pooled:
            assert pooled.info.backend_pid == pid  # the same connection every time
            assert scope_of(pooled) == owner, url
    page = app_client.get("/")
    assert page.status_code == 200
    assert all(t.markers[0] in page.text for t in towns)
