"""The public pages against axe-core's WCAG 2.1 AA rules, in a real headless Chromium.

Each page is opened at a phone's width and checked as a browser shows it (styles applied,
scripts run): the index, a council's residents' page, the drive app, and the crews' and
highways teams' entry pages.
"""

from pathlib import Path

import psycopg
import pytest

from tests.axe import violations
from tests.cdp import browser_tab
from tests.helpers import chromium

pytestmark = pytest.mark.skipif(
    chromium() is None, reason="needs Chromium (Debian package 'chromium')"
)


def test_public_pages_pass_wcag_21_aa(
    server: str,
    council: str,
    zones: dict[str, list[str]],
    conn: psycopg.Connection,
    tmp_path: Path,
) -> None:
    """No page breaks a WCAG 2.1 A or AA rule that axe-core checks (meta refresh included:
    pages that keep their figures current refresh them in place)."""
    conn.execute("UPDATE council SET drives_enabled = true WHERE slug = %s", (council,))
    pages = ["/", f"/councils/{council}", f"/drive?council={council}", "/crew", "/highways"]
    broken = {}
    with browser_tab(tmp_path / "profile") as tab:
        for page in pages:
            tab.send("Page.navigate", {"url": server + page})
            tab.wait_for("document.readyState === 'complete'", what=f"{page} loaded")
            found = violations(tab)
            if found:
                broken[page] = found
    assert broken == {}
