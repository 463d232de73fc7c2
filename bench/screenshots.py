"""Screenshots of the demo's pages at phone width, in headless Chromium: the crew's round, the
same page as printed, the highways map and the residents' page.

    .venv/bin/python bench/screenshots.py --out docs/screenshots

Starts ``smartstreets demo`` in a scratch folder (embedded PostgreSQL and broker), waits for its
potholes, opens each page as its user would (tokens in the browser, as the entry pages keep
them) and saves a full-page PNG of each. Prints, per page, the street names it finds in the
stops, lists and map labels, and fails if a page shows none or draws no roads.
"""

import argparse
import base64
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if not __package__:  # run as ``python bench/screenshots.py``: find tests/ from the root
    sys.path.insert(0, str(REPO))

from tests.cdp import Tab, browser_tab  # noqa: E402
from tests.helpers import chromium  # noqa: E402

COUNCIL = "rutland"

STREETS_JS = """(() => {
  const labels = [...document.querySelectorAll('g.road-names text')]
    .map(t => t.textContent.trim());
  const cells = [...document.querySelectorAll('td[data-label="Street"], td[title]')]
    .map(t => t.textContent.trim());
  const roads = document.querySelectorAll('g.roads path');
  return {labels, cells, roads: roads.length};
})()"""


def _get(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:  # noqa: S310 - our own demo
        return json.loads(r.read())


def _start_demo(folder: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """The demo, and the lines it printed up to its list of URLs."""
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/smartstreets"), "demo", "--data-dir", str(folder / "data"),
         "--port", str(port), "--duration", "900"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=folder,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "stops by itself" in line:
            return proc, lines
    proc.terminate()
    raise SystemExit("error: the demo did not start:\n" + "".join(lines[-20:]))


def _full_page(tab: Tab, path: Path) -> None:
    size = tab.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    data = tab.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 2400), "scale": 1},
        },
    )["data"]
    path.write_bytes(base64.b64decode(data))


def _open(tab: Tab, url: str, ready: str) -> None:
    tab.send("Page.navigate", {"url": url})
    tab.wait_for(ready, timeout=60, what=url)
    time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--width", type=int, default=390, help="Phone width in CSS pixels.")
    args = parser.parse_args()
    if chromium() is None:
        sys.exit("error: no Chromium on this machine (apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        proc, lines = _start_demo(folder, args.port)
        try:
            text = "".join(lines)
            crew = re.search(r"rounds \(crew\).*\(token (\S+)\)", text)
            highways = re.search(r"potholes .*\(token (\S+)\)", text)
            day = re.search(r"date=(\d{4}-\d\d-\d\d)", text)
            assert crew and highways and day, text
            deadline = time.monotonic() + 240
            while not _get(f"{base}/v1/councils/{COUNCIL}/potholes", highways[1]):
                if time.monotonic() > deadline:
                    sys.exit("error: the demo confirmed no potholes within 4 minutes")
                time.sleep(5)
            plan = _get(f"{base}/v1/councils/{COUNCIL}/routes?date={day[1]}", crew[1])
            vehicle = plan["routes"][0]["vehicle"]
            route = f"{base}/v1/councils/{COUNCIL}/routes/{plan['plan_id']}/vehicles/{vehicle}/page"
            highways_map = f"{base}/v1/councils/{COUNCIL}/highways/map"
            with browser_tab(folder / "profile", width=args.width, height=844) as tab:
                tab.send("Network.enable")
                found: dict[str, Any] = {}
                stops, svg = "!!document.querySelector('#stops')", "!!document.querySelector('svg')"
                for name, url, token, ready, media in (
                    ("crew-round", route, crew[1], stops, "screen"),
                    ("printable-round", route, crew[1], stops, "print"),
                    ("highways-map", highways_map, highways[1], svg, "screen"),
                    ("residents", f"{base}/councils/{COUNCIL}", None, svg, "screen"),
                ):
                    auth = {"Authorization": f"Bearer {token}"} if token else {}
                    tab.send("Network.setExtraHTTPHeaders", {"headers": auth})
                    tab.send("Emulation.setEmulatedMedia", {"media": media})
                    _open(tab, url, ready)
                    found[name] = tab.evaluate(STREETS_JS)
                    _full_page(tab, args.out / f"{name}.png")
        finally:
            proc.terminate()
            proc.wait(60)
    for name, what in found.items():
        streets = sorted(set(what["labels"]))[:8]
        cells = sorted(set(what["cells"]))[:5]
        print(f"{name}: {what['roads']} road elements; map labels {streets}; listed {cells}")
        if not what["roads"] or not (what["labels"] or what["cells"]):
            sys.exit(f"error: {name} shows no roads or no street names")
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
