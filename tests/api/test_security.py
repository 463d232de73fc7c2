"""Rate limits, CORS and security headers in front of the API."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import RateLimiter, content_security_policy, script_hash, tile_source
from api.settings import ApiSettings
from ingest.settings import ServiceSettings


def _client(
    database_url: str, mqtt_url: str, peer: str = "testclient", **settings: Any
) -> TestClient:
    services = ServiceSettings(database_url=database_url, mqtt_url=mqtt_url)
    return TestClient(create_app(ApiSettings(**settings), services), client=(peer, 50000))


@pytest.fixture
def client(database_url: str, mqtt_url: str) -> Iterator[TestClient]:
    """A client of an app with the default settings."""
    with _client(database_url, mqtt_url) as c:
        yield c


@pytest.mark.parametrize(
    "path", ["/", "/crew", "/highways", "/councils/{council}", "/v1/councils/{council}/zones/now"]
)
def test_security_headers_on_pages_and_api(client: TestClient, council: str, path: str) -> None:
    """Pages and API responses carry the CSP, nosniff, referrer, frame and permissions headers."""
    resp = client.get(path.format(council=council))
    assert resp.status_code == 200, resp.text
    h = resp.headers
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert (
        "'unsafe-inline'" not in h["content-security-policy"].split("script-src")[1].split(";")[0]
    )
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "strict-origin-when-cross-origin"
    assert h["x-frame-options"] == "DENY"
    assert "camera=()" in h["permissions-policy"]
    assert "strict-transport-security" not in h


@pytest.mark.parametrize("path", ["/crew", "/highways"])
def test_page_scripts_are_allowed_by_hash(client: TestClient, path: str) -> None:
    """Every inline script a page serves is allowed by the policy, so the page still works."""
    resp = client.get(path)
    scripts = re.findall(r"<script>(.*?)</script>", resp.text, re.S)
    assert scripts
    for script in scripts:
        assert script_hash(script) in resp.headers["content-security-policy"]


def test_docs_may_load_swagger_from_its_cdn(client: TestClient) -> None:
    """/docs gets a policy that lets Swagger UI load from jsDelivr; pages do not."""
    docs = client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in docs
    assert "https://cdn.jsdelivr.net" not in client.get("/crew").headers["content-security-policy"]


def test_tile_host_is_allowed_for_images() -> None:
    """A tile template's host (``{s}`` as the maps fill it) joins img-src."""
    url = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert tile_source(url) == "https://a.tile.openstreetmap.org"
    assert "img-src 'self' data: https://a.tile.openstreetmap.org;" in content_security_policy(url)


def test_hsts_only_behind_https(database_url: str, mqtt_url: str) -> None:
    """Strict-Transport-Security is sent only when the deployment says it is behind HTTPS."""
    with _client(database_url, mqtt_url, behind_https=True) as c:
        assert c.get("/crew").headers["strict-transport-security"].startswith("max-age=")


def test_cors_only_for_allowed_origins_and_public_get(
    database_url: str, mqtt_url: str, council: str
) -> None:
    """An allowed origin may read public endpoints with GET; other origins and routes get no
    CORS headers, and a preflight for POST is refused."""
    allowed = "https://maps.example.org"
    url = f"/v1/councils/{council}/zones/now"
    with _client(database_url, mqtt_url, cors_origins=[allowed]) as c:
        ok = c.get(url, headers={"Origin": allowed})
        assert ok.headers["access-control-allow-origin"] == allowed
        assert "access-control-allow-credentials" not in ok.headers
        other = c.get(url, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        crew = c.get(f"/v1/councils/{council}/bins/latest", headers={"Origin": allowed})
        assert "access-control-allow-origin" not in crew.headers
        pre = {"Origin": allowed, "Access-Control-Request-Method": "POST"}
        assert c.options(url, headers=pre).status_code == 400
        pre["Access-Control-Request-Method"] = "GET"
        assert c.options(url, headers=pre).status_code == 200


def test_no_cors_headers_by_default(client: TestClient, council: str) -> None:
    """Without cors_origins nothing is allowed cross-origin."""
    resp = client.get(f"/v1/councils/{council}/zones/now", headers={"Origin": "https://a.example"})
    assert "access-control-allow-origin" not in resp.headers


def test_429_after_the_burst(database_url: str, mqtt_url: str, council: str) -> None:
    """Past the burst a public endpoint is 429 with a JSON reason and Retry-After; token
    endpoints are not limited."""
    url = f"/v1/councils/{council}/zones/now"
    with _client(database_url, mqtt_url, rate_limit_per_min=60, rate_limit_burst=3) as c:
        assert [c.get(url).status_code for _ in range(3)] == [200] * 3
        resp = c.get(url)
        assert resp.status_code == 429
        assert "too many requests" in resp.json()["detail"]
        assert 1 <= int(resp.headers["retry-after"]) <= 2
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert c.get("/").status_code == 429
        assert c.get(f"/v1/councils/{council}/bins/latest").status_code == 401


def test_limit_off_when_zero(database_url: str, mqtt_url: str, council: str) -> None:
    """rate_limit_per_min=0 turns the limiter off."""
    url = f"/v1/councils/{council}/zones/now"
    with _client(database_url, mqtt_url, rate_limit_per_min=0, rate_limit_burst=1) as c:
        assert {c.get(url).status_code for _ in range(5)} == {200}


@pytest.mark.parametrize(
    ("peer", "trusted", "forwarded", "shared"),
    [
        ("10.0.0.5", ["10.0.0.0/8"], ["198.51.100.1", "198.51.100.2"], False),
        ("10.0.0.5", ["10.0.0.0/8"], ["198.51.100.1, 10.0.0.9", "198.51.100.1, 10.0.0.9"], True),
        ("10.0.0.5", ["10.0.0.0/8"], ["6.6.6.6, 198.51.100.1", "7.7.7.7, 198.51.100.1"], True),
        ("203.0.113.5", ["10.0.0.0/8"], ["198.51.100.1", "198.51.100.2"], True),
        ("10.0.0.5", [], ["198.51.100.1", "198.51.100.2"], True),
    ],
)
def test_forwarded_for_only_from_trusted_proxies(
    database_url: str,
    mqtt_url: str,
    council: str,
    peer: str,
    trusted: list[str],
    forwarded: list[str],
    shared: bool,
) -> None:
    """X-Forwarded-For names the client only when the peer is a trusted proxy, read right to
    left past trusted hops; addresses a client prepends itself do not buy a new bucket."""
    url = f"/v1/councils/{council}/zones/now"
    settings: dict[str, Any] = {
        "rate_limit_per_min": 60,
        "rate_limit_burst": 1,
        "trusted_proxies": trusted,
    }
    with _client(database_url, mqtt_url, peer=peer, **settings) as c:
        first = c.get(url, headers={"X-Forwarded-For": forwarded[0]})
        second = c.get(url, headers={"X-Forwarded-For": forwarded[1]})
    assert first.status_code == 200
    assert second.status_code == (429 if shared else 200)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_and_idle_clients_are_forgotten() -> None:
    """A bucket refills at the per-minute rate, and full buckets are pruned."""
    clock = _Clock()
    limiter = RateLimiter(per_min=60, burst=2, clock=clock)
    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    clock.now = 1.0
    assert limiter.take("a") == 0.0
    assert limiter.take("b") == 0.0 and len(limiter) == 2
    clock.now = 10.0
    assert limiter.take("c") == 0.0 and len(limiter) == 1


def test_limiter_refuses_bad_parameters() -> None:
    """A limiter needs a positive rate and a burst of at least one."""
    with pytest.raises(ValueError, match="Expected"):
        RateLimiter(per_min=0, burst=1)
