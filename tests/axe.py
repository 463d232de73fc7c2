"""axe-core's WCAG 2.1 A and AA rules, run in a page open in headless Chromium.

The axe-core script comes with the ``axe-playwright-python`` dev dependency (only its copy of
``axe.min.js`` is used, not Playwright); it is read from the installed package, never copied.
"""

import json
from importlib.resources import files
from typing import Any

from tests.cdp import Tab

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""The rule tags checked: everything WCAG 2.1 level A and AA asks that axe can test."""


def axe_script() -> str:
    """axe-core, as shipped in the installed package."""
    return files("axe_playwright_python").joinpath("axe.min.js").read_text()


def violations(tab: Tab) -> list[dict[str, Any]]:
    """What axe finds against WCAG 2.1 AA in the tab's page: rule id, impact, what it says and
    the first few elements, one entry per rule broken."""
    tab.evaluate(axe_script() + "\n;true")
    options = json.dumps({"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    found: list[dict[str, Any]] = tab.evaluate(
        f"axe.run(document, {options}).then(r => r.violations.map(v => ({{id: v.id,"
        " impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)})))",
        timeout=60,
    )
    return found
