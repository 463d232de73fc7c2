"""A minute of the soak (bench/soak.py): broker, database and ingest killed with SIGKILL while
devices publish, and every message still stored exactly once."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench.soak_services import have_binaries
from tests.conftest import REPO
from tests.services import tail

why = have_binaries()


@pytest.mark.skipif(why is not None, reason=f"the soak cannot run here: {why}")
@pytest.mark.timeout(240)
def test_a_minute_of_faults_loses_nothing() -> None:
    """A one-minute soak with a fault every 12-20 s exits 0: nothing lost, nothing doubled,
    the API answered 200 or a JSON 503 throughout."""
    # Not tmp_path: pytest's folders are private to root, and PostgreSQL runs as "postgres".
    logs = Path(tempfile.mkdtemp(prefix="soak-test-"))
    logs.chmod(0o755)
    command = [
        sys.executable,
        "bench/soak.py",
        "--minutes",
        "1",
        "--rate",
        "100",
        "--workers",
        "1",
        "--gap",
        "12",
        "20",
        "--outage",
        "2",
        "6",
        "--seed",
        "7",
        "--log-dir",
        str(logs),
    ]
    try:
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=200, check=False
        )
        api_log = tail(logs / "api.log", 30)
    finally:
        shutil.rmtree(logs, ignore_errors=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:] + api_log
    assert "nothing lost, nothing twice" in done.stdout
