"""The device contract on its own: topics, payload validation, the AsyncAPI document."""

from datetime import UTC, datetime, timedelta

import pytest

from ingest.contract.asyncapi import build_asyncapi, render_asyncapi
from ingest.contract.decode import Reading, Rejection, decode
from ingest.contract.topics import Stream, build_topic, parse_topic
from ingest.errors import InvalidTopic

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BIN_TOPIC = "smartstreets/v1/newtown/bin-fill/bin-1"


@pytest.mark.parametrize("stream", list(Stream))
def test_topic_round_trip(stream: Stream) -> None:
    """A topic built for any stream parses back into the same parts."""
    topic = build_topic("smartstreets", "newtown", stream, "dev_1.a-B")
    parts = parse_topic("smartstreets", topic)
    assert (parts.council, parts.stream, parts.device_id) == ("newtown", stream, "dev_1.a-B")


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("other/v1/newtown/bin-fill/b1", "does not start with"),
        ("smartstreets/v2/newtown/bin-fill/b1", "does not start with"),
        ("smartstreets/v1/newtown/bins/b1", "unknown stream 'bins'"),
        ("smartstreets/v1/New_Town/bin-fill/b1", "council 'New_Town'"),
        ("smartstreets/v1/newtown/bin-fill/b 1", "device id 'b 1'"),
        ("smartstreets/v1/newtown/bin-fill", "expected"),
        ("smartstreets/v1/newtown/bin-fill/b1/extra", "expected"),
    ],
)
def test_bad_topics_are_refused_with_reason(topic: str, reason: str) -> None:
    """Topics off the contract raise InvalidTopic naming the problem."""
    with pytest.raises(InvalidTopic, match=reason):
        parse_topic("smartstreets", topic)


@pytest.mark.parametrize(
    ("council", "device"), [("Bad", "d1"), ("ok", "has/slash"), ("ok", "x" * 65), ("", "d1")]
)
def test_build_topic_refuses_parts_ingest_could_not_parse(council: str, device: str) -> None:
    """Simulators cannot build a topic that ingest would refuse."""
    with pytest.raises(ValueError, match="Expected"):
        build_topic("smartstreets", council, Stream.BIN_FILL, device)


@pytest.mark.parametrize(
    ("stream", "body"),
    [
        (Stream.BIN_FILL, b'{"ts":"2026-11-29T11:00:00+01:00","fill_pct":42.5,"flags":["fire"]}'),
        (
            Stream.BUMP,
            b'{"ts":"2026-11-29T11:00:00Z","lat":52.6,"lon":-0.7,"speed_mps":9,'
            b'"peak_z_g":1.2,"sample_hz":50,"samples_z_g":[0.1,1.2,-0.4]}',
        ),
        (
            Stream.FOOTFALL,
            b'{"period_start":"2026-11-29T10:00:00Z",'
            b'"period_end":"2026-11-29T10:15:00Z","count":17,"count_in":9}',
        ),
    ],
)
def test_valid_payloads_decode(stream: Stream, body: bytes) -> None:
    """A payload that follows the contract becomes a Reading of its stream."""
    result = decode("smartstreets", f"smartstreets/v1/newtown/{stream.value}/d1", body, NOW)
    assert isinstance(result, Reading), result
    assert result.topic.stream is stream


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":', "invalid JSON"),
        (b"[1, 2]", "invalid JSON: payload is not a JSON object"),
        (b"\xff\xfe{}", "invalid UTF-8"),
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":"50"}', "wrong type: fill_pct"),
        (b'{"ts":1764414000,"fill_pct":50}', "wrong type: ts"),
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":101}', "out of range: fill_pct"),
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":-1}', "out of range: fill_pct"),
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":NaN}', "out of range: fill_pct"),
        (b'{"ts":"2026-12-31T11:00:00Z","fill_pct":5}', "out of range: timestamp"),
        (b'{"fill_pct":50}', "missing field: ts"),
        (b'{"ts":"2026-11-29T11:00:00","fill_pct":50}', "timestamp without offset: ts"),
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":5,"colour":"red"}', "unknown field: colour"),
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":5,"flags":["smoke"]}', "unknown value: flags"),
        (b'{"ts":"2026-11-29T11:00:00Z","fill_pct":5,"flags":["fire","fire"]}', "must not repeat"),
        (
            b'{"ts":"2026-11-29T11:00:00Z","fill_pct":5,"pad":"' + b"x" * 70_000 + b'"}',
            "oversized payload",
        ),
    ],
)
def test_bad_payloads_are_rejected_with_reason(body: bytes, reason: str) -> None:
    """Every class of bad payload becomes a Rejection whose reason names the problem."""
    result = decode("smartstreets", BIN_TOPIC, body, NOW)
    assert isinstance(result, Rejection)
    assert reason in result.reason, result.reason


def test_footfall_period_must_run_forwards() -> None:
    """A counting period that ends before it starts is refused."""
    start = NOW - timedelta(minutes=15)
    body = (
        f'{{"period_start":"{NOW.isoformat()}","period_end":"{start.isoformat()}","count":3}}'
    ).encode()
    result = decode("smartstreets", "smartstreets/v1/t/footfall/c1", body, NOW)
    assert isinstance(result, Rejection) and "period_end must be after" in result.reason


def test_samples_need_a_rate() -> None:
    """A bump window without its sampling rate cannot be interpreted, so it is refused."""
    body = (
        b'{"ts":"2026-11-29T11:00:00Z","lat":52.6,"lon":-0.7,"speed_mps":9,'
        b'"peak_z_g":1.2,"samples_z_g":[0.1]}'
    )
    result = decode("smartstreets", "smartstreets/v1/t/bump/p1", body, NOW)
    assert isinstance(result, Rejection) and "samples_z_g needs sample_hz" in result.reason


def test_asyncapi_describes_every_stream() -> None:
    """The AsyncAPI document has a channel, message and schema with required fields per stream."""
    doc = build_asyncapi()
    assert doc["asyncapi"].startswith("3.")
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {f"smartstreets/v1/{{council}}/{s.value}/{{device_id}}" for s in Stream}
    schemas = doc["components"]["schemas"]
    assert schemas["BinFillReading"]["required"] == ["ts", "fill_pct"]
    assert set(schemas["BumpReport"]["required"]) == {"ts", "lat", "lon", "speed_mps", "peak_z_g"}
    assert set(schemas["FootfallCount"]["required"]) == {"period_start", "period_end", "count"}
    assert "#/$defs" not in render_asyncapi()
