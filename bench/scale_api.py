"""The API part of ``bench/scale.py``: every GET endpoint of the app (from its OpenAPI document,
plus the pages it leaves out of it), timed for a council with sequential keep-alive requests,
and the public endpoints' throughput under concurrent load (``bench/api_load.py``)."""

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import psycopg

from api.auth import Scope, create_token
from bench.api_load import Tally, load

PAGES = (
    ("/", ()),
    ("/crew", ()),
    ("/councils/{council}", ()),
    ("/highways", ()),
    ("/drive", ("council",)),
)
"""GET routes the app keeps out of its OpenAPI document (pages, ``include_in_schema=False``),
without their static assets."""
PUBLIC_P99_MS, PRIVATE_P99_MS = 50.0, 200.0
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    """A GET route of the app: its path template and whether it needs a token."""

    path: str
    private: bool
    query: tuple[str, ...] = ()
    """Its required query parameters."""

    @property
    def target_ms(self) -> float:
        return PRIVATE_P99_MS if self.private else PUBLIC_P99_MS


def endpoints(base: str) -> tuple[list[Endpoint], list[str]]:
    """The app's GET routes, from its own OpenAPI document and :data:`PAGES`; and the other
    methods' routes, which the bench does not time (they write)."""
    doc = httpx.get(f"{base}/openapi.json", timeout=30).json()
    found, writes = [], []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method != "get":
                writes.append(f"{method.upper()} {path}")
                continue
            query = tuple(
                q["name"] for q in op.get("parameters", []) if q["in"] == "query" and q["required"]
            )
            found.append(Endpoint(path, bool(op.get("security")), query))
    known = {e.path for e in found}
    pages = [Endpoint(p, False, q) for p, q in PAGES if p not in known]
    return found + pages, writes


@dataclass(frozen=True)
class Council:
    """What the bench fills into a council's paths."""

    slug: str
    token: str
    values: dict[str, str]


def prepare(conn: psycopg.Connection, base: str, slug: str) -> Council:
    """An admin token for ``slug`` (admin may call every crew and highways route), today's
    plan (planned through ``POST …/routes``, so the plan routes have one) and the values of
    the path parameters."""
    token = create_token(conn, slug, Scope.ADMIN, "bench-scale")
    conn.commit()
    row = conn.execute(
        "SELECT min(zone), min(device_id) FROM device WHERE council = %s AND kind = 'counter'",
        (slug,),
    ).fetchone()
    zone, counter = (row[0], row[1]) if row else (None, None)
    box = conn.execute(
        "SELECT min(lon) - 0.02, min(lat) - 0.02, max(lon) + 0.02, max(lat) + 0.02 FROM device "
        "WHERE council = %s",
        (slug,),
    ).fetchone()
    values = {"council": slug, "fmt": "csv", "zone": str(zone), "device_id": str(counter)}
    values["date"] = datetime.now(UTC).date().isoformat()
    values["bbox"] = ",".join(f"{v:.5f}" for v in box) if box and box[0] is not None else ""
    values["zoom"] = "14"
    planned = httpx.post(
        f"{base}/v1/councils/{slug}/routes",
        params={"date": datetime.now(UTC).date().isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=300,
    )
    if planned.status_code not in (200, 201):
        print(
            f"no plan for {slug}, the plan routes go untimed: {planned.status_code} {planned.text}"
        )
    else:
        plan = planned.json()
        values["plan_id"] = str(plan.get("plan_id"))
        routes = plan.get("routes") or [{"vehicle": 1}]
        values["vehicle"] = str(routes[0]["vehicle"])
    return Council(slug, token, values)


def url_of(endpoint: Endpoint, council: Council) -> str | None:
    """The endpoint's path for ``council``, or ``None`` if a parameter has no value."""
    names = [*_PARAM.findall(endpoint.path), *endpoint.query]
    if any(not council.values.get(n) for n in names):
        return None
    path = _PARAM.sub(lambda m: council.values[m.group(1)], endpoint.path)
    if endpoint.query:
        path += "?" + urlencode({q: council.values[q] for q in endpoint.query})
    return path


@dataclass
class Timing:
    """One endpoint's latencies (ms) for a council, and the statuses it answered."""

    first_ms: float | None = None
    warm: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)


def pct(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _get(client: httpx.Client, path: str, token: str | None) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    return (time.perf_counter() - started) * 1000, response.status_code


def time_endpoints(
    base: str,
    pairs: Sequence[tuple[Endpoint, Council, str]],
    requests: int,
    timings: dict[tuple[str, str], Timing],
    cold: bool,
) -> None:
    """``requests`` sequential requests to each endpoint. On a fresh API process with its
    public cache off (``cold``) every request is timed into ``Timing.cold``; otherwise the
    first one (a fresh process's first) goes to ``first_ms`` and the rest, warm, to ``warm``."""
    with httpx.Client(base_url=base, timeout=120) as client:
        for endpoint, council, path in pairs:
            timing = timings.setdefault((endpoint.path, council.slug), Timing())
            token = council.token if endpoint.private else None
            for i in range(requests + (0 if cold else 1)):
                ms, status = _get(client, path, token)
                timing.statuses.add(status)
                if cold:
                    timing.cold.append(ms)
                elif i == 0:
                    timing.first_ms = ms
                else:
                    timing.warm.append(ms)


def throughput(
    host: str, port: int, paths: Sequence[str], connections: int, seconds: float
) -> tuple[Tally, float]:
    """Keep ``connections`` busy on ``paths`` (after a warm-up); all their answers together and
    the wall time."""
    load(host, port, paths, connections, min(3.0, seconds))
    tallies, wall = load(host, port, paths, connections, seconds)
    total = Tally(
        [x for t in tallies for x in t.latencies],
        sum(t.errors for t in tallies),
    )
    for t in tallies:
        total.statuses.update(t.statuses)
    return total, wall
