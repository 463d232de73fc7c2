"""Fixtures of the ingest tests: a broker of a test's own, for faults that restart or kill."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import OwnMosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[OwnMosquitto]:
    """A Mosquitto of this test's own, restartable, with persistence."""
    broker = OwnMosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()
