"""Two days of a three-council shared service through bench/scale.py: load, storage, panels and
API timings all run and print their figures."""

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.timeout(180)
def test_a_tiny_shared_service_runs_end_to_end(database_server_url: str) -> None:
    """The bench exits 0 and prints each part's figures on the test database server."""
    command = [
        sys.executable,
        "bench/scale.py",
        "--councils",
        "3",
        "--days",
        "2",
        "--big",
        "2",
        "--big-phones",
        "1",
        "--phones",
        "0",
        "--requests",
        "1",
        "--load-seconds",
        "0.5",
        "--connections",
        "4",
        "--database-url",
        database_server_url,
        "--skip-plain",
    ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=170, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for figure in ("bytes per device-year", "dashboard panels on", "req/s", "national service"):
        assert figure in done.stdout
