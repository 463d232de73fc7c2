"""Council facts: one lookup, one rule for a council that is not registered."""

import psycopg
import pytest

from ingest.db.councils import (
    Council,
    UnknownCouncil,
    council_exists,
    council_name,
    council_slugs,
    council_timezone,
    find_council,
    require_council,
)


def test_registered_council_facts(conn: psycopg.Connection, uid: str) -> None:
    """A registered council's name, time zone and holiday calendar come from its row."""
    slug = f"c-{uid}"
    conn.execute(
        "INSERT INTO council (slug, name, timezone, holiday_calendar) VALUES (%s, %s, %s, %s)",
        (slug, "Testshire Council", "Australia/Melbourne", "vic"),
    )
    assert find_council(conn, slug) == Council(
        slug, "Testshire Council", "Australia/Melbourne", "vic"
    )
    assert council_exists(conn, slug)
    assert council_name(conn, slug) == "Testshire Council"
    assert council_timezone(conn, slug) == "Australia/Melbourne"
    assert require_council(conn, slug).holiday_calendar == "vic"
    assert slug in council_slugs(conn)


def test_defaults_of_a_new_council(conn: psycopg.Connection, council: str) -> None:
    """A council registered with a name only is in Europe/London with England's holidays."""
    found = require_council(conn, council)
    assert (found.timezone, found.holiday_calendar) == ("Europe/London", "england")


@pytest.mark.parametrize("lookup", [require_council, council_timezone, council_name])
def test_unknown_council_raises(conn: psycopg.Connection, uid: str, lookup: object) -> None:
    """Every lookup but find_council and council_exists raises UnknownCouncil, a LookupError
    that names the slug."""
    slug = f"nowhere-{uid}"
    assert find_council(conn, slug) is None
    assert not council_exists(conn, slug)
    with pytest.raises(UnknownCouncil, match=f"unknown council '{slug}'") as caught:
        lookup(conn, slug)  # type: ignore[operator]
    assert isinstance(caught.value, LookupError)
    assert caught.value.slug == slug
