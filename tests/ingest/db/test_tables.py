"""A coverage track with its roughness stretches, through the real decoder and writer."""

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.contract.decode import Reading, Rejection, decode
from ingest.contract.topics import Stream, build_topic
from ingest.db.writer import Message, StreamWriter

PREFIX = "smartstreets"
NOW = datetime.now(UTC).replace(microsecond=0)
TRACK = {
    "ts_start": (NOW - timedelta(minutes=20)).isoformat(),
    "ts_end": (NOW - timedelta(minutes=10)).isoformat(),
    "points": [[52.6600, -0.7200], [52.6610, -0.7200], [52.6620, -0.7200]],
}


def _decode(council: str, device: str, body: dict[str, object]) -> tuple[str, bytes, object]:
    topic = build_topic(PREFIX, council, Stream.COVERAGE, device)
    payload = json.dumps(body).encode()
    return topic, payload, decode(PREFIX, topic, payload, datetime.now(UTC))


def test_roughness_is_stored_beside_the_track(
    conn: psycopg.Connection, council: str, uid: str
) -> None:
    """The stretches' middles and IRI land in the track's row, in order; a track without them
    stores NULLs."""
    rough = [[52.6605, -0.72, 2.5], [52.6615, -0.72, 7.25]]
    messages = []
    for device, body in ((f"a-{uid}", TRACK | {"roughness": rough}), (f"b-{uid}", TRACK)):
        topic, payload, result = _decode(council, device, body)
        assert isinstance(result, Reading), result
        messages.append(Message(topic, payload, datetime.now(UTC), result))
    StreamWriter(conn).write(messages)
    rows = conn.execute(
        "SELECT rough_lats, rough_lons, rough_iri FROM trip_coverage WHERE council = %s "
        "ORDER BY rough_iri NULLS LAST",
        (council,),
    ).fetchall()
    assert rows == [([52.6605, 52.6615], [-0.72, -0.72], [2.5, 7.25]), (None, None, None)]


@pytest.mark.parametrize(
    ("roughness", "reason"),
    [
        ([[52.66, -0.72, 60.0]], "not in [0, 50]"),
        ([[52.66, -0.72, -1.0]], "not in [0, 50]"),
        ([[52.66, 200.0, 3.0]], "not a WGS 84"),
        ([[52.66, -0.72]], "roughness"),
    ],
)
def test_bad_roughness_is_rejected_with_reason(
    council: str, roughness: list[list[float]], reason: str
) -> None:
    """An impossible roughness or a malformed stretch is refused, naming the problem."""
    _, _, result = _decode(council, "phone-1", TRACK | {"roughness": roughness})
    assert isinstance(result, Rejection)
    assert reason in result.reason, result.reason
