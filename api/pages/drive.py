"""The drive app's page (``/drive?council=C``): a resident's phone measuring the roads it drives.

Plain HTML with one module script (``/drive/app.js``) from the same server; everything the app
says before asking for a permission is on the page itself, readable with scripts off. States
(``ready``, ``driving``, ``queued``, ``sent``, ``failed``) are shown by the script in one live
region, so a screen reader hears each change.
"""

from html import escape

from api.pages.layout import BASE_STYLE, page_top

STYLE = (
    BASE_STYLE
    + """
.go{display:block;width:100%;min-height:5rem;font-size:1.6rem;font-weight:700;border:0;
border-radius:1rem;background:#0b5394;color:#fff;margin:1rem 0;cursor:pointer}
.go[data-driving="true"]{background:#a61c00}
.go:focus-visible{outline:4px solid #f1c232;outline-offset:3px}
.state{font-size:1.2rem;font-weight:700;padding:.75rem;border-radius:.5rem;border:2px solid #555;
background:#f3f3f3}
.state[data-state="driving"]{background:#fff2cc}.state[data-state="sent"]{background:#d9ead3}
.state[data-state="queued"]{background:#cfe2f3}.state[data-state="failed"]{background:#f4cccc}
dl.figures{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dl.figures dt{font-weight:700}
dl.figures dd{margin:0}.note{border-left:4px solid #0b5394;padding:.25rem .75rem;background:#f3f6fa}
details{margin:1rem 0}summary{cursor:pointer;font-weight:700;min-height:2.75rem;line-height:2.75rem}
[hidden]{display:none!important}
"""
)


def drive_page(council: str, name: str, enabled: bool) -> str:
    """The page for ``council`` (slug) named ``name``; ``enabled`` says whether the council
    takes drives (when not, the page says so and offers no button)."""
    title = f"Measure your roads: {escape(name)}"
    council_q = escape(council, quote=True)
    links = (
        f'<a href="/councils/{council_q}">how busy {escape(name)} is</a> and '
        f'<a href="/open-data/{council_q}/potholes.csv">the potholes found so far (open data, '
        "CSV)</a>"
    )
    if not enabled:
        body = (
            f"<p>{escape(name)} does not take drives from residents' phones yet. "
            f"You can still see {links}.</p>"
        )
    else:
        body = f"""
<p class="note">While you drive, this page notices the jolts your car makes over potholes and
how rough the road is, and sends them to {escape(name)} when you stop: when, where and how hard,
never the first and last 200 m of a drive, with no account and no name. Keep the phone in the
car and the screen on.</p>
<button type="button" class="go" id="go" data-driving="false" disabled>Start a drive</button>
<p class="state" id="state" data-state="loading" role="status" aria-live="polite">Getting
ready&hellip;</p>
<p id="wake" hidden></p>
<dl class="figures">
<dt>Distance</dt><dd id="distance">0.0 km</dd>
<dt>Jolts found</dt><dd id="jolts">0</dd>
<dt>Waiting to send</dt><dd id="queued">0 drives</dd>
</dl>
<section id="thanks" hidden><h2>Thank you</h2><p>Your drive helps {escape(name)} find and
fix potholes. See {links}.</p></section>
<details open><summary>What is collected, and what is not</summary>
<ul>
<li><b>Collected:</b> each jolt (when, where, how hard, how fast you were going), the roads you
drove, and how rough each 100 m of road was.</li>
<li><b>Never sent:</b> the first and last 200 m of a drive, so nobody can see where you start or
stop. They stay on this phone.</li>
<li><b>Not collected:</b> no account, no name, no phone number. Each drive has a new random
code; {escape(name)} stores your phone only as a code that changes every 30 days.</li>
<li>When you press Start, the browser asks for <b>motion</b> (to feel the jolts) and
<b>location</b> (to place them). Drives wait on the phone until there is a signal.</li>
</ul></details>
<noscript><p>This page needs JavaScript to read the phone's motion sensors.</p></noscript>
<script type="module" src="/drive/app.js"></script>"""
    return (
        page_top(title, STYLE).replace(
            "</head>",
            f'<link rel="manifest" href="/drive/manifest.webmanifest?council={council_q}">'
            '<meta name="theme-color" content="#0b5394">'
            '<link rel="icon" href="/drive/icon.svg" type="image/svg+xml"></head>',
        )
        + f'<main data-council="{council_q}"><h1>{title}</h1>{body}</main>'
        + "<footer>smartstreets &middot; open source</footer></body></html>"
    )


def manifest(council: str, name: str) -> dict[str, object]:
    """The web app manifest that installs the drive app of ``council`` on a phone."""
    return {
        "name": f"Measure your roads: {name}",
        "short_name": "Drive",
        "start_url": f"/drive?council={council}",
        "scope": "/drive",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [{"src": "/drive/icon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
