"""Rate limits shared by API processes through PostgreSQL: one burst across all of them, the
refill rate across all of them, leases instead of a statement a request, and failing open to
the per-process limit when the database is away."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from api.shared_limiter import RETRY_S, SharedBuckets, SharedRateLimiter
from deploy.embedded import free_port
from ingest.db.connect import APPLICATION_NAME
from tests.helpers import wait_for
from tests.services import scratch_database

REPO = Path(__file__).resolve().parents[2]


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _spend_in_turn(limiters: list[SharedRateLimiter], client: str, rounds: int) -> list[int]:
    """Requests admitted by each limiter, asking each in turn ``rounds`` times."""
    admitted = [0] * len(limiters)
    for _ in range(rounds):
        for i, limiter in enumerate(limiters):
            admitted[i] += await limiter.spend(client) == 0
    return admitted


def test_two_processes_share_one_burst_and_its_refill(
    database_url: str, conn: psycopg.Connection, uid: str
) -> None:
    """Two limiters on their own pools (as two processes) together admit ``burst`` requests at
    once, taking leases rather than a statement a request; after the bucket has refilled for
    two minutes at one a minute, they together admit exactly two more."""
    clock = Clock()

    async def run() -> None:
        stores = [SharedBuckets(database_url, clock), SharedBuckets(database_url, clock)]
        limiters = [SharedRateLimiter(f"t-{uid}", 1, 40, s, clock, lease=4) for s in stores]
        try:
            admitted = await _spend_in_turn(limiters, "192.0.2.1", 50)
            assert sum(admitted) == 40 and min(admitted) > 0, admitted
            waits = [await limiter.spend("192.0.2.1") for limiter in limiters]
            assert all(0 < w <= 60 for w in waits), waits
            # 40 tokens in leases of 4, and a refusal or two each (remembered, not asked again).
            assert sum(s.statements for s in stores) <= 40 // limiters[0].lease + 4
            # Two minutes on: the processes' clocks, and the server's as the bucket sees it.
            clock.now += 120
            conn.execute(
                "UPDATE rate_bucket SET updated = updated - interval '120 s' WHERE bucket = %s",
                (f"t-{uid}:192.0.2.1",),
            )
            assert sum(await _spend_in_turn(limiters, "192.0.2.1", 10)) == 2
            # Another client has a bucket of its own.
            assert sum(await _spend_in_turn(limiters, "192.0.2.2", 30)) == 40
        finally:
            for store in stores:
                await store.close()

    asyncio.run(run())


def test_concurrent_requests_of_one_client_share_a_lease(database_url: str, uid: str) -> None:
    """Requests of one client arriving together wait for one lease instead of each asking the
    database, and together never get more than the burst."""

    async def run() -> None:
        store = SharedBuckets(database_url)
        limiter = SharedRateLimiter(f"c-{uid}", 1, 30, store, lease=3)
        try:
            waits = await asyncio.gather(*(limiter.spend("192.0.2.9") for _ in range(50)))
            assert sum(w == 0 for w in waits) == 30
            assert store.statements <= 30 // limiter.lease + 2
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.parametrize(
    ("per_min", "burst", "lease"), [(600, 120, 5), (6000, 120, 12), (30, 30, 1), (60, 5, 1)]
)
def test_lease_is_a_tenth_of_the_burst_or_half_a_second_of_refill(
    database_url: str, per_min: int, burst: int, lease: int
) -> None:
    """Leases are small where tokens are scarce (few lapse unspent) and larger for big limits."""
    store = SharedBuckets(database_url)
    assert SharedRateLimiter("size", per_min, burst, store).lease == lease


def test_unreachable_database_falls_back_to_the_process_limit(uid: str) -> None:
    """With no database to share through, a limiter admits the burst of its own process, then
    refuses; it does not refuse everyone, and it does not ask the database again at once."""
    clock = Clock()

    async def run() -> None:
        store = SharedBuckets(f"postgresql://postgres@127.0.0.1:{free_port()}/none", clock)
        limiter = SharedRateLimiter(f"f-{uid}", 1, 5, store, clock)
        try:
            waits = [await limiter.spend("192.0.2.3") for _ in range(8)]
            assert [w == 0 for w in waits] == [True] * 5 + [False] * 3
            assert store.down and store.statements == 0
        finally:
            await store.close()

    asyncio.run(run())


def test_limits_fail_open_while_the_database_is_away_and_share_again_after(
    database_server_url: str, conn: psycopg.Connection, uid: str
) -> None:
    """A database that stops taking connections turns the shared limit into the process's own
    (still a limit: the burst, then refusals, and no statement meanwhile), and once it is back
    the limit is shared again."""
    clock = Clock()

    def allow(name: str, on: bool) -> None:
        ident = sql.Identifier(name)
        conn.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(ident, sql.Literal(on))
        )
        if not on:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )

    async def run(url: str) -> None:
        name = str(conninfo_to_dict(url)["dbname"])
        store = SharedBuckets(url, clock)
        limiter = SharedRateLimiter(f"o-{uid}", 1, 3, store, clock)
        try:
            assert await limiter.spend("192.0.2.4") == 0 and store.statements == 1
            allow(name, False)
            clock.now += 2  # past the lease
            waits = [await limiter.spend("192.0.2.5") for _ in range(5)]
            assert [w == 0 for w in waits] == [True] * 3 + [False] * 2
            assert store.down and store.statements == 1
            allow(name, True)
            # Tried again every RETRY_S; the first try may still meet a connection of the pool
            # that the database closed, which the pool then drops.
            for _ in range(3):
                clock.now += RETRY_S
                assert await limiter.spend("192.0.2.6") == 0
                if not store.down:
                    break
            assert not store.down and store.statements == 2
        finally:
            allow(name, True)
            await store.close()

    with scratch_database(database_server_url, "sst_limits") as url:
        asyncio.run(run(url))


def _status(url: str) -> int:
    """The status of a GET on a connection of its own (so the workers share the requests)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("shared", [None, "false"])
def test_api_workers_share_the_public_limit(
    database_server_url: str, conn: psycopg.Connection, mqtt_url: str, shared: str | None
) -> None:
    """`smartstreets api --workers 2` gives a client the public burst (10) once across both
    workers, of 240 requests on fresh connections; with sharing turned off, once per worker."""
    with scratch_database(database_server_url, "sst_workers") as database_url:
        _count_admitted_by_two_workers(conn, database_url, mqtt_url, shared)


def _count_admitted_by_two_workers(
    conn: psycopg.Connection, database_url: str, mqtt_url: str, shared: str | None
) -> None:
    port = free_port()
    env = dict(
        os.environ,
        SMARTSTREETS_DATABASE_URL=database_url,
        SMARTSTREETS_MQTT_URL=mqtt_url,
        SMARTSTREETS_API_RATE_LIMIT_PER_MIN="1",
        SMARTSTREETS_API_RATE_LIMIT_BURST="10",
    )
    env.pop("SMARTSTREETS_API_RATE_LIMIT_SHARED", None)
    if shared is not None:
        env["SMARTSTREETS_API_RATE_LIMIT_SHARED"] = shared
    args = [sys.executable, "-m", "deploy", "--log-level", "WARNING", "api"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen(args, cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        # Both workers up (each opens its pool as it starts), so both take requests.
        name = conninfo_to_dict(database_url)["dbname"]
        wait_for(lambda: _pools(conn, str(name)) == 2, timeout=60, what="both workers")
        wait_for(lambda: _answers(f"{base}/health"), timeout=60, what="the API")
        started = time.monotonic()
        # Many connections at once, so that both workers accept some of them.
        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(_status, [f"{base}/open-data"] * 240))
        # At one a minute, the refill adds a request for each minute this took.
        refill = int((time.monotonic() - started) / 60)
        admitted = sum(code != 429 for code in codes)
        if shared is None:
            assert 10 <= admitted <= 10 + refill, codes
        else:  # the requests went to both workers, each with a burst of its own
            assert admitted > 10 + refill, codes
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pools(conn: psycopg.Connection, database: str) -> int:
    """API connection pools open on ``database`` (one connection each, to begin with)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
        (database, APPLICATION_NAME),
    ).fetchone()
    return int(row[0]) if row else 0


def _answers(url: str) -> bool:
    try:
        _status(url)
    except OSError:
        return False
    return True
