"""Properties of the decoder and the writer over generated messages: whatever arrives, the
decoder answers with a Reading or a Rejection, and the writer stores it or quarantines it."""

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.contract.decode import Reading, Rejection, decode
from ingest.contract.topics import Stream, build_topic
from ingest.db.registry import DeviceCreate, import_devices
from ingest.db.tables import table_of
from ingest.db.writer import Message, StreamWriter, fingerprint

PREFIX = "smartstreets"
NOW = datetime.now(UTC).replace(microsecond=0)
TS = (NOW - timedelta(hours=1)).isoformat()
TS_END = (NOW - timedelta(minutes=45)).isoformat()

VALID: dict[Stream, dict[str, Any]] = {
    Stream.BIN_FILL: {"ts": TS, "fill_pct": 42.5, "seq": 7, "battery_v": 3.6, "flags": ["fire"]},
    Stream.BUMP: {
        "ts": TS,
        "lat": 52.6,
        "lon": -0.7,
        "speed_mps": 9.0,
        "peak_z_g": 1.2,
        "sample_hz": 50.0,
        "samples_z_g": [0.1, 1.2, -0.4],
    },
    Stream.FOOTFALL: {"period_start": TS, "period_end": TS_END, "count": 17, "count_in": 9},
    Stream.COVERAGE: {"ts_start": TS, "ts_end": TS_END, "points": [[52.6, -0.7], [52.61, -0.71]]},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
odd_values = st.one_of(
    json_values,
    st.integers(min_value=2**63, max_value=2**200) | st.integers(max_value=-(2**63)),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.integers(min_value=50, max_value=400).map(lambda d: "[" * d + "]" * d),  # nested, as text
)


@st.composite
def near_valid(draw: st.DrawFn, stream: Stream) -> bytes:
    """A valid payload of ``stream`` with one field changed, dropped or added."""
    body = dict(VALID[stream])
    key = draw(st.sampled_from(sorted(body)))
    how = draw(st.sampled_from(["replace", "drop", "extra", "nest"]))
    if how == "replace":
        body[key] = draw(odd_values)
    elif how == "drop":
        del body[key]
    elif how == "extra":
        body[draw(st.text(min_size=1, max_size=10))] = draw(odd_values)
    else:
        body[key] = json.loads("[" * 30 + "1" + "]" * 30)
    text = json.dumps(body, allow_nan=True)  # NaN and Infinity appear as bare literals
    return text.encode()


streams = st.sampled_from(list(Stream))
device_ids = st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True)
topics = st.one_of(
    st.builds(lambda s, d: build_topic(PREFIX, "newtown", s, d), streams, device_ids),
    st.text(max_size=80),
    st.text(max_size=40).map(lambda t: f"{PREFIX}/v1/{t}"),
)
payloads = st.one_of(
    st.binary(max_size=512),
    json_values.map(lambda v: json.dumps(v).encode()),
    streams.flatmap(near_valid),
)


def _check(result: Reading | Rejection) -> None:
    assert isinstance(result, Reading | Rejection)
    if isinstance(result, Rejection):
        assert result.reason.strip()


@settings(max_examples=500, deadline=None)
@given(topic=topics, payload=payloads)
def test_decode_never_raises(topic: str, payload: bytes) -> None:
    """Any topic and any bytes decode to a Reading or to a Rejection with a reason."""
    _check(decode(PREFIX, topic, payload, NOW))


@settings(max_examples=300, deadline=None)
@given(stream=streams, device=device_ids, data=st.data())
def test_near_valid_payloads_are_rejected_or_read(
    stream: Stream, device: str, data: st.DataObject
) -> None:
    """One wrong field on a valid payload gives a Rejection with a reason, or still a Reading of
    the right stream (an optional field dropped, a value still in range)."""
    payload = data.draw(near_valid(stream))
    result = decode(PREFIX, build_topic(PREFIX, "newtown", stream, device), payload, NOW)
    _check(result)
    if isinstance(result, Reading):
        assert result.topic.stream is stream


def _count(conn: psycopg.Connection, table: str, council: str) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM {table} WHERE council = %s",  # noqa: S608 - table from the writer
        (council,),
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def devices(conn: psycopg.Connection, council: str, uid: str) -> dict[Stream, str]:
    """A registered bin and counter of the test's council; phones need no registration."""
    bin_id, counter_id = f"bin-{uid}", f"cnt-{uid}"
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="bin", device_id=bin_id, lat=52.6, lon=-0.7, capacity_litres=1
            ),
            DeviceCreate(
                council=council, kind="counter", device_id=counter_id, lat=52.6, lon=-0.7, zone="z"
            ),
        ],
    )
    return {
        Stream.BIN_FILL: bin_id,
        Stream.FOOTFALL: counter_id,
        Stream.BUMP: f"phone-{uid}",
        Stream.COVERAGE: f"phone-{uid}",
    }


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=streams, data=st.data())
def test_every_message_is_stored_or_quarantined(
    conn: psycopg.Connection,
    council: str,
    devices: dict[Stream, str],
    stream: Stream,
    data: st.DataObject,
) -> None:
    """Through the real writer every message becomes a stored row or a quarantine row with its
    raw bytes and a reason: never an exception, never lost."""
    device = data.draw(st.sampled_from([devices[stream], "unregistered"]))
    topic = build_topic(PREFIX, council, stream, device)
    payload = data.draw(st.one_of(near_valid(stream), payloads), label="payload")
    table = table_of(stream)
    before = _count(conn, table, council)
    received = datetime.now(UTC)
    msg = Message(topic, payload, received, decode(PREFIX, topic, payload, received))
    result = StreamWriter(conn).write([msg])
    stored = sum(result.written.values())
    assert _count(conn, table, council) - before == stored
    if result.quarantined:
        row = conn.execute(
            "SELECT payload, reason FROM quarantine WHERE fingerprint = %s",
            (fingerprint(topic, payload),),
        ).fetchone()
        assert row is not None and bytes(row[0]) == payload and row[1].strip()
    else:
        assert isinstance(msg.decoded, Reading)
        assert stored + result.duplicates == 1


def test_a_nul_in_a_field_name_is_quarantined_not_fatal(
    conn: psycopg.Connection, council: str, devices: dict[Stream, str]
) -> None:
    """A field name holding U+0000 (quoted in the reason, which PostgreSQL text refuses) still
    ends in quarantine with its raw bytes; it once failed the whole batch."""
    topic = build_topic(PREFIX, council, Stream.BIN_FILL, devices[Stream.BIN_FILL])
    payload = b'{"ts": "2026-01-01T00:00:00Z", "fill_pct": 5, "\\u0000x": 1}'
    received = datetime.now(UTC)
    msg = Message(topic, payload, received, decode(PREFIX, topic, payload, received))
    assert StreamWriter(conn).write([msg]).quarantined == 1
    row = conn.execute(
        "SELECT payload, reason FROM quarantine WHERE fingerprint = %s",
        (fingerprint(topic, payload),),
    ).fetchone()
    assert row is not None and bytes(row[0]) == payload and "unknown field" in row[1]
