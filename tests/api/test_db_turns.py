"""Many requests at once with few database connections: every one is answered.

A route's connection is taken and given back in worker threads; without turns at the database,
a burst larger than the thread pool filled every thread with waits for a connection while the
requests holding connections waited for a thread, and requests failed with 503 after the pool's
timeout (``bench/scale.py`` saw it with 48 clients and 8 connections).
"""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from api.app import create_app
from api.settings import ApiSettings
from ingest.settings import ServiceSettings
from tests.helpers import served

BURST = 60
"""More concurrent requests than the server's 40 worker threads."""


def test_a_burst_beyond_the_threads_is_answered(
    database_url: str, mqtt_url: str, council: str
) -> None:
    app = create_app(
        ApiSettings(pool_size=2, rate_limit_per_min=0, public_cache_s=0),
        ServiceSettings(database_url=database_url, mqtt_url=mqtt_url),
    )

    with served(app) as url:

        def get(_: int) -> int:
            # An open-data export: a route with a pooled connection dependency.
            try:
                address = f"{url}/open-data/{council}/footfall-hourly.csv"
                with urllib.request.urlopen(address, timeout=60) as response:  # noqa: S310 (loopback)
                    status: int = response.status
                    return status
            except urllib.error.HTTPError as exc:
                return exc.code

        with ThreadPoolExecutor(BURST) as pool:
            statuses = list(pool.map(get, range(BURST)))
    assert statuses == [200] * BURST
