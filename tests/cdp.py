"""A headless Chromium driven over the DevTools protocol, for tests of pages that need sensors.

Only what the tests use: start the browser, open a page in a tab, send commands (to the
browser or to the tab's session) and evaluate JavaScript. Events are read and dropped while
waiting for a command's answer; nothing here waits on an event.
"""

import base64
import itertools
import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import connect as ws_connect
from websockets.sync.connection import Connection

from tests.helpers import chromium

_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class Tab:
    """One page of the browser, attached with a flat session."""

    def __init__(self, ws: Connection, session: str) -> None:
        self._ws = ws
        self._session = session
        self._ids = itertools.count(1)

    def send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False,
             timeout: float = 30) -> dict[str, Any]:  # fmt: skip
        """Send a command (to the browser itself when ``browser``) and return its result."""
        msg_id = next(self._ids) + (0 if browser else 1_000_000)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if not browser:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") != msg_id:
                continue
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            result: dict[str, Any] = reply.get("result", {})
            return result

    def evaluate(self, expression: str, *, timeout: float = 30) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float = 30, what: str = "") -> Any:
        """Evaluate ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or expression}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        """Save what the tab shows to ``path`` (PNG)."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))


@contextmanager
def browser_tab(profile: Path, width: int = 412, height: int = 915) -> Iterator[Tab]:
    """A headless Chromium with a phone-sized tab, closed at the end."""
    binary = chromium()
    assert binary is not None, "no Chromium"
    proc = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            found = _LISTENING.search(line)
            url = found.group(1) if found else None
        assert url is not None, "Chromium did not open its DevTools port"
        with ws_connect(url, max_size=64 * 2**20) as ws:
            boot = Tab(ws, "")
            target = boot.send("Target.createTarget", {"url": "about:blank"}, browser=True)
            session = boot.send(
                "Target.attachToTarget",
                {"targetId": target["targetId"], "flatten": True},
                browser=True,
            )["sessionId"]
            tab = Tab(ws, session)
            tab.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
            )
            tab.send("Page.enable")
            yield tab
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
