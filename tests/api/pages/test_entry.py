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
    """The head carries the title as given, the style, and a refresh only when asked."""
    top = page_top("A &amp; B", "p{}", refresh_s=60)
    assert "<title>A &amp; B</title><style>p{}</style></head><body>" in top
    assert '<meta http-equiv="refresh" content="60">' in top
    assert "refresh" not in page_top("A", "")
