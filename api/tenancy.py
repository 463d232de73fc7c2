"""Council isolation in the database: a request about one council sees that council's rows only.

A request whose path names a council runs its queries in one transaction as the role
``smartstreets_tenant`` with ``smartstreets.council`` set to that council (migration 0011). The
database then admits only that council's rows, through row-level security on the tables and
filtering views of the raw streams and rollups (schema ``smartstreets_tenant``, put first on the
search path), whatever a route's own SQL says. Both settings are ``LOCAL``: they end with the
transaction, so a pooled connection goes back to the pool as its owner.

This guards against a query that forgets its council, not against SQL injection: the session's
own user may ``RESET ROLE``. Every value stays a parameter.
"""

import psycopg

from ingest.db.roles import TENANT_ROLE

__all__ = ["COUNCIL_SETTING", "TENANT_ROLE"]

COUNCIL_SETTING = "smartstreets.council"
"""The setting the row-level security policies compare each row's council with."""


def scope_to_council(conn: psycopg.Connection, council: str) -> None:
    """Act for ``council`` only until the current transaction ends; ``conn`` must be in one."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
        raise RuntimeError("scope_to_council needs an open transaction (SET LOCAL ends with it)")
    # One round trip on every council request: set_config('role', …, true) is SET LOCAL ROLE.
    conn.execute(
        "SELECT set_config('role', 'smartstreets_tenant', true), "
        "set_config('smartstreets.council', %s, true), set_config('search_path', "
        "'smartstreets_tenant, ' || current_setting('search_path'), true)",
        (council,),
    )


def scope_of(conn: psycopg.Connection) -> tuple[str, str | None]:
    """The role queries run as and the council they are confined to (``None``: no council)."""
    row = conn.execute(
        "SELECT current_user::text, nullif(current_setting('smartstreets.council', true), '')"
    ).fetchone()
    assert row is not None
    return str(row[0]), row[1]
