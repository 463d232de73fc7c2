"""``/metrics``: request counts and latencies by route template, one registry per app."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.settings import ApiSettings
from ingest.settings import ServiceSettings


def _client(database_url: str) -> TestClient:
    services = ServiceSettings(database_url=database_url, mqtt_url=None)
    return TestClient(create_app(ApiSettings(health_cache_s=0), services))


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """A client of an app of its own on the session's database."""
    with _client(database_url) as c:
        yield c


def _samples(client: TestClient, name: str) -> dict[tuple[str, str, str], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    return {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
        if s.name == name
    }


def test_requests_are_counted_by_route_template(client: TestClient, council: str) -> None:
    """Requests to paths with ids are counted under their route template, with their status."""
    for _ in range(2):
        assert client.get(f"/v1/councils/{council}/zones/now").status_code == 200
    assert client.get("/v1/councils/no-such-council/zones/now").status_code == 404
    assert client.get(f"/v1/councils/{council}/bins/latest").status_code == 401
    assert client.get("/no/such/path/42").status_code == 404
    counts = _samples(client, "smartstreets_api_requests_total")
    template = "/v1/councils/{council}/zones/now"
    assert counts[(template, "GET", "200")] == 2
    assert counts[(template, "GET", "404")] == 1
    assert counts[("/v1/councils/{council}/bins/latest", "GET", "401")] == 1
    assert counts[("unmatched", "GET", "404")] == 1
    assert not any(council in route or "42" in route for route, _, _ in counts)


def test_latency_histogram_has_a_count_per_route(client: TestClient, council: str) -> None:
    """The latency histogram observes every request, under the same labels as the counter."""
    client.get(f"/v1/councils/{council}/zones/now")
    counts = _samples(client, "smartstreets_api_request_seconds_count")
    assert counts[("/v1/councils/{council}/zones/now", "GET", "200")] == 1


def test_each_app_has_its_own_registry(database_url: str, council: str) -> None:
    """Two apps in one process count their own requests only (and neither fails to register)."""
    with _client(database_url) as first, _client(database_url) as second:
        first.get(f"/v1/councils/{council}/zones/now")
        assert ("/v1/councils/{council}/zones/now", "GET", "200") not in _samples(
            second, "smartstreets_api_requests_total"
        )
        # The scrape itself is counted, after it was answered.
        assert _samples(second, "smartstreets_api_requests_total")[("/metrics", "GET", "200")] == 1
