"""What every plain page shares: the document's head and the base style.

The pages are plain HTML that work on a phone without a CDN; each brings its own ``<style>``,
most of them on top of ``BASE_STYLE``.
"""

BASE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem;line-height:1.5;
color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
ul.zones{list-style:none;padding:0}ul.zones li{border:1px solid #bbb;border-radius:.5rem;
padding:.75rem;margin:.5rem 0}
.level{font-weight:700;padding:.1rem .5rem;border-radius:.3rem;border:1px solid #555}
.quiet{background:#d8efff}.usual{background:#e5f5e0}.busy{background:#ffe9b3}
.very-busy{background:#ffc9c2}.unknown{background:#eee}
a{color:#0645ad}footer{margin-top:2rem;font-size:.9rem;color:#444}
"""
"""The style of the index and the entry pages, and the base of others."""


def page_top(title_html: str, style: str, refresh_s: int | None = None) -> str:
    """A page up to the start of its body: ``title_html`` (already escaped), ``style``, and,
    when ``refresh_s`` is given, its ``<main>`` and ``<footer>`` refreshed in place every
    ``refresh_s`` seconds (``/page-refresh.js``; not a meta refresh, which reloads the page
    under a reader's focus)."""
    script = '<script src="/page-refresh.js" defer></script>' if refresh_s else ""
    body = f'<body data-refresh="{refresh_s}">' if refresh_s else "<body>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title_html}</title>{script}<style>{style}</style></head>{body}"
    )
