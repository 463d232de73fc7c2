"""Council facts: whether a council is registered, its display name, its time zone and whether
its residents may upload drives (changed through ``ingest.db.council_profile``).

The one home of these lookups. The rule for a council that is not registered is the same
everywhere: :func:`find_council` answers ``None`` and every other function raises
:class:`UnknownCouncil`, which callers turn into their own one-line error or 404.
"""

from dataclasses import dataclass

import psycopg


class UnknownCouncil(LookupError):
    """A council slug that is not registered."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"unknown council {slug!r}")
        self.slug = slug


@dataclass(frozen=True)
class Council:
    """A registered council: ``slug`` in topics and URLs, ``name`` for people, its IANA
    ``timezone`` and the name of its built-in ``holiday_calendar``."""

    slug: str
    name: str
    timezone: str
    holiday_calendar: str


def find_council(conn: psycopg.Connection, slug: str) -> Council | None:
    """The council registered as ``slug``, or ``None``."""
    row = conn.execute(
        "SELECT slug, name, timezone, holiday_calendar FROM council WHERE slug = %s", (slug,)
    ).fetchone()
    return None if row is None else Council(*(str(v) for v in row))


def council_exists(conn: psycopg.Connection, slug: str) -> bool:
    """Whether ``slug`` is a registered council."""
    return find_council(conn, slug) is not None


def require_council(conn: psycopg.Connection, slug: str) -> Council:
    """The council registered as ``slug``; raises :class:`UnknownCouncil` otherwise."""
    council = find_council(conn, slug)
    if council is None:
        raise UnknownCouncil(slug)
    return council


def council_timezone(conn: psycopg.Connection, slug: str) -> str:
    """The council's IANA time zone; raises :class:`UnknownCouncil` for an unknown council."""
    return require_council(conn, slug).timezone


def council_name(conn: psycopg.Connection, slug: str) -> str:
    """The council's display name; raises :class:`UnknownCouncil` for an unknown council."""
    return require_council(conn, slug).name


def council_slugs(conn: psycopg.Connection) -> list[str]:
    """Every registered council's slug, in order."""
    return [str(r[0]) for r in conn.execute("SELECT slug FROM council ORDER BY slug")]


def drives_enabled(conn: psycopg.Connection, slug: str) -> bool:
    """Whether residents' phones may upload drives to the council (``POST …/drives``); raises
    :class:`UnknownCouncil` for an unknown council."""
    row = conn.execute("SELECT drives_enabled FROM council WHERE slug = %s", (slug,)).fetchone()
    if row is None:
        raise UnknownCouncil(slug)
    return bool(row[0])
