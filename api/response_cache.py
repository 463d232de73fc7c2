"""A short-lived, bounded, thread-safe cache of rendered public responses.

The public "now" and forecast answers of a council are the same for every caller, change every
few minutes at most (a counter reports every 15 minutes, forecasts refresh every 15) and already
tell clients to cache them for a minute or more. Rendering one costs database queries and
serialisation; serving it from memory costs neither, so a burst of residents (or a scraper) asks
the database once per council and TTL, not once per request.

Each process has its own cache (uvicorn workers share nothing), so a reading shows up at most one
TTL later in every process.
"""

import math
import threading
import time
from collections.abc import Callable, Hashable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ingest.kernel.params import require_in

MAX_ENTRIES = 1024
"""Most responses kept; beyond it expired ones are dropped first, then the oldest."""

_STRIPES = 64
"""Fill locks: keys hash onto a fixed set, so unknown keys (a scan of made-up council slugs)
cannot grow a lock table."""


class ResponseCache:
    """Rendered responses by key, each fresh for ``ttl_s`` seconds; ``ttl_s=0`` caches nothing.

    ``fill`` is single-flight per key: when a response expires under load, one thread renders
    it again while the others wait for that result instead of all querying the database.
    """

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        require_in("ttl_s", ttl_s, 0, math.inf)
        require_in("max_entries", max_entries, 1, math.inf)
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        self._fill_locks = tuple(threading.Lock() for _ in range(_STRIPES))

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> bytes | None:
        """The cached body of ``key`` if it is still fresh."""
        entry = self._entries.get(key)  # one dict read: atomic, no lock needed
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, key: Hashable, body: bytes) -> None:
        """Keep ``body`` for ``key`` for one TTL (nothing when the cache is off)."""
        if self.ttl_s == 0:
            return
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)  # re-inserted last: insertion order is age order
            if len(self._entries) >= self.max_entries:
                for k in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                    del self._entries[k]
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (now + self.ttl_s, body)

    def fill(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The fresh body of ``key``, rendering and keeping it if there is none. Blocking: call
        it from a worker thread. An exception of ``render`` propagates and nothing is kept."""
        if self.ttl_s == 0:
            return render()
        with self._fill_locks[hash(key) % _STRIPES]:
            body = self.get(key)  # another thread may have rendered it while this one waited
            if body is None:
                body = render()
                self.put(key, body)
            return body


def public_cache(request: Request) -> ResponseCache:
    """The app's cache of rendered public answers (made on first use, from the event loop)."""
    state = request.app.state
    cache: ResponseCache | None = getattr(state, "public_cache", None)
    if cache is None:
        # SMARTSTREETS_API_PUBLIC_CACHE_S, well under the minute clients are told to cache
        # the answers for; the counts behind them change every few minutes.
        cache = state.public_cache = ResponseCache(state.settings.public_cache_s)
    return cache


async def cached_body(request: Request, key: Hashable, render: Callable[[], bytes]) -> bytes:
    """``key``'s body from the app's public cache, or rendered in a worker thread (blocking I/O
    stays off the event loop, one thread takes and returns the connection) and kept."""
    cache = public_cache(request)
    body = cache.get(key)
    if body is None:
        body = await run_in_threadpool(cache.fill, key, render)
    return body
