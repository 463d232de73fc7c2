"""``smartstreets dashboards push`` against a fake Grafana: the exact API calls of a first push,
none on a second, and one-line errors for a bad token, URL or server."""

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dashboards.boards import BOARDS
from dashboards.build import render
from dashboards.model import DATASOURCE_TYPE, DATASOURCE_UID
from deploy.cli import app
from deploy.embedded import free_port
from tests.dashboards.fake_grafana import TOKEN, FakeGrafana, fake_grafana

DB = "postgresql://grafana_reader:s3cret@db.internal:5433/smartstreets?sslmode=require"
DASHBOARD_UIDS = [b.uid for b in BOARDS]


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    """A fake Grafana for this test."""
    with fake_grafana() as fake:
        yield fake


def _push(url: str, token: str = TOKEN, *extra: str, db: str | None = DB) -> tuple[int, str]:
    args = ["dashboards", "push", "--url", url, "--token", token, *extra]
    if db is not None:
        args += ["--database-url", db]
    env = {"SMARTSTREETS_GRAFANA_DATABASE_URL": None, "SMARTSTREETS_DATABASE_URL": None}
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.output


def test_first_push_creates_the_data_source_and_every_dashboard(grafana: FakeGrafana) -> None:
    """Each item is read, then created: exact methods, paths and key body fields."""
    code, out = _push(grafana.url)
    assert code == 0, out
    calls = [(r.method, r.path) for r in grafana.requests]
    expected = [
        ("GET", f"/api/datasources/uid/{DATASOURCE_UID}"),
        ("POST", "/api/datasources"),
    ]
    for uid in DASHBOARD_UIDS:
        expected += [("GET", f"/api/dashboards/uid/{uid}"), ("POST", "/api/dashboards/db")]
    assert calls == expected
    ds = grafana.requests[1].body
    assert (ds["uid"], ds["type"], ds["url"], ds["user"], ds["access"]) == (
        DATASOURCE_UID,
        DATASOURCE_TYPE,
        "db.internal:5433",
        "grafana_reader",
        "proxy",
    )
    assert ds["jsonData"] == {"database": "smartstreets", "sslmode": "require"}
    assert ds["secureJsonData"] == {"password": "s3cret"}
    posted = [r.body for r in grafana.requests if r.path == "/api/dashboards/db"]
    assert [p["dashboard"]["uid"] for p in posted] == DASHBOARD_UIDS
    assert all(p["overwrite"] is True and p["dashboard"]["id"] is None for p in posted)
    assert posted[0]["dashboard"]["panels"] == render(BOARDS[0])["panels"]
    assert out.count(": created") == 1 + len(BOARDS)
    assert "s3cret" not in out


def test_second_push_writes_nothing(grafana: FakeGrafana) -> None:
    """Against the state the first push left, a second push only reads and reports unchanged."""
    assert _push(grafana.url)[0] == 0
    grafana.requests.clear()
    code, out = _push(grafana.url)
    assert code == 0, out
    assert grafana.writes() == []
    assert [r.method for r in grafana.requests] == ["GET"] * (1 + len(BOARDS))
    assert out.count(": unchanged") == 1 + len(BOARDS)


def test_only_what_changed_is_written(grafana: FakeGrafana) -> None:
    """A dashboard edited in Grafana and a moved database are put back; the rest is left."""
    assert _push(grafana.url)[0] == 0
    grafana.dashboards[BOARDS[1].uid]["title"] = "edited by hand"
    grafana.datasources[DATASOURCE_UID]["url"] = "old-host:5432"
    grafana.requests.clear()
    code, out = _push(grafana.url)
    assert code == 0, out
    writes = [(r.method, r.path) for r in grafana.writes()]
    assert writes == [
        ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}"),
        ("POST", "/api/dashboards/db"),
    ]
    assert grafana.writes()[1].body["dashboard"]["uid"] == BOARDS[1].uid
    assert out.count(": updated") == 2 and out.count(": unchanged") == len(BOARDS) - 1


def test_force_rewrites_everything(grafana: FakeGrafana) -> None:
    """--force writes every item even when nothing changed."""
    assert _push(grafana.url)[0] == 0
    grafana.requests.clear()
    code, out = _push(grafana.url, TOKEN, "--force")
    assert code == 0, out
    assert len(grafana.writes()) == 1 + len(BOARDS)


def test_a_provisioned_data_source_is_left_alone(grafana: FakeGrafana) -> None:
    """A read-only (file-provisioned) data source is not written, with or without a URL."""
    grafana.datasources[DATASOURCE_UID] = {"uid": DATASOURCE_UID, "id": 7, "readOnly": True}
    for db in (DB, None):
        grafana.requests.clear()
        code, out = _push(grafana.url, db=db)
        assert code == 0, out
        assert f"datasource {DATASOURCE_UID} (smartstreets): provisioned" in out
        assert not any("datasources" in r.path for r in grafana.writes())


def test_without_a_database_url_the_data_source_must_exist(grafana: FakeGrafana) -> None:
    """No --database-url and no data source in Grafana: one line, exit 1, nothing written."""
    code, out = _push(grafana.url, db=None)
    assert code == 1
    assert out.strip() == (
        f"error: Grafana has no data source {DATASOURCE_UID}; give --database-url to create it"
    )
    assert grafana.writes() == []


def test_bad_token_is_one_line_and_exit_1(grafana: FakeGrafana) -> None:
    """A 401 gives one clear line, no traceback, exit code 1, and nothing written."""
    code, out = _push(grafana.url, "wrong")
    assert code == 1
    assert out.strip().splitlines() == [
        f"error: Grafana at {grafana.url} refused the token (401 Unauthorized)"
    ]
    assert grafana.writes() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("grafana.example", "error: bad Grafana URL 'grafana.example'"),
        (f"http://127.0.0.1:{free_port()}", "error: cannot reach Grafana at http://127.0.0.1:"),
    ],
)
def test_bad_url_is_one_line_and_exit_1(url: str, message: str) -> None:
    """A URL that is not one, or where nothing listens, gives one line and exit code 1."""
    code, out = _push(url)
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), out
    assert "Traceback" not in out


def test_missing_options_are_usage_errors() -> None:
    """Without a URL the command says which option to give and exits with 2."""
    result = CliRunner().invoke(
        app, ["dashboards", "push", "--token", TOKEN], env={"SMARTSTREETS_GRAFANA_URL": None}
    )
    assert result.exit_code == 2
    assert "--url" in result.output
