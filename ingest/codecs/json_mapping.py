"""The generic ``json`` model: readings from the network server's own decoding.

When the network server already decodes a device's bytes (a TTN payload formatter's
``decoded_payload``, a ChirpStack codec's ``object``), a per-device mapping in ``model_config``
says which decoded field feeds which field of the contract, by dotted path::

    {"distance_mm": "distance"}                     a bin: fill from distance and depth_mm
    {"fill_pct": "level.percent", "battery_v": "battery"}
    {"count_in": "in", "count_out": "out", "period_s": 900}   a counter

``stream`` may name the stream (``bin-fill`` or ``footfall``); by default it follows the
device's kind. ``blind_mm`` and ``period_s`` are settings, not paths.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ingest.codecs.base import Device, Model, Reading, Undecodable, fill_pct, number
from ingest.contract.lorawan import Uplink
from ingest.contract.payloads import BinFillReading, FootfallCount
from ingest.contract.topics import STREAM_OF_KIND, Stream

DOCUMENT = "README: Connecting real devices"
SETTINGS = {"stream", "blind_mm", "period_s"}
TARGETS = {
    Stream.BIN_FILL: {"fill_pct", "distance_mm", "battery_v", "temperature_c"},
    Stream.FOOTFALL: {"count", "count_in", "count_out"},
}
DEFAULT_PERIOD_S = 600


def _stream(config: Mapping[str, Any], kind: str) -> Stream:
    name = config.get("stream")
    if name is None:
        if kind not in STREAM_OF_KIND:
            raise Undecodable(f"no stream for device kind {kind!r}")
        return STREAM_OF_KIND[kind]
    if name not in (Stream.BIN_FILL.value, Stream.FOOTFALL.value):
        raise Undecodable(
            f"invalid value: model_config.stream {name!r} is not bin-fill or footfall"
        )
    return Stream(name)


def _lookup(decoded: Mapping[str, Any], path: str) -> float:
    value: Any = decoded
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise Undecodable(f"mapping failed: decoded object has no {path!r}")
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Undecodable(f"mapping failed: decoded {path!r} is not a number")
    return float(value)


def decode(uplink: Uplink, device: Device) -> list[Reading]:
    """One reading from the decoded object, through the device's mapping."""
    config = device.model_config
    stream = _stream(config, device.kind)
    if uplink.decoded is None:
        raise Undecodable("no decoded object: the network server did not decode this uplink")
    values = {
        target: _lookup(uplink.decoded, path)
        for target, path in config.items()
        if target not in SETTINGS
    }
    if stream is Stream.BIN_FILL:
        if "distance_mm" in values:
            if device.depth_mm is None:
                raise Undecodable("device has no depth_mm")
            blind = number(config, "blind_mm", 0)
            values["fill_pct"] = fill_pct(values.pop("distance_mm"), device.depth_mm, blind)
        return [BinFillReading.model_validate({"ts": uplink.time, **values}, strict=False)]
    period = timedelta(seconds=number(config, "period_s", DEFAULT_PERIOD_S))
    counts = {k: round(v) for k, v in values.items()}
    if "count" not in counts:
        counts["count"] = counts.get("count_in", 0) + counts.get("count_out", 0)
    return [
        FootfallCount.model_validate(
            {"period_start": uplink.time - period, "period_end": uplink.time, **counts}
        )
    ]


def check(config: Mapping[str, Any], depth_mm: int | None, kind: str) -> str | None:
    """Registry check: a known stream, known targets, paths as text, one fill source."""
    try:
        stream = _stream(config, kind)
    except Undecodable as exc:
        return str(exc)
    if STREAM_OF_KIND.get(kind) is not stream:
        return f"model_config.stream {stream.value} does not suit a {kind}"
    paths = {k: v for k, v in config.items() if k not in SETTINGS}
    unknown = set(paths) - TARGETS[stream]
    if unknown:
        return f"unknown model_config key(s) for {stream.value}: {', '.join(sorted(unknown))}"
    if any(not isinstance(v, str) or not v for v in paths.values()):
        return "model_config paths must be non-empty text"
    if stream is Stream.BIN_FILL:
        sources = {"fill_pct", "distance_mm"} & set(paths)
        if len(sources) != 1:
            return "model_config needs exactly one of fill_pct, distance_mm"
        if "distance_mm" in sources and depth_mm is None:
            return "mapping distance_mm needs depth_mm"
    elif not {"count", "count_in", "count_out"} & set(paths):
        return "model_config needs count, count_in or count_out"
    try:
        number(config, "blind_mm", 0)
        number(config, "period_s", DEFAULT_PERIOD_S)
    except Undecodable as exc:
        return str(exc)
    return None


MODEL = Model("json", None, decode, check, DOCUMENT)
