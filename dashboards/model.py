"""What a dashboard is made of, as data: panels with their SQL and the columns it returns.

The four dashboards are defined with these types (``dashboards.boards``) and rendered to Grafana
JSON by ``dashboards.build``. Each panel declares the columns its SQL returns, so the tests can
run every query against a real database and check the panel gets what it draws.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

DATASOURCE_UID = "smartstreets-pg"
"""The uid of the PostgreSQL data source every panel queries; ``push`` creates it."""
DATASOURCE_TYPE = "grafana-postgresql-datasource"
DATASOURCE_NAME = "smartstreets"

Format = Literal["table", "time_series"]


@dataclass(frozen=True)
class Panel:
    """One panel: a Grafana visualisation over one raw SQL query.

    ``sql`` may use Grafana's macros (``$__timeFilter(col)``, ``$__interval_ms``) and the
    dashboard's variables as ``${name:sqlstring}``; ``columns`` are the names it returns, in order.
    """

    title: str
    kind: str
    sql: str
    columns: tuple[str, ...]
    fmt: Format = "table"
    width: int = 12
    height: int = 8
    description: str = ""
    unit: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    field_config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 24:
            raise ValueError("Expected width in [1, 24].")
        if not self.columns:
            raise ValueError("Expected at least one column.")
        if self.fmt == "time_series" and self.columns[0] != "time":
            raise ValueError("Expected a time series to return 'time' first.")


@dataclass(frozen=True)
class Variable:
    """A query variable over the data source, used in SQL as ``${name:sqlstring}``."""

    name: str
    label: str
    sql: str


@dataclass(frozen=True)
class Board:
    """One dashboard: a uid that never changes, its variables and its panels, row by row."""

    uid: str
    title: str
    slug: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    time_from: str = "now-7d"
    time_to: str = "now"
    refresh: str = "5m"
    tags: tuple[str, ...] = ("smartstreets",)


COUNCIL_SQL = "${council:sqlstring}"
"""The selected council as a quoted SQL literal, for panel SQL."""

COUNCIL = Variable(
    name="council",
    label="Council",
    sql="SELECT slug AS __value, name AS __text FROM council ORDER BY name",
)
"""The council every panel is filtered by; its values come from the council table."""


def geomap(layer: dict[str, Any]) -> dict[str, Any]:
    """Options of a geomap panel fitted to one layer placed by ``latitude`` and ``longitude``."""
    return {
        "view": {"id": "fit", "lat": 0, "lon": 0, "zoom": 14, "allLayers": True},
        "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True},
        "basemap": {"type": "default", "name": "Basemap"},
        "layers": [
            {
                **layer,
                "location": {"mode": "coords", "latitude": "latitude", "longitude": "longitude"},
                "tooltip": True,
            }
        ],
        "tooltip": {"mode": "details"},
    }
