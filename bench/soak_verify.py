"""The soak's verdict: every message it published, found exactly once, in the right place.

A stored reading names its message by ``seq``; a quarantined one by the number in its bytes.
Natural keys make a second row of the same reading impossible, so a duplicate here means a
message stored under two keys, or both as a reading and in quarantine.
"""

import re
from array import array
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from bench.soak_traffic import QUARANTINE, TABLES, Traffic

_NUMBER = re.compile(rb'"(?:soak|seq)": ?(\d+)')


@dataclass
class Verdict:
    """What the database holds against what was published."""

    published: int
    found: dict[str, int] = field(default_factory=dict)  # rows per table naming a soak message
    missing: list[int] = field(default_factory=list)
    duplicated: list[int] = field(default_factory=list)
    misplaced: int = 0  # stored in another table than its stream's (or a reading quarantined)
    strangers: int = 0  # rows of the soak's council naming no message it published
    extra_copies: int = 0  # quarantine deliveries beyond the first (publishers' re-sends)

    @property
    def stored(self) -> int:
        return sum(n for t, n in self.found.items() if t != QUARANTINE)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.misplaced or self.strangers)


def verify(conn: psycopg.Connection, council: str, traffic: Traffic) -> Verdict:
    """Compare the council's rows with every message ``traffic`` produced."""
    published = traffic.number
    verdict = Verdict(published)
    seen = array("I", bytes(4 * published))
    for index, table in enumerate(TABLES):
        numbers = list(_numbers(conn, council, table, verdict))
        verdict.found[table] = len(numbers)
        for n in numbers:
            if n is None or n >= published:
                verdict.strangers += 1
                continue
            seen[n] += 1
            if traffic.where[n] != index:
                verdict.misplaced += 1
    verdict.missing = [n for n in range(published) if seen[n] == 0]
    verdict.duplicated = [n for n in range(published) if seen[n] > 1]
    return verdict


def _numbers(
    conn: psycopg.Connection, council: str, table: str, verdict: Verdict
) -> list[int | None]:
    if table != QUARANTINE:
        query = sql.SQL("SELECT seq FROM {} WHERE council = %s").format(sql.Identifier(table))
        return [row[0] for row in conn.execute(query, (council,))]
    out: list[int | None] = []
    for payload, copies in conn.execute(
        "SELECT payload, copies FROM quarantine WHERE council = %s", (council,)
    ):
        match = _NUMBER.search(bytes(payload))
        out.append(int(match.group(1)) if match else None)
        verdict.extra_copies += copies - 1
    return out
