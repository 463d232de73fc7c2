"""Device models byte by byte, from the makers' own example payloads, and the generic mapping."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.codecs import MODELS, check_model, fill_pct, readings
from ingest.contract.lorawan import Network, Uplink
from ingest.contract.payloads import BinFillReading, BinFlag, FootfallCount

AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


@dataclass(frozen=True)
class Device:
    """The registry facts a model reads."""

    kind: str
    model: str | None
    depth_mm: int | None = None
    model_config: dict[str, Any] = field(default_factory=dict)


def uplink(hex_bytes: str = "", decoded: dict[str, Any] | None = None) -> Uplink:
    return Uplink(Network.TTN, "app", "dev", None, AT, 85, bytes.fromhex(hex_bytes), decoded, b"{}")


def test_em310_udl_documented_example() -> None:
    """Milesight EM310-UDL, SensorDecoders em-series/em310-udl README example ``01755C 03824408
    040001`` (battery 92 %, distance 2116 mm, position tilt): 2116 mm in a 3000 mm bin is
    29.5 % full, and the tilt becomes the ``tilted`` flag."""
    got = readings(uplink("01755C03824408040001"), Device("bin", "em310-udl", 3000))
    assert got == [BinFillReading(ts=AT, fill_pct=29.5, flags=[BinFlag.TILTED])]


def test_em310_udl_upright_has_no_flag() -> None:
    """Position 0 (normal, per the same README's channel table) raises no flag."""
    got = readings(uplink("03824408040000"), Device("bin", "em310-udl", 3000))
    assert got == [BinFillReading(ts=AT, fill_pct=29.5)]


def test_em500_udl_documented_example() -> None:
    """Milesight EM500-UDL, SensorDecoders em-series/em500-udl README example ``017564
    03821E00`` (battery 100 %, distance 30 mm): 97 % full in a 1000 mm bin."""
    got = readings(uplink("01756403821E00"), Device("bin", "em500-udl", 1000))
    assert got == [BinFillReading(ts=AT, fill_pct=97.0)]


def test_em500_udl_history_record_keeps_its_time() -> None:
    """A historical data channel ``20 CE`` (Unix time 4 bytes + distance 2 bytes, per the README
    channel table) is a reading at its own time."""
    got = readings(uplink("20CE7B3AF164F401"), Device("bin", "em500-udl", 1000))
    assert got == [BinFillReading(ts=datetime.fromtimestamp(1693530747, UTC), fill_pct=50.0)]


def test_vs350_documented_period_counts() -> None:
    """Milesight VS350, SensorDecoders vs-series/vs350 README example ``04CC12001600
    05CC13001400`` (totals 18/22, period 19 in / 20 out): the period counts are one footfall
    count ending at the uplink, the running totals are not stored."""
    got = readings(uplink("04CC1200160005CC13001400"), Device("counter", "vs350"))
    assert got == [
        FootfallCount(
            period_start=AT - timedelta(minutes=10),
            period_end=AT,
            count=39,
            count_in=19,
            count_out=20,
        )
    ]


@pytest.mark.parametrize(
    ("hex_bytes", "end", "in_", "out"),
    [
        ("20CE7B3AF164000B000400", 1693530747, 11, 4),  # README: data type 0
        ("20CEFF3DF16401070002001D000800", 1693531647, 7, 2),  # README: data type 1, with totals
    ],
)
def test_vs350_documented_history(hex_bytes: str, end: int, in_: int, out: int) -> None:
    """The VS350 README's two historical-data examples become counts of their own periods."""
    device = Device("counter", "vs350", model_config={"period_s": 900})
    ends = datetime.fromtimestamp(end, UTC)
    assert readings(uplink(hex_bytes), device) == [
        FootfallCount(
            period_start=ends - timedelta(seconds=900),
            period_end=ends,
            count=in_ + out,
            count_in=in_,
            count_out=out,
        )
    ]


def test_vs350_alarms_are_read_past() -> None:
    """The README's alarm example ``84CC0111081101 85CCE803E90301`` parses but stores nothing."""
    assert readings(uplink("84CC011108110185CCE803E90301"), Device("counter", "vs350")) == []


@pytest.mark.parametrize(
    ("distance", "depth", "blind", "want"),
    [
        (0, 1000, 0, 100.0),
        (250, 1000, 0, 75.0),
        (1000, 1000, 0, 0.0),
        (1400, 1000, 0, 0.0),  # past the floor: clamped
        (200, 1000, 250, 100.0),  # inside the blind zone: as full as it can be seen
        (250, 1000, 250, 75.0),
    ],
)
def test_fill_from_distance(distance: float, depth: int, blind: float, want: float) -> None:
    """Fill is (depth - distance) / depth, clamped, and full inside the blind zone."""
    assert fill_pct(distance, depth, blind) == want


def test_blind_zone_comes_from_model_config() -> None:
    """A device's ``blind_mm`` turns a too-close echo into a full bin."""
    device = Device("bin", "em500-udl", 1000, {"blind_mm": 250})
    got = readings(uplink("03821E00"), device)
    assert isinstance(got, list) and got[0].fill_pct == 100.0  # type: ignore[union-attr]


UNDECODABLE = [
    ("em310-udl", "0382", "undecodable payload: channel 0x03 0x82 at byte 0 needs 2 bytes"),
    ("em310-udl", "03", "undecodable payload: truncated channel header"),
    ("em310-udl", "0999", "undecodable payload: unknown channel 0x09 0x99 at byte 0"),
    ("em310-udl", "040007", "undecodable payload: position value 7"),
    ("vs350", "20CE7B3AF16402", "undecodable payload: history data type 2"),
    ("vs350", "05CC1300", "undecodable payload: channel 0x05 0xCC at byte 0 needs 4 bytes"),
]


@pytest.mark.parametrize(("model", "hex_bytes", "reason"), UNDECODABLE)
def test_undecodable_bytes_give_reasons(model: str, hex_bytes: str, reason: str) -> None:
    """Bytes a model cannot read give a reason, never an exception."""
    kind = MODELS[model].kind or "bin"
    got = readings(uplink(hex_bytes), Device(kind, model, 1000))
    assert isinstance(got, str) and got.startswith(reason), got


def test_unknown_or_missing_model() -> None:
    """A device with no model, or a model nobody wrote, is a reason too."""
    assert readings(uplink("00"), Device("bin", None)) == "device has no model"
    assert readings(uplink("00"), Device("bin", "em9000")) == "unknown model: em9000"


def test_attribute_frames_hold_no_readings() -> None:
    """A power-on frame of device attributes (``FF`` channels) decodes to no readings."""
    got = readings(uplink("FF0BFFFF0101FF166136C19146800000"), Device("bin", "em310-udl", 1000))
    assert got == []


@pytest.mark.parametrize(
    ("kind", "config", "decoded", "want"),
    [
        ("bin", {"distance_mm": "distance"}, {"distance": 300}, {"fill_pct": 70.0}),
        (
            "bin",
            {"fill_pct": "level.percent", "battery_v": "battery"},
            {"level": {"percent": 42.5}, "battery": 3.6},
            {"fill_pct": 42.5, "battery_v": 3.6},
        ),
        (
            "counter",
            {"count_in": "in", "count_out": "out", "period_s": 900},
            {"in": 5, "out": 7},
            {"count": 12, "count_in": 5, "count_out": 7},
        ),
        ("counter", {"count": "people"}, {"people": 31}, {"count": 31}),
    ],
)
def test_json_mapping(
    kind: str, config: dict[str, Any], decoded: dict[str, Any], want: dict[str, Any]
) -> None:
    """The generic model maps the network server's decoded fields into the contract."""
    device = Device(kind, "json", 1000, config)
    assert check_model("json", config, 1000, kind) is None
    got = readings(uplink(decoded=decoded), device)
    assert isinstance(got, list) and len(got) == 1, got
    assert {k: getattr(got[0], k) for k in want} == want


@pytest.mark.parametrize(
    ("config", "decoded", "reason"),
    [
        ({"fill_pct": "fill"}, None, "no decoded object"),
        ({"fill_pct": "fill"}, {"level": 3}, "mapping failed: decoded object has no 'fill'"),
        ({"fill_pct": "fill"}, {"fill": "high"}, "mapping failed: decoded 'fill' is not a number"),
        ({"fill_pct": "fill"}, {"fill": 140}, "mapping failed: out of range: fill_pct"),
    ],
)
def test_json_mapping_failures(
    config: dict[str, Any], decoded: dict[str, Any] | None, reason: str
) -> None:
    """A decoded object that does not fit the mapping is a reason."""
    got = readings(uplink(decoded=decoded), Device("bin", "json", 1000, config))
    assert isinstance(got, str) and got.startswith(reason), got


@pytest.mark.parametrize(
    ("model", "config", "depth", "kind", "problem"),
    [
        ("em310-udl", {}, None, "bin", "an ultrasonic fill sensor needs depth_mm"),
        ("em310-udl", {}, 1000, "counter", "model em310-udl is a bin, not a counter"),
        ("em310-udl", {"blind_mm": 2000}, 1000, "bin", "model_config.blind_mm must be"),
        ("em500-udl", {"colour": "red"}, 1000, "bin", "unknown model_config key(s): colour"),
        ("vs350", {"period_s": 5}, None, "counter", "model_config.period_s must be between"),
        ("json", {}, 1000, "bin", "model_config needs exactly one of fill_pct, distance_mm"),
        ("json", {"count": "n"}, None, "bin", "unknown model_config key(s) for bin-fill: count"),
        ("json", {"stream": "footfall", "count": "n"}, None, "bin", "model_config.stream"),
        ("json", {"distance_mm": "d"}, None, "bin", "mapping distance_mm needs depth_mm"),
        ("nope", {}, None, "bin", "unknown model 'nope'"),
    ],
)
def test_registry_checks(
    model: str, config: dict[str, Any], depth: int | None, kind: str, problem: str
) -> None:
    """A registry row whose model settings cannot work is refused at import, with the reason."""
    got = check_model(model, config, depth, kind)
    assert got is not None and got.startswith(problem), got
