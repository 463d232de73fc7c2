// Keeps a page's figures current without reloading it. A meta refresh reloads the whole page on
// a timer, which moves a reader's focus and scroll position (WCAG 2.2.1, 3.2.5); instead, every
// `data-refresh` seconds (on <body>) the page's own address is fetched again and the contents of
// its <main> and <footer> are replaced in place. With no signal, what is shown stays.
const seconds = Number(document.body.dataset.refresh);

async function refresh() {
  try {
    const response = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
    if (response.ok) {
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const part of ["main", "footer"]) {
        const now = document.querySelector(part);
        const next = fresh.querySelector(part);
        if (now && next && now.innerHTML !== next.innerHTML) now.innerHTML = next.innerHTML;
      }
    }
  } catch {
    // no signal: keep what is shown and try again later
  }
  setTimeout(refresh, seconds * 1000);
}

if (seconds > 0) setTimeout(refresh, seconds * 1000);
