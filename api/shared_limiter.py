"""Rate limits shared by every API process: token buckets in PostgreSQL, spent through leases.

With ``smartstreets api --workers N`` (or several pods) buckets kept in each process's memory
would give a client N times every limit. Here a client's bucket is one row of the UNLOGGED table
``rate_bucket`` (migration 0021), and a process takes a *lease* of up to ``lease`` tokens of it
(a tenth of the burst, or half a second's refill if less) at a time with one atomic
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (refill since the last lease by the server's
clock, take what is there, keep the rest), then spends the lease from memory: the database sees
one statement every ``lease`` requests of a client, not one a request.

Leased tokens are gone from the bucket, so all processes together never admit more than
``burst`` at once plus the refill. A lease unspent after ``LEASE_S`` lapses (its tokens are lost,
never spent late), so it cannot add a stale burst either; the cost is that a client spread over
several processes may get a little less than the limit. A busy client's next lease is taken
while it still holds half of the last one, so its requests do not queue behind the statement. A
refusal is remembered until its bucket can hold a token again, so a client that keeps trying
while refused costs no statements.

When the database cannot be reached the limits **fail open to the per-process limit**: each
process applies its own in-memory bucket (:class:`api.security.RateLimiter`, same parameters),
so a client may get up to N times the limit meanwhile, and the database is tried again after
``RETRY_S`` seconds. Nobody is refused because the database is down.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from api.security import MAX_CLIENTS, RateLimiter
from ingest.db.connect import APPLICATION_NAME
from ingest.errors import first_line
from ingest.kernel.params import require_in

log = logging.getLogger(__name__)

LEASE_S = 1.0
"""Seconds a process may spend a lease before its tokens lapse."""
RETRY_S = 5.0
"""Seconds the limits stay per-process after the database could not be reached."""
POOL_TIMEOUT_S = 0.5
"""Longest wait for a connection of the limiter's own pool before failing open."""
PRUNE_S = 60.0
"""Seconds between deletions of buckets that have refilled (they equal absent ones)."""

_LEASE = """
INSERT INTO rate_bucket AS b (bucket, tokens, granted, updated)
VALUES (%(bucket)s, %(burst)s - %(first)s, %(first)s, statement_timestamp())
ON CONFLICT (bucket) DO UPDATE SET (granted, tokens, updated) = (
    SELECT g.granted, r.tokens - g.granted, greatest(b.updated, statement_timestamp())
    FROM (
        SELECT least(
            %(burst)s,
            b.tokens + %(rate)s * greatest(0, extract(epoch FROM statement_timestamp() - b.updated))
        ) AS tokens
    ) AS r,
    LATERAL (SELECT least(%(want)s, floor(r.tokens))::integer AS granted) AS g
)
RETURNING granted, tokens
"""
_PRUNE = "DELETE FROM rate_bucket WHERE updated < statement_timestamp() - make_interval(secs => %s)"


class SharedBuckets:
    """The ``rate_bucket`` table, through a small pool of its own (one per process), and
    whether it is reachable. Call from the event loop only."""

    def __init__(self, database_url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._pool = AsyncConnectionPool(
            database_url,
            min_size=1,
            max_size=2,
            name="rate-limits",
            open=False,
            kwargs={
                "autocommit": True,
                "application_name": f"{APPLICATION_NAME}-rate-limits",
                "connect_timeout": 2,
                # A lease waits on the row lock of another process's lease at most this long.
                "options": "-c statement_timeout=2000",
            },
            reconnect_timeout=0,
        )
        self._opened = False
        self._clock = clock
        self._down_until = -math.inf
        self._failing = False
        self._full_after = 0.0  # longest a registered bucket takes to refill
        self._next_prune = clock() + PRUNE_S
        self.statements = 0
        """Leases taken from the database so far."""

    def register(self, full_after: float) -> None:
        """Note a limit whose idle buckets are full again after ``full_after`` seconds."""
        self._full_after = max(self._full_after, full_after)

    @property
    def down(self) -> bool:
        """Whether the limits are per-process for now (the database was unreachable)."""
        return self._clock() < self._down_until

    async def lease(self, bucket: str, rate: float, burst: int, want: int) -> tuple[int, float]:
        """Take up to ``want`` tokens of ``bucket`` (refilled at ``rate`` a second up to
        ``burst``): the tokens taken and those left. Raises ``psycopg.Error`` when the database
        cannot be reached, and marks the limits per-process for ``RETRY_S`` seconds."""
        if not self._opened:
            await self._pool.open(wait=False)
            self._opened = True
        params = {"bucket": bucket, "rate": rate, "burst": burst, "want": want}
        params["first"] = min(want, burst)
        try:
            async with self._pool.connection(timeout=POOL_TIMEOUT_S) as conn:
                cur = await conn.execute(_LEASE, params)
                row = await cur.fetchone()
                self.statements += 1
                if self._clock() >= self._next_prune:
                    self._next_prune = self._clock() + PRUNE_S
                    await conn.execute(_PRUNE, (self._full_after + 1,))
        except psycopg.Error as exc:
            if not self._failing and not self._pool.closed:  # once per outage, not per retry
                log.warning(
                    "shared rate limits unreachable, each process limits on its own until they "
                    "are back (tried every %g s): %s",
                    RETRY_S,
                    first_line(exc),
                )
                self._failing = True
            self._down_until = self._clock() + RETRY_S
            raise
        if self._failing:
            log.info("shared rate limits reachable again")
            self._failing = False
        assert row is not None
        return int(row[0]), float(row[1])

    async def close(self) -> None:
        """Close the pool, if it was opened."""
        if self._opened:
            await self._pool.close()


class SharedRateLimiter:
    """Token buckets per client shared through ``buckets``: ``burst`` requests at once across
    all processes, refilled at ``per_min`` a minute; ``name`` keeps one limit's buckets apart
    from another's. Call from the event loop only."""

    def __init__(
        self,
        name: str,
        per_min: int,
        burst: int,
        buckets: SharedBuckets,
        clock: Callable[[], float] = time.monotonic,
        lease: int | None = None,
    ) -> None:
        self.local = RateLimiter(per_min, burst, clock)  # checks the parameters; fail-open limit
        self.name, self.per_min, self.burst = name, per_min, burst
        self._rate = per_min / 60
        # A tenth of the burst, or what refills in half a lease's time if less: tokens that
        # lapse unspent are then few, and a client's burst is not cut by much.
        self.lease = lease or max(1, min(burst // 10, int(self._rate * LEASE_S / 2)))
        require_in("lease", self.lease, 1, burst)
        self._buckets, self._clock = buckets, clock
        buckets.register(burst / self._rate)
        self._leases: dict[str, list[float]] = {}  # client -> [tokens left, lapses at]
        self._refused: dict[str, float] = {}  # client -> when its bucket can hold a token
        self._pending: dict[str, asyncio.Future[None]] = {}  # client -> lease being taken
        self._background: set[asyncio.Future[bool]] = set()  # leases taken ahead of need
        self._next_prune = clock() + LEASE_S

    async def spend(self, client: str) -> float:
        """Spend one of ``client``'s tokens: 0 if it had one, else seconds until it will."""
        while True:
            now = self._clock()
            if now >= self._next_prune:
                self._prune(now)
            held = self._leases.get(client)
            if held is not None and held[0] >= 1 and now < held[1]:
                held[0] -= 1
                if (
                    self.lease > 1
                    and held[0] < self.lease / 2
                    and now < held[1] - 0.75 * LEASE_S
                    and client not in self._pending
                ):
                    # Half the lease gone in a quarter of its time: a busy client, which will
                    # spend the next lease too. Take it now, so no request has to wait for it.
                    task = asyncio.ensure_future(self._lease(client))
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
                return 0.0
            retry_at = self._refused.get(client)
            if retry_at is not None and now < retry_at:
                return retry_at - now
            if self._buckets.down:
                return self.local.take(client)
            pending = self._pending.get(client)
            if pending is None:
                if not await self._lease(client):
                    return self.local.take(client)
            else:  # another request of this client is taking a lease: spend from that one
                await asyncio.shield(pending)

    def _lease(self, client: str) -> "asyncio.Future[bool]":
        """Take a lease of ``client``'s bucket and add it to what this process holds (or note
        the refusal); false if the database could not be reached."""
        done = asyncio.get_running_loop().create_future()
        self._pending[client] = done

        async def take() -> bool:
            try:
                granted, left = await self._buckets.lease(
                    f"{self.name}:{client}", self._rate, self.burst, self.lease
                )
            except psycopg.Error:
                return False
            finally:
                del self._pending[client]
                done.set_result(None)
            now = self._clock()
            if granted == 0:
                _make_room(self._refused)
                self._refused[client] = now + (1 - left) / self._rate
                return True
            self._refused.pop(client, None)
            held = self._leases.get(client)
            if held is not None and now < held[1]:
                held[0] += granted
                held[1] = now + LEASE_S
            else:
                _make_room(self._leases)
                self._leases[client] = [granted, now + LEASE_S]
            return True

        return asyncio.ensure_future(take())

    def _prune(self, now: float) -> None:
        """Forget lapsed leases and refusals that are over."""
        self._leases = {k: v for k, v in self._leases.items() if v[1] > now}
        self._refused = {k: v for k, v in self._refused.items() if v > now}
        self._next_prune = now + LEASE_S


def _make_room(entries: dict[str, Any]) -> None:
    """Drop the oldest entry of a full table, so memory stays bounded."""
    if len(entries) >= MAX_CLIENTS:
        del entries[next(iter(entries))]
