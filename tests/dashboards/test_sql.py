"""Every panel's SQL runs on a real database filled by the simulators and returns the columns
its panel draws."""

import psycopg
import pytest

from dashboards.boards import BOARDS
from dashboards.model import Board, Panel, Variable
from ingest.db.connect import connect
from tests.dashboards.macros import expand

PANELS = [pytest.param(b, p, id=f"{b.slug}:{p.title}") for b in BOARDS for p in b.panels]
VARIABLES = [pytest.param(b, v, id=f"{b.slug}:{v.name}") for b in BOARDS for v in b.variables]

# Panels that must find rows in the filled council, not just run.
NOT_EMPTY = {
    "Ingest rate (readings per minute)",
    "Quarantined messages by reason",
    "Devices silent for 6 hours",
    "Silent devices",
    "Bins with a low battery (below 3.3 V)",
    "Fill level by bin",
    "Bins to empty today",
    "Routes",
    "Kilometres per shift",
    "Last hour against usual, per zone",
    "People per hour, per zone",
    "Forecast against actual: $zone",
    "Forecast, next 12 hours",
    "Open potholes",
    "Road roughness (mean jolt, g)",
    "Road roughness per segment (IRI, m/km)",
    "Bump reports per day",
}


def _run(database_url: str, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
    with connect(database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql)  # type: ignore[arg-type]
        assert cur.description is not None
        return [c.name for c in cur.description], cur.fetchall()


def _zone(database_url: str, council: str) -> str:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT min(zone) FROM device WHERE council = %s AND kind = 'counter'", (council,)
        ).fetchone()
    assert row is not None and row[0]
    return str(row[0])


@pytest.mark.parametrize(("board", "panel"), PANELS)
def test_panel_sql_returns_its_columns(
    database_url: str, filled: str, board: Board, panel: Panel
) -> None:
    """The panel's SQL, macros expanded, runs and returns exactly the declared columns."""
    sql = expand(panel.sql, {"council": filled, "zone": _zone(database_url, filled)})
    columns, rows = _run(database_url, sql)
    assert tuple(columns) == panel.columns
    if panel.title in NOT_EMPTY:
        assert rows, "expected rows from the filled council"
    if panel.fmt == "time_series":
        assert all(r[0] is not None for r in rows)


def _quiet_for_6h(database_url: str, council: str) -> set[str]:
    """Devices of ``council`` with no reading in the last 6 hours, counted here in Python: the
    simulated counters have outages, and one may be under way whenever the suite runs."""
    with connect(database_url, autocommit=True) as conn:
        devices = conn.execute(
            "SELECT device_id FROM device WHERE council = %s", (council,)
        ).fetchall()
        heard = conn.execute(
            "SELECT device_id FROM bin_fill WHERE council = %(c)s AND ts >= now() - interval "
            "'6 hours' UNION SELECT device_id FROM footfall_count WHERE council = %(c)s "
            "AND period_end >= now() - interval '6 hours'",
            {"c": council},
        ).fetchall()
    return {d for (d,) in devices} - {d for (d,) in heard}


def test_silent_and_battery_panels_name_the_right_devices(database_url: str, filled: str) -> None:
    """The never-heard counter is silent (with any counter in a simulated outage, and nothing
    else) and the 3.21 V bin is on the low-battery list."""
    by_title = {p.title: p for b in BOARDS for p in b.panels}
    variables = {"council": filled}
    _, silent = _run(database_url, expand(by_title["Silent devices"].sql, variables))
    names = [r[0] for r in silent]
    assert names[0] == f"{filled}-mute"  # never heard from: first
    assert set(names) == _quiet_for_6h(database_url, filled)
    _, weak = _run(
        database_url, expand(by_title["Bins with a low battery (below 3.3 V)"].sql, variables)
    )
    assert [(r[0], round(float(r[2]), 2)) for r in weak] == [(f"{filled}-weak", 3.21)]
    _, must = _run(database_url, expand(by_title["Bins to empty today"].sql, variables))
    assert [r[5] for r in must] == [None, 1]  # the left-out bin first (120%), then vehicle 1


@pytest.mark.parametrize(("board", "variable"), VARIABLES)
def test_variable_queries_list_the_council(
    database_url: str, filled: str, board: Board, variable: Variable
) -> None:
    """The council variable lists the filled council; the zone variable lists its zones."""
    sql = expand(variable.sql, {"council": filled})
    columns, rows = _run(database_url, sql)
    if variable.name == "council":
        assert columns == ["__value", "__text"] and (filled, filled) in rows
    else:
        assert rows and all(r[0] for r in rows)
