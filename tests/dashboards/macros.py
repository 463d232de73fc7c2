"""A small stand-in for Grafana's SQL interpolation, enough to run panel SQL in the tests."""

import re
from datetime import UTC, datetime, timedelta

NOW = datetime.now(UTC).replace(microsecond=0)
FROM, TO = NOW - timedelta(days=7), NOW + timedelta(days=1)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def expand(sql: str, variables: dict[str, str]) -> str:
    """``sql`` with the Grafana macros and ``${var:sqlstring}`` / ``$var`` replaced, the time
    range being the last seven days and the next one."""
    t_from, t_to = _quote(FROM.isoformat()), _quote(TO.isoformat())
    out = re.sub(
        r"\$__timeFilter\(([^)]*)\)",
        lambda m: f"({m.group(1)} BETWEEN {t_from} AND {t_to})",
        sql,
    )
    out = out.replace("$__timeFrom()", t_from).replace("$__timeTo()", t_to)
    out = out.replace("$__interval_ms", "3600000").replace("$__interval", "1h")
    for name, value in variables.items():
        out = out.replace(f"${{{name}:sqlstring}}", _quote(value))
        out = re.sub(rf"\$\{{{name}\}}|\${name}\b", value, out)
    left = re.search(r"\$(__\w+|\{\w+(:\w+)?\}|[a-z_]+\b)", out)
    assert left is None, f"not expanded: {left.group(0)}"
    return out
