"""Phone pseudonyms: a phone's own id never reaches storage.

Phones are not registered, and the id on their topic is whatever the app chose. Before a
``bump`` or ``coverage`` message is stored (or quarantined), that id is replaced by a keyed hash
under a random salt that belongs to a period (30 days by default, counted on the ingest clock).
The salt lives in ``phone_salt`` so that every ingest worker uses the same one, and is deleted once
its period is over: from then on nobody, the council included, can link a phone's reports of
one period to those of the next, or to the phone.

Within a period a phone keeps one pseudonym, so "distinct phones" can still be counted; across
periods it cannot, so :func:`distinct_phones` counts phones per period and takes the largest
count, which never counts one phone twice.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import datetime

import psycopg

PERIOD_DAYS = 30
"""Default length of a salt's period, in days."""

_PSEUDONYM = re.compile(r"^p(\d+)-[0-9a-f]{16}$")


def period_of(at: datetime, days: int = PERIOD_DAYS) -> int:
    """The number of the ``days``-long period holding ``at`` (periods start at the Unix epoch)."""
    if days < 1:
        raise ValueError("Expected a period of at least 1 day.")
    return int(at.timestamp() // (days * 86400))


def pseudonym(salt: bytes, period: int, council: str, device_id: str) -> str:
    """The stored id of phone ``device_id`` of ``council`` in ``period`` under ``salt``."""
    digest = hmac.new(salt, f"{council}\x00{device_id}".encode(), hashlib.sha256).hexdigest()
    return f"p{period}-{digest[:16]}"


def period_of_pseudonym(device_id: str) -> str | None:
    """The period a stored phone id belongs to, or ``None`` for an id that is not a pseudonym
    (reports written before pseudonymisation, or by tests and the in-memory evaluation)."""
    match = _PSEUDONYM.match(device_id)
    return match[1] if match else None


def distinct_phones(device_ids: Iterable[str]) -> int:
    """How many different phones ``device_ids`` certainly come from.

    Pseudonyms of different periods may be the same phone, so phones are counted within each
    period and the largest count is taken.
    """
    by_period: dict[str | None, set[str]] = {}
    for d in device_ids:
        by_period.setdefault(period_of_pseudonym(d), set()).add(d)
    return max((len(ids) for ids in by_period.values()), default=0)


class PhonePseudonyms:
    """Turns phone ids into pseudonyms, with the period's salt fetched once and remembered.

    Parameters
    ----------
    days
        Length of a salt's period.
    """

    def __init__(self, days: int = PERIOD_DAYS) -> None:
        if not 1 <= days <= 366:
            raise ValueError("Expected a salt period in [1, 366] days.")
        self.days = days
        self._salts: dict[int, bytes] = {}

    def __call__(self, conn: psycopg.Connection, council: str, device_id: str, at: datetime) -> str:
        """The pseudonym of ``device_id`` for a message received at ``at``."""
        period = period_of(at, self.days)
        return pseudonym(self._salt(conn, period), period, council, device_id)

    def forget(self) -> None:
        """Drop the remembered salts (after a rollback that may have undone storing one)."""
        self._salts.clear()

    def _salt(self, conn: psycopg.Connection, period: int) -> bytes:
        salt = self._salts.get(period)
        if salt is not None:
            return salt
        conn.execute(
            "INSERT INTO phone_salt (period_days, period, salt) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (self.days, period, secrets.token_bytes(32)),
        )
        row = conn.execute(
            "SELECT salt FROM phone_salt WHERE period_days = %s AND period = %s",
            (self.days, period),
        ).fetchone()
        assert row is not None
        # Periods that are over lose their salt: their pseudonyms can no longer be linked.
        conn.execute(
            "DELETE FROM phone_salt WHERE period_days = %s "
            "AND period < floor(extract(epoch FROM now()) / (%s * 86400))",
            (self.days, self.days),
        )
        if len(self._salts) >= 4:
            self._salts.pop(min(self._salts))
        self._salts[period] = bytes(row[0])
        return self._salts[period]
