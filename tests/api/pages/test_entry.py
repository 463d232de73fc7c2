"""The crews' and highways teams' entry pages and their inline scripts."""

import re

import pytest

from api.pages.entry import (
    CREW_SCRIPT,
    HIGHWAYS_ENTRY_SCRIPT,
    crew_entry_page,
    highways_entry_page,
)
from api.pages.layout import page_top


@pytest.mark.parametrize(
    ("page", "script", "fields"),
    [
        (crew_entry_page(), CREW_SCRIPT, ["council", "date"]),
        (highways_entry_page(), HIGHWAYS_ENTRY_SCRIPT, ["council"]),
    ],
)
def test_entry_page_carries_its_public_script(page: str, script: str, fields: list[str]) -> None:
    """Each page's one inline script is exactly the public constant the security policy
    hashes, and its form asks for the council (and the crew's shift date)."""
    assert re.findall(r"<script>(.*?)</script>", page, re.S) == [script]
    assert re.findall(r'<input name="(\w+)"', page) == fields
    assert page.startswith("<!doctype html>") and page.endswith("</body></html>")
    assert "<noscript>" in page and '<meta name="viewport"' in page


def test_page_top() -> None:
    """The head carries the title as given and the style; asked to refresh, the page loads the
    in-place refresh script with its period on the body, never a meta refresh (which reloads
    the page under a reader's focus)."""
    top = page_top("A &amp; B", "p{}", refresh_s=60)
    assert "<title>A &amp; B</title>" in top and "<style>p{}</style></head>" in top
    assert '<script src="/page-refresh.js" defer></script>' in top
    assert top.endswith('<body data-refresh="60">') and "http-equiv" not in top
    assert "refresh" not in page_top("A", "")
