"""What the soak watches while it runs: the API's answers every second, and ingest's lag (messages
handed to the publishers but not yet stored) every second."""

import bisect
import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import psycopg
from psycopg import sql

from bench.soak_traffic import TABLES

POLL_S = 1.0
HANG_S = 10.0
"""An answer slower than this is a hang (the API's own pool waits 5 s for a connection)."""


@dataclass
class Faults:
    """Which service is down right now ("" when all are up), shared by the soak's threads."""

    down: str = ""


@dataclass
class Kill:
    """One fault: which service, when it was killed and restarted (monotonic seconds)."""

    kind: str
    killed_at: float
    outage_s: float
    restarted_at: float | None = None


@dataclass
class ApiAnswer:
    at: float
    path: str
    status: str  # an HTTP status, "timeout" or "refused"
    body: str


@dataclass
class ApiProbe:
    """Polls ``paths`` on the API every second; counts answers by (service down, status)."""

    base_url: str
    paths: tuple[str, ...]
    faults: Faults
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # down, path, status
    bad: list[ApiAnswer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="api-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=HANG_S) as client:
            while not self._stop.wait(POLL_S):
                for path in self.paths:
                    self._ask(client, path)

    def _ask(self, client: httpx.Client, path: str) -> None:
        down = self.faults.down or "none"
        at = time.monotonic()
        try:
            answer = client.get(path)
        except httpx.TimeoutException:
            self._note(ApiAnswer(at, path, "timeout", f"no answer within {HANG_S:.0f}s"), down)
            return
        except httpx.HTTPError as exc:
            self._note(ApiAnswer(at, path, "refused", str(exc)), down)
            return
        self._note(ApiAnswer(at, path, str(answer.status_code), answer.text[:300]), down)

    def _note(self, answer: ApiAnswer, down: str) -> None:
        self.counts[(down, answer.path, answer.status)] += 1
        if answer.status == "200":
            return
        if answer.status == "503" and _json_detail(answer.body):
            return
        self.bad.append(answer)


def _json_detail(body: str) -> bool:
    """Whether a 503's body is JSON that says what is wrong (``detail`` or a health report)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and bool(parsed.get("detail") or parsed.get("status"))


_COUNT = sql.SQL(" + ").join(
    sql.SQL("(SELECT count(*) FROM {} WHERE council = %(c)s)").format(sql.Identifier(t))
    for t in TABLES
)


def count_stored(conn: psycopg.Connection, council: str) -> int:
    """Readings and quarantine rows stored for ``council``."""
    row = conn.execute(sql.SQL("SELECT {}").format(_COUNT), {"c": council}).fetchone()
    return int(row[0]) if row else 0


@dataclass
class LagMonitor:
    """Every second: how many messages were handed to publishers but are not stored yet."""

    database_url: str
    council: str
    handed: "HandedCount"
    # (when, messages handed to publishers, messages stored or None while unreachable)
    samples: list[tuple[float, int, int | None]] = field(default_factory=list)
    stored: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lag", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def lag(self) -> int | None:
        if not self.samples or self.samples[-1][2] is None:
            return None
        return max(self.samples[-1][1] - self.samples[-1][2], 0)

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self._stop.wait(POLL_S):
            handed = self.handed.value
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=2)
                self.stored = count_stored(conn, self.council)
                self.samples.append((time.monotonic(), handed, self.stored))
            except psycopg.Error:
                self.samples.append((time.monotonic(), handed, None))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def lags(self, missing: Sequence[int]) -> list[tuple[float, int]]:
        """(when, lag) for every sample that reached the database, not counting messages that
        were never stored (``missing``, sorted): they would keep the lag up for ever."""
        return [
            (at, max(handed - stored - bisect.bisect_left(missing, handed), 0))
            for at, handed, stored in self.samples
            if stored is not None
        ]


def recovery(lags: Sequence[tuple[float, int]], since: float, near_zero: int) -> float | None:
    """Seconds from ``since`` until the lag first fell to ``near_zero`` or below."""
    for at, lag in lags:
        if at >= since and lag <= near_zero:
            return at - since
    return None


@dataclass
class HandedCount:
    """How many messages the publishing loop has handed to the publishers so far."""

    value: int = 0
