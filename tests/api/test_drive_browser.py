"""The drive app in a real headless Chromium, its sensors replaying recorded traces.

The DevTools protocol overrides the accelerometer (``Emulation.setSensorOverrideReadings``,
which Chromium turns into ``devicemotion`` events at 60 Hz) and the position
(``Emulation.setGeolocationOverride``), sample by sample in real time. The page measures, stops,
queues and uploads as on a phone; the database must then hold the drive's reports, coverage and
roughness exactly once, also when the page went offline mid-drive and came back (and was
reloaded offline in between, from its service worker). Screenshots of each state are saved to
``$SMARTSTREETS_SCREENSHOT_DIR`` when set.
"""

import os
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from analytics.geo.geometry import haversine_m, moved
from analytics.potholes.detector import Sample
from analytics.potholes.phone_upload import phone_upload
from bench.detector_data import Drive, data_root, load_drives
from simulators.features import RoadFeature
from simulators.phones import PhoneProfile, simulate_trip
from tests.cdp import Tab, browser_tab
from tests.helpers import chromium

pytestmark = pytest.mark.skipif(
    chromium() is None, reason="needs Chromium (Debian package 'chromium')"
)

G = 9.80665
START = datetime(2026, 3, 2, 8, tzinfo=UTC)
CENTRE = (52.6700, -0.7300)
POTHOLE_EAST_M = 350.0


@pytest.fixture
def drives_council(conn: psycopg.Connection, council: str) -> str:
    conn.execute("UPDATE council SET drives_enabled = true WHERE slug = %s", (council,))
    return council


def _shots() -> Path | None:
    folder = os.environ.get("SMARTSTREETS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) if folder else None


def _pothole_drive() -> list[Sample]:
    """A simulated 60 Hz drive east along a straight road over one severe pothole, of a seed
    whose reference detector reports it firmly (peak well above threshold): the browser samples
    the replay at its own instants, so a marginal jolt could come and go."""
    route = [moved(*CENTRE, east, 0.0) for east in (0.0, 350.0, 700.0)]
    pothole = RoadFeature("p", "pothole", *moved(*CENTRE, POTHOLE_EAST_M, 0.0), 1.0, 1.0)
    for seed in range(200):
        trip = simulate_trip(
            route,
            [14.0, 14.0],
            [pothole],
            START,
            random.Random(seed),
            PhoneProfile(sample_hz=60),
            keep_samples=True,
        )
        assert trip.samples is not None
        reports = phone_upload(trip.samples, START).reports
        if len(reports) == 1 and reports[0].peak_z_g >= 0.5:
            return list(trip.samples)
    raise AssertionError("no seed gives a firm pothole report")


def _replay(tab: Tab, samples: Sequence[Sample], *, offline_at: float | None = None) -> None:
    """Feed the trace to the page's sensors in real time; go offline at ``offline_at`` s."""
    t0, base = time.monotonic(), samples[0].t
    last_fix = -1.0
    for s in samples:
        wait = s.t - base - (time.monotonic() - t0)
        if wait > 0:
            time.sleep(wait)
        if s.t - last_fix >= 1.0:  # GPS: about once a second, as a phone's
            tab.send(
                "Emulation.setGeolocationOverride",
                {"latitude": s.lat, "longitude": s.lon, "accuracy": 5, "speed": s.speed},
            )
            last_fix = s.t
        xyz = {"x": s.ax * G, "y": s.ay * G, "z": s.az * G}
        reading = {"type": "accelerometer", "reading": {"xyz": xyz}}
        tab.send("Emulation.setSensorOverrideReadings", reading)
        if offline_at is not None and s.t >= offline_at:
            _network(tab, online=False)
            offline_at = None


def _busiest_minute(drive: Drive, seconds: float = 70.0) -> list[Sample]:
    """The ``seconds`` of ``drive`` that cover the most road, times counted from their start."""
    trace = drive.samples

    def covered(i: int) -> float:
        return sum(s.speed for s in trace[i:] if s.t <= trace[i].t + seconds)

    first = max(range(len(trace)), key=covered)
    t0 = trace[first].t
    return [
        Sample(s.t - t0, s.lat, s.lon, s.speed, s.ax, s.ay, s.az)
        for s in trace[first:]
        if s.t <= t0 + seconds
    ]


def _network(tab: Tab, *, online: bool) -> None:
    tab.send(
        "Network.emulateNetworkConditions",
        {"offline": not online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def _open(tab: Tab, server: str, council: str, first: Sample) -> None:
    tab.send(
        "Browser.grantPermissions",
        {"origin": server, "permissions": ["sensors", "geolocation"]},
        browser=True,
    )
    for sensor in ("accelerometer", "linear-acceleration", "gyroscope"):
        tab.send("Emulation.setSensorOverrideEnabled", {"enabled": True, "type": sensor})
        z = G if sensor == "accelerometer" else 0.0
        tab.send(
            "Emulation.setSensorOverrideReadings",
            {"type": sensor, "reading": {"xyz": {"x": 0.0, "y": 0.0, "z": z}}},
        )
    tab.send(
        "Emulation.setGeolocationOverride",
        {"latitude": first.lat, "longitude": first.lon, "accuracy": 5, "speed": first.speed},
    )
    tab.send("Network.enable")
    tab.send("Page.navigate", {"url": f"{server}/drive?council={council}"})
    _wait_state(tab, "ready")


def _wait_state(tab: Tab, state: str, timeout: float = 30) -> str:
    expression = (
        "(() => { const s = document.getElementById('state');"
        f" return s && s.dataset.state === {state!r} ? s.textContent : ''; }})()"
    )
    shown = (
        "(() => { const s = document.getElementById('state');"
        " return s ? `${s.dataset.state}: ${s.textContent}` : document.body.innerText; })()"
    )
    try:
        text: str = tab.wait_for(expression, timeout=timeout, what=f"state {state}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the page shows {tab.evaluate(shown)!r}") from None
    return text


def _stored(conn: psycopg.Connection, council: str) -> tuple[int, int, int, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM bump_report WHERE council = %(c)s),"
        " (SELECT count(*) FROM trip_coverage WHERE council = %(c)s),"
        " (SELECT coalesce(sum(cardinality(rough_iri)), 0) FROM trip_coverage"
        "  WHERE council = %(c)s),"
        " (SELECT count(*) FROM drive_upload WHERE council = %(c)s)",
        {"c": council},
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def test_a_drive_over_a_pothole_arrives_once_after_going_offline(
    server: str, drives_council: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    """Drive over a known pothole, lose the signal before the end, reload the page with no
    signal (the service worker serves it, the drive waits in IndexedDB), come back online: the
    pothole's report, the coverage track and its roughness are stored once, and reloading or
    re-sending changes nothing."""
    samples = _pothole_drive()
    shots = _shots()
    with browser_tab(tmp_path / "profile") as tab:
        _open(tab, server, drives_council, samples[0])
        if shots:
            tab.screenshot(shots / "drive-1-ready.png")
        tab.evaluate("document.getElementById('go').click()")
        _wait_state(tab, "driving")
        _replay(tab, samples[: len(samples) // 2])
        if shots:
            tab.screenshot(shots / "drive-2-driving.png")
        _replay(tab, samples[len(samples) // 2 :], offline_at=0.0)
        tab.evaluate("document.getElementById('go').click()")
        _wait_state(tab, "queued")
        if shots:
            tab.screenshot(shots / "drive-3-queued.png")
        assert _stored(conn, drives_council) == (0, 0, 0, 0)

        tab.send("Page.reload")  # no signal: the service worker serves the app
        _wait_state(tab, "queued")
        assert tab.evaluate("document.getElementById('queued').textContent") == "1 drive"

        _network(tab, online=True)
        sent = _wait_state(tab, "sent", timeout=60)
        if shots:
            tab.screenshot(shots / "drive-4-sent.png")
        reports, tracks, stretches, uploads = _stored(conn, drives_council)
        assert (reports, tracks, uploads) == (1, 1, 1), sent
        assert stretches >= 2
        lat, lon = conn.execute(
            "SELECT lat, lon FROM bump_report WHERE council = %s", (drives_council,)
        ).fetchone() or (0.0, 0.0)
        assert haversine_m(lat, lon, *moved(*CENTRE, POTHOLE_EAST_M, 0.0)) < 30

        tab.send("Page.reload")
        _wait_state(tab, "ready")
        assert tab.evaluate("document.getElementById('queued').textContent") == "0 drives"
    assert _stored(conn, drives_council) == (reports, tracks, stretches, uploads)


@pytest.mark.skipif(
    not (data_root() / "cmu_pittsburgh_2017").is_dir(),
    reason="needs the shared Pittsburgh recordings (../shared/data/potholes)",
)
def test_a_real_recorded_drive_arrives_with_its_coverage(
    server: str, drives_council: str, conn: psycopg.Connection, tmp_path: Path
) -> None:
    """The 70 s of a real Pittsburgh iPhone drive (5 Hz) that cover the most road, replayed into
    the page: its coverage track and roughness arrive, with exactly the reports the page said
    it sent."""
    samples = _busiest_minute(max(load_drives(data_root()), key=lambda d: d.samples[-1].t))
    with browser_tab(tmp_path / "profile") as tab:
        _open(tab, server, drives_council, samples[0])
        tab.evaluate("document.getElementById('go').click()")
        _wait_state(tab, "driving")
        _replay(tab, samples)
        tab.evaluate("document.getElementById('go').click()")
        _wait_state(tab, "sent", timeout=60)
        shown = int(tab.evaluate("document.getElementById('jolts').textContent"))
    reports, tracks, stretches, uploads = _stored(conn, drives_council)
    assert (reports, tracks, uploads) == (shown, 1, 1)
    assert stretches >= 1


def test_the_app_loads_nothing_from_elsewhere_and_says_what_it_collects(
    app: object, drives_council: str
) -> None:
    """The page, its manifest and its files come from this server; the page explains what is
    and is not collected before any permission is asked."""
    with TestClient(app) as client:  # type: ignore[arg-type]
        _check_files(client, drives_council)


def _check_files(client: TestClient, drives_council: str) -> None:
    page = client.get(f"/drive?council={drives_council}")
    assert page.status_code == 200
    html = page.text
    assert "http://" not in html and "https://" not in html
    for words in ("first and last 200 m", "no account", "motion", "location"):
        assert words in html.lower(), words
    manifest = client.get(f"/drive/manifest.webmanifest?council={drives_council}").json()
    assert manifest["start_url"] == f"/drive?council={drives_council}"
    assert manifest["scope"] == "/drive"
    for path in ("/drive/app.js", "/drive/streetbump.js", "/drive-sw.js", "/drive/icon.svg"):
        resp = client.get(path)
        assert resp.status_code == 200 and b"https://" not in resp.content, path
    params = client.get("/drive/params.json").json()
    assert params["detector"]["threshold_g"] > 0
    assert client.get("/drive?council=no-such-council").status_code == 404
