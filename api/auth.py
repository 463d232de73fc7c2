"""API tokens: scoped to one council, stored as hashes, shown once at creation."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

import psycopg

from ingest.db.councils import require_council

TOKEN_PATTERN = re.compile(r"^sst_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")


class Scope(StrEnum):
    """What a token may do; ``admin`` may do everything within its council."""

    CREW = "crew"
    HIGHWAYS = "highways"
    ADMIN = "admin"
    INGEST = "ingest"
    """May post readings and uplinks for its council (a network server's webhook), nothing else."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for."""

    token_id: str
    council: str
    scope: Scope

    def allows(self, council: str, scope: Scope) -> bool:
        """Whether this token may act with ``scope`` on ``council``."""
        return self.council == council and (self.scope in (scope, Scope.ADMIN))


def _digest(secret: str) -> bytes:
    # Tokens carry 256 random bits, so a fast hash is enough: nobody can brute-force them.
    return hashlib.sha256(secret.encode()).digest()


def create_token(conn: psycopg.Connection, council: str, scope: Scope, name: str = "") -> str:
    """Create a token and return it; only its hash is stored, so it cannot be shown again."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with conn.transaction():
        require_council(conn, council)
        conn.execute(
            "INSERT INTO api_token (token_id, council, scope, name, secret_sha256) "
            "VALUES (%s, %s, %s, %s, %s)",
            (token_id, council, scope.value, name, _digest(secret)),
        )
    return f"sst_{token_id}_{secret}"


def verify_token(conn: psycopg.Connection, token: str) -> Principal | None:
    """The principal a token stands for, or ``None`` if it is malformed, unknown or revoked."""
    match = TOKEN_PATTERN.match(token)
    if match is None:
        return None
    token_id, secret = match[1], match[2]
    # A function (migration 0011) rather than the table, so that a request already confined to
    # one council can still tell another council's token (403) from an unknown one (401).
    row = conn.execute(
        "SELECT council, scope, secret_sha256 FROM api_token_lookup(%s)", (token_id,)
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[2]), _digest(secret)):
        return None
    return Principal(token_id, str(row[0]), Scope(row[1]))


def revoke_token(conn: psycopg.Connection, token_id: str) -> bool:
    """Revoke a token by its id; ``False`` if there was no such live token."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE api_token SET revoked_at = now() WHERE token_id = %s AND revoked_at IS NULL",
            (token_id,),
        )
    return cur.rowcount == 1
