"""The cache of the public zone answers: fresh within its TTL, bounded, single-flight."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.response_cache import ResponseCache
from api.settings import ApiSettings
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings

TTL_S = 10.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock standing still until the test advances it."""
    return Clock()


@pytest.fixture
def client(database_url: str, mqtt_url: str, clock: Clock) -> Iterator[TestClient]:
    """A client of an app whose public cache keeps answers for TTL_S on ``clock``."""
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    app = create_app(ApiSettings(rate_limit_per_min=0), services)
    app.state.public_cache = ResponseCache(TTL_S, clock=clock)
    with TestClient(app) as c:
        yield c


def _count(conn: psycopg.Connection, council: str, device: str, end: datetime, n: int) -> None:
    conn.execute(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, 'market', %s, %s, %s)",
        (council, device, end - timedelta(minutes=15), end, n),
    )


def _forecast(conn: psycopg.Connection, council: str, value: float) -> None:
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    conn.execute("DELETE FROM footfall_forecast WHERE council = %s", (council,))
    conn.execute(
        "INSERT INTO footfall_forecast (council, series, ts, forecast, lo80, hi80, usual, made_at)"
        " VALUES (%s, 'zone:market', %s, %s, %s, %s, NULL, now())",
        (council, hour, value, value - 1, value + 1),
    )


def test_new_reading_shows_up_after_the_ttl(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str, clock: Clock
) -> None:
    """A reading stored after an answer was cached is in the answer once the TTL has passed."""
    device = f"c-{uid}"
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="counter", device_id=device, lat=52.6, lon=-0.7, zone="market"
            )
        ],
    )
    now = datetime.now(UTC)
    _count(conn, council, device, now - timedelta(minutes=20), 100)
    url = f"/v1/councils/{council}/zones/now"

    def last_hour() -> int:
        resp = client.get(url)
        assert resp.status_code == 200, resp.text
        assert resp.headers["cache-control"] == "public, max-age=60"
        return int(resp.json()[0]["count_last_hour"])

    assert last_hour() == 100
    _count(conn, council, device, now - timedelta(minutes=2), 50)
    clock.now += TTL_S - 0.1
    assert last_hour() == 100  # the cached answer, within its TTL
    clock.now += 0.1
    assert last_hour() == 150


def test_new_forecast_shows_up_after_the_ttl(
    client: TestClient, conn: psycopg.Connection, council: str, clock: Clock
) -> None:
    """A forecast refresh after an answer was cached is served once the TTL has passed."""
    url = f"/v1/councils/{council}/zones/forecast"
    _forecast(conn, council, 10)
    first = client.get(url)
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=300"
    assert first.json()[0]["hours"][0]["forecast"] == 10
    _forecast(conn, council, 20)
    assert client.get(url).json() == first.json()
    clock.now += TTL_S
    assert client.get(url).json()[0]["hours"][0]["forecast"] == 20


def test_unknown_council_is_404_and_not_cached(client: TestClient, uid: str) -> None:
    """An unknown council is 404 every time and leaves nothing in the cache."""
    for _ in range(2):
        resp = client.get(f"/v1/councils/nope-{uid}/zones/now")
        assert resp.status_code == 404 and "unknown council" in resp.json()["detail"]
    cache: ResponseCache = client.app.state.public_cache  # type: ignore[attr-defined]
    assert len(cache) == 0


def test_cache_is_bounded(clock: Clock) -> None:
    """Past max_entries the oldest answer goes; expired ones go first."""
    cache = ResponseCache(TTL_S, max_entries=3, clock=clock)
    for key in "abc":
        cache.put(key, key.encode())
    cache.put("d", b"d")
    assert len(cache) == 3 and cache.get("a") is None and cache.get("d") == b"d"
    clock.now += TTL_S
    cache.put("e", b"e")
    assert len(cache) == 1 and cache.get("e") == b"e"


def test_ttl_zero_caches_nothing(clock: Clock) -> None:
    """With a TTL of 0 every fill renders."""
    cache = ResponseCache(0, clock=clock)
    renders = iter([b"1", b"2"])
    assert cache.fill("k", lambda: next(renders)) == b"1"
    assert cache.fill("k", lambda: next(renders)) == b"2"
    assert len(cache) == 0


def test_fill_renders_once_for_concurrent_callers(clock: Clock) -> None:
    """Threads asking for the same missing answer at once share one render."""
    cache = ResponseCache(TTL_S, clock=clock)
    started, release = threading.Event(), threading.Event()
    renders: list[int] = []

    def render() -> bytes:
        renders.append(1)
        started.set()
        assert release.wait(10)
        return b"body"

    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.fill("k", render))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    assert started.wait(10)
    release.set()
    for t in threads:
        t.join(10)
    assert results == [b"body"] * 8 and renders == [1]


def test_failed_render_keeps_nothing(clock: Clock) -> None:
    """A render that raises propagates and the next fill renders again."""
    cache = ResponseCache(TTL_S, clock=clock)

    def fail() -> bytes:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        cache.fill("k", fail)
    assert cache.fill("k", lambda: b"ok") == b"ok"


@pytest.mark.parametrize("ttl_s, max_entries", [(-1, 10), (1, 0)])
def test_bad_parameters_are_refused(ttl_s: float, max_entries: int) -> None:
    """A negative TTL or no room at all is a ValueError."""
    with pytest.raises(ValueError, match="Expected"):
        ResponseCache(ttl_s, max_entries=max_entries)
