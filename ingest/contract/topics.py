"""MQTT topic names of the device contract.

A reading is published to ``{prefix}/v1/{council}/{stream}/{device_id}``. The same functions build
topics for simulators and devices and parse them in ingest, so the two can never disagree.
"""

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from ingest.errors import InvalidTopic

CONTRACT_VERSION = "v1"
COUNCIL_PATTERN = r"[a-z0-9-]{1,40}"
DEVICE_ID_PATTERN = r"[A-Za-z0-9_.-]{1,64}"
PREFIX_PATTERN = r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*"

_COUNCIL = re.compile(COUNCIL_PATTERN)
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
_PREFIX = re.compile(PREFIX_PATTERN)


class Stream(StrEnum):
    """The kinds of reading a device can publish; the value is the topic segment."""

    BIN_FILL = "bin-fill"
    BUMP = "bump"
    FOOTFALL = "footfall"
    COVERAGE = "coverage"


STREAM_OF_KIND: dict[str, Stream] = {"bin": Stream.BIN_FILL, "counter": Stream.FOOTFALL}
"""The stream each kind of registered device publishes (phones are not registered)."""


@dataclass(frozen=True, slots=True)
class TopicParts:
    """A parsed device topic."""

    council: str
    stream: Stream
    device_id: str


def _check_prefix(prefix: str) -> None:
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"Expected an MQTT prefix matching {PREFIX_PATTERN!r}, got {prefix!r}.")


def build_topic(prefix: str, council: str, stream: Stream | str, device_id: str) -> str:
    """Return the topic a device publishes its ``stream`` readings to.

    Raises ``ValueError`` when a part would make a topic that ingest cannot parse.
    """
    _check_prefix(prefix)
    if not _COUNCIL.fullmatch(council):
        raise ValueError(f"Expected a council slug matching {COUNCIL_PATTERN!r}, got {council!r}.")
    if not _DEVICE_ID.fullmatch(device_id):
        raise ValueError(f"Expected a device id matching {DEVICE_ID_PATTERN!r}, got {device_id!r}.")
    return f"{prefix}/{CONTRACT_VERSION}/{council}/{Stream(stream).value}/{device_id}"


def subscription(prefix: str, council: str = "+", stream: str = "+") -> str:
    """Return the topic filter matching every device of ``council`` on ``stream`` (``+`` = all)."""
    _check_prefix(prefix)
    return f"{prefix}/{CONTRACT_VERSION}/{council}/{stream}/+"


def status_topic(prefix: str, client_id: str) -> str:
    """Return the retained ``…/status`` topic a long-lived client announces itself on."""
    _check_prefix(prefix)
    return f"{prefix}/status/{client_id}"


@functools.lru_cache(maxsize=65_536)
def parse_topic(prefix: str, topic: str) -> TopicParts:
    """Split a device topic into its council, stream and device id.

    Raises :class:`InvalidTopic` with a reason a device maker can act on. A device publishes on
    one topic, so the answers for the last 65,536 topics are kept (a fifth of the writer's
    decoding time went here).
    """
    head = f"{prefix}/{CONTRACT_VERSION}/"
    if not topic.startswith(head):
        raise InvalidTopic(f"topic does not start with {head!r}")
    parts = topic[len(head) :].split("/")
    if len(parts) != 3:
        raise InvalidTopic(f"expected {head}<council>/<stream>/<device_id>, got {topic!r}")
    council, stream, device_id = parts
    if not _COUNCIL.fullmatch(council):
        raise InvalidTopic(f"council {council!r} is not a slug matching {COUNCIL_PATTERN}")
    try:
        parsed_stream = Stream(stream)
    except ValueError:
        known = ", ".join(s.value for s in Stream)
        raise InvalidTopic(f"unknown stream {stream!r} (expected one of {known})") from None
    if not _DEVICE_ID.fullmatch(device_id):
        raise InvalidTopic(f"device id {device_id!r} does not match {DEVICE_ID_PATTERN}")
    return TopicParts(council=council, stream=parsed_stream, device_id=device_id)
