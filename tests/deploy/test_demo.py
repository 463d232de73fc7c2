"""``smartstreets demo`` end to end, on embedded services, as a user would run it."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from deploy.embedded import free_port
from tests.conftest import REPO


def test_demo_runs_every_stream_and_stops_cleanly(tmp_path: Path) -> None:
    """With no service URLs the demo starts embedded services on Oakham's real streets (with
    the map data's attribution), is healthy, stores all three streams, and exits 0 after
    --duration, leaving a data directory that a second run reuses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSTREETS_")}
    port = free_port()
    data = tmp_path / "data"
    cmd = [
        sys.executable,
        "-m",
        "deploy",
        "demo",
        "--duration",
        "20",
        "--port",
        str(port),
        "--data-dir",
        str(data),
        "--history-days",
        "1",
    ]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    health = None
    deadline = time.monotonic() + 90
    while health is None and time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                health = json.load(r)
        except OSError:
            time.sleep(0.5)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert health is not None and health["status"] == "ok", output
    match = re.search(
        r"rows stored: bin_fill=(\d+), bump_report=(\d+), footfall_count=(\d+)", output
    )
    assert match, output
    bins, bumps, counts = (int(g) for g in match.groups())
    assert bins > 0 and bumps > 0 and counts > 24 * 4 * 6, output
    assert "demo stopped cleanly" in output
    assert "town            Oakham, Rutland" in output
    assert "© OpenStreetMap contributors" in output
    # The data directory is reusable: a second short run starts on it and stops cleanly.
    again = subprocess.run(
        [*cmd[:5], "5", *cmd[6:]], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stdout + again.stderr
