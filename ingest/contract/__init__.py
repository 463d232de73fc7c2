"""The device contract: MQTT topics and payloads, shared by devices, simulators and ingest."""

from ingest.contract.payloads import (
    MAX_PAYLOAD_BYTES,
    BinFillReading,
    BumpReport,
    FootfallCount,
    payload_model,
)
from ingest.contract.topics import Stream, TopicParts, build_topic, parse_topic, subscription

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "BinFillReading",
    "BumpReport",
    "FootfallCount",
    "Stream",
    "TopicParts",
    "build_topic",
    "parse_topic",
    "payload_model",
    "subscription",
]
