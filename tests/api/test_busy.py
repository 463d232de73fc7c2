"""Residents' side: forecasts through the public API, the k-anonymity rule on counters, and the
page with its chart, rendered by a real headless Chromium."""

import io
import os
import re
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from analytics.forecasting.levels import sentence
from analytics.forecasting.visit import best_time, hours_by_zone
from api.busy_queries import local_days
from api.pages.charts import BAND, FORECAST
from api.queries import zone_day_hours
from ingest.db.registry import DeviceCreate, import_devices
from tests.helpers import chromium, phone_screenshot


def test_zone_forecasts_are_public_and_cacheable(
    client: TestClient, council: str, zones: dict[str, list[str]]
) -> None:
    """Every zone's next 48 hours, no token, with an interval around each forecast."""
    resp = client.get(f"/v1/councils/{council}/zones/forecast")
    assert resp.status_code == 200 and "public" in resp.headers["cache-control"]
    body = {f["zone"]: f for f in resp.json()}
    assert set(body) == set(zones)
    hours = body["high-street"]["hours"]
    assert len(hours) == 48
    assert all(h["lo80"] <= h["forecast"] <= h["hi80"] for h in hours)
    one = client.get(f"/v1/councils/{council}/zones/station/forecast")
    assert one.status_code == 200 and one.json()["zone"] == "station"
    assert client.get(f"/v1/councils/{council}/zones/nowhere/forecast").status_code == 404


def test_counter_figures_only_where_three_or_more_counters(
    client: TestClient, conn: psycopg.Connection, council: str, zones: dict[str, list[str]]
) -> None:
    """A counter in a zone of three is published; a lone counter only if the council opts in."""
    base = f"/v1/councils/{council}/counters"
    assert client.get(f"{base}/{zones['high-street'][0]}/forecast").status_code == 200
    lone = client.get(f"{base}/{zones['station'][0]}/forecast")
    assert lone.status_code == 403 and "fewer than 3 counters" in lone.json()["detail"]
    conn.execute("UPDATE council SET publish_counters = true WHERE slug = %s", (council,))
    assert client.get(f"{base}/{zones['station'][0]}/forecast").status_code == 200
    assert client.get(f"{base}/nope/forecast").status_code == 404


def test_now_says_the_level_in_words(
    client: TestClient, council: str, zones: dict[str, list[str]]
) -> None:
    """Each zone's level now comes with a plain-language sentence."""
    resp = client.get(f"/v1/councils/{council}/zones/now")
    assert resp.status_code == 200
    for zone in resp.json():
        assert (zone["summary"].endswith(".") and " for a " in zone["summary"]) or zone[
            "level"
        ] == "unknown"


@pytest.mark.parametrize(
    ("level", "hour", "weekday", "expected"),
    [
        ("busy", 13, 5, "Busier than usual for a Saturday lunchtime."),
        ("quiet", 9, 0, "Quieter than usual for a Monday morning."),
        ("very busy", 2, 6, "Much busier than usual for a Saturday night."),
        ("usual", 18, 2, "About as busy as usual for a Wednesday evening."),
    ],
)
def test_sentence(level: str, hour: int, weekday: int, expected: str) -> None:
    """The sentence names the day and the part of it; the small hours belong to the night
    before."""
    monday = datetime(2026, 11, 23, hour)
    assert sentence(level, monday + timedelta(days=weekday)) == expected  # type: ignore[arg-type]


def test_crowd_is_absolute_for_the_place(
    client: TestClient, conn: psycopg.Connection, council: str, uid: str
) -> None:
    """An hour three times its usual count is 'very busy' against usual, yet 'quiet' for a
    place whose busy hours see 400 people; its busy hour is its 90th percentile hour."""
    device = f"dawn-{uid}"
    import_devices(
        conn,
        [
            DeviceCreate(
                council=council, kind="counter", device_id=device, lat=52.6, lon=-0.7, zone="market"
            )
        ],
    )
    now = datetime.now(UTC)
    rows = []
    for h in range(1, 24 * 28 + 1):
        # h = 1 is the last hour; h = 168k + 1 the same hour k weeks before; a third of the
        # other hours are the place's busy ones.
        people = 60 if h == 1 else 20 if h % 168 == 1 else 400 if h % 24 < 8 else 20
        end = now - timedelta(hours=h - 1)
        rows.append((council, device, "market", end - timedelta(hours=1), end, people))
    conn.cursor().executemany(
        "INSERT INTO footfall_count (council, device_id, zone, period_start, period_end, count) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        rows,
    )
    (market,) = client.get(f"/v1/councils/{council}/zones/now").json()
    assert (market["level"], market["usual_count"], market["count_last_hour"]) == (
        "very busy",
        20,
        60,
    )
    assert market["crowd"] == "quiet" and market["peak_count"] == 400
    assert market["crowd_share"] == 0.15
    assert market["crowd_summary"].startswith("Quiet for this place: about 20%")
    page = client.get(f"/councils/{council}").text
    assert escape(market["crowd_summary"]) in page


def test_best_time_to_visit_in_the_api_and_on_the_page(
    client: TestClient, conn: psycopg.Connection, council: str, zones: dict[str, list[str]]
) -> None:
    """Each zone says the best time to visit today from its stored forecast, in local time
    within opening-ish hours, the same on the page; a zone whose forecast is withheld says
    unknown."""
    conn.execute(
        "DELETE FROM footfall_forecast WHERE council = %s AND series = 'zone:station'", (council,)
    )
    body = {z["zone"]: z for z in client.get(f"/v1/councils/{council}/zones/now").json()}
    station, high = body["station"], body["high-street"]
    assert station["best_time_kind"] == "unknown" and "no forecast" in station["best_time"]
    assert station["best_from"] is None and station["best_until"] is None

    tz = ZoneInfo("Europe/London")  # the council's default
    local = datetime.now(tz)
    start, until = (datetime.fromisoformat(high[k]) for k in ("best_from", "best_until"))
    assert start.utcoffset() == start.astimezone(tz).utcoffset()
    assert 8 <= start.hour < until.hour <= 20 and start.date() >= local.date()
    assert start >= local.replace(minute=0, second=0, microsecond=0)
    expected = best_time(
        hours_by_zone(zone_day_hours(conn, council, *local_days(local)), tz)["high-street"], local
    )
    assert (high["best_time_kind"], high["best_time"]) == (expected.kind, expected.sentence)
    page = client.get(f"/councils/{council}").text
    assert escape(high["best_time"]) in page and escape(station["best_time"]) in page


def test_page_is_accessible_html_without_external_resources(
    client: TestClient, council: str, zones: dict[str, list[str]]
) -> None:
    """The page has a language, a viewport, a labelled chart per zone and a table behind it,
    refreshes itself, and loads nothing from elsewhere."""
    resp = client.get(f"/councils/{council}")
    assert resp.status_code == 200
    html = resp.text
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert 'data-refresh="300"' in html and "http-equiv" not in html
    charts = html.count('<svg class="chart"')
    assert charts == len(zones) and html.count("<table>") == len(zones)
    assert html.count('role="img"') == charts + 1  # and the map of the zones
    assert "http://" not in html and "https://" not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/page-refresh.js" defer>']
    script = client.get("/page-refresh.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.mark.skipif(chromium() is None, reason="needs Chromium (Debian package 'chromium')")
def test_chart_renders_in_headless_chromium(
    server: str, council: str, zones: dict[str, list[str]], tmp_path: Path
) -> None:
    """A phone-sized headless Chromium renders the page: the screenshot shows the forecast
    line and its band in their colours, one chart per zone."""
    shot = Path(os.environ.get("SMARTSTREETS_SCREENSHOT", tmp_path / "page.png"))
    phone_screenshot(f"{server}/councils/{council}", shot, tmp_path / "profile", 2400)
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")

    pixels = np.asarray(image, dtype=np.int16)

    def pixels_near(colour: str, tolerance: int = 12) -> int:
        target = np.array(_rgb(colour), dtype=np.int16)
        return int((np.abs(pixels - target) <= tolerance).all(axis=2).sum())

    assert pixels_near(FORECAST) > 250 * len(zones), "forecast line not drawn"
    assert pixels_near(BAND, 4) > 2000 * len(zones), "likely-range band not drawn"


def test_forecasts_say_what_they_knew_and_why_one_is_withheld(
    client: TestClient, conn: psycopg.Connection, council: str, zones: dict[str, list[str]]
) -> None:
    """Each forecast carries the end of its last counted hour and today's counts against
    usual; a zone whose forecast was withheld is listed with no hours and the reason."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    conn.execute(
        "DELETE FROM footfall_forecast WHERE council = %s AND series = 'zone:station'", (council,)
    )
    conn.cursor().executemany(
        "INSERT INTO footfall_forecast_series "
        "(council, series, made_at, counted_until, today_ratio, unknown) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        [
            (council, "zone:high-street", now, now, 1.234, None),
            (
                council,
                "zone:station",
                now,
                now - timedelta(days=2),
                None,
                "only 0 of the last 24 hours counted",
            ),
        ],
    )
    body = {f["zone"]: f for f in client.get(f"/v1/councils/{council}/zones/forecast").json()}
    assert body["high-street"]["today_vs_usual"] == 1.23
    assert body["high-street"]["unknown"] is None and len(body["high-street"]["hours"]) == 48
    assert datetime.fromisoformat(body["high-street"]["counted_until"]) == now
    station = client.get(f"/v1/councils/{council}/zones/station/forecast").json()
    assert station["hours"] == [] and "last 24 hours" in station["unknown"]
    assert body["station"]["unknown"] == station["unknown"]
