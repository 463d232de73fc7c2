"""The running API against its own OpenAPI document: generated requests never get a 5xx, and
every response matches the status codes and schemas the document declares."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from api.app import create_app
from api.auth import Scope, create_token
from api.settings import ApiSettings
from ingest.db.connect import connect
from ingest.db.registry import DeviceCreate, import_devices
from ingest.settings import ServiceSettings
from tests.helpers import served

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


class _Api:
    def __init__(self, base_url: str, council: str, token: str) -> None:
        self.base_url, self.council, self.token = base_url, council, token


@pytest.fixture(scope="module")
def api(database_url: str, mqtt_url: str) -> Iterator[_Api]:
    """The API under uvicorn on a free port, with a council, a bin, counters and an admin token."""
    council = f"st-{int(time.time() * 1000) % 10**9}"
    now = datetime.now(UTC)
    with connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO council (slug, name) VALUES (%s, 'Schema Town')", (council,))
        import_devices(
            conn,
            [
                DeviceCreate(
                    council=council,
                    kind="bin",
                    device_id=f"{council}-bin",
                    lat=52.6,
                    lon=-0.7,
                    capacity_litres=240,
                ),
                *(
                    DeviceCreate(
                        council=council,
                        kind="counter",
                        device_id=f"{council}-c{i}",
                        lat=52.6,
                        lon=-0.7,
                        zone="Market",
                    )
                    for i in range(3)
                ),
            ],
        )
        conn.execute(
            "INSERT INTO bin_fill (council, device_id, ts, fill_pct, flags) "
            "VALUES (%s, %s, %s, 80, '{}')",
            (council, f"{council}-bin", now - timedelta(minutes=5)),
        )
        _counts(conn, council, now)
        token = create_token(conn, council, Scope.ADMIN)
    app = create_app(
        ApiSettings(rate_limit_per_min=0, health_cache_s=0),
        ServiceSettings(database_url=database_url, mqtt_url=mqtt_url),
    )
    with served(app) as url:
        yield _Api(url, council, token)


def _counts(conn: psycopg.Connection, council: str, now: datetime) -> None:
    rows = []
    for i in range(3):
        for q in range(8):
            stop = now - timedelta(minutes=1 + 15 * q)
            rows.append((council, f"{council}-c{i}", "Market", stop - timedelta(minutes=15), stop))
    conn.cursor().executemany(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, %s, %s, %s, 12)",
        rows,
    )


@pytest.fixture(scope="module")
def api_schema(api: _Api) -> OpenApiSchema:
    """The API's OpenAPI document, as served."""
    return schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")


def _exercise(api: _Api, operation: APIOperation) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        auth = {"Authorization": f"Bearer {api.token}"}
        if case.path_parameters and "council" in case.path_parameters:
            case.path_parameters["council"] = api.council  # reach real data, not only 404s
        # httpx, not schemathesis's requests transport: urllib3-future (pulled in by niquests)
        # breaks the latter's connection bookkeeping.
        kwargs = case.as_transport_kwargs(base_url=api.base_url)
        kwargs["headers"] = {**kwargs.get("headers", {}), **auth}
        response = httpx.request(timeout=30, **kwargs)
        case.validate_response(response, checks=CHECKS)

    run()


def test_api_conforms_to_its_schema(api: _Api, api_schema: OpenApiSchema) -> None:
    """No generated request gets a 5xx; statuses and bodies are the documented ones."""
    failures = []
    for found in api_schema.get_all_operations():
        operation = found.ok()
        try:
            _exercise(api, operation)
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
