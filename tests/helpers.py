"""Small helpers shared by tests: waiting on a condition and publishing messages."""

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import uvicorn

from deploy.embedded import free_port
from ingest.mqtt import open_client

T = TypeVar("T")


def wait_for(probe: Callable[[], T], *, timeout: float = 20, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy, and return that; fail on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def publish_all(mqtt_url: str, client_id: str, messages: Iterable[tuple[str, bytes]]) -> int:
    """Publish ``(topic, payload)`` pairs with QoS 1 and wait until the broker has them all."""
    client = open_client(mqtt_url, client_id)
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=20)
        assert info.is_published()
    client.disconnect()
    client.loop_stop()
    return len(infos)


def chromium() -> str | None:
    """A headless-capable Chromium on this machine (``SMARTSTREETS_CHROMIUM`` first), if any."""
    return os.environ.get("SMARTSTREETS_CHROMIUM") or next(
        (p for p in ("chromium", "chromium-browser", "google-chrome") if shutil.which(p)), None
    )


def phone_screenshot(url: str, shot: Path, profile: Path, height: int) -> None:
    """Save what a 412 px wide headless Chromium shows of ``url`` to ``shot`` (PNG)."""
    browser = chromium()
    assert browser is not None, "no Chromium"
    out = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size=412,{height}",
            f"--screenshot={shot}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), out.stderr[-2000:]


@contextmanager
def served(app: object) -> Iterator[str]:
    """``app`` served by uvicorn over HTTP on a free loopback port, for a real browser."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)  # type: ignore[arg-type]
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    wait_for(lambda: srv.started, what="uvicorn")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
