// The drive app's service worker: after the first visit the app opens and works with no signal.
// Every GET in its scope is answered from the network when there is one (and the copy kept),
// else from the kept copy. Uploads (POST) always go to the network: the page queues them.
const CACHE = "smartstreets-drive-v1";
const SHELL = ["/drive/app.js", "/drive/streetbump.js", "/drive/params.json", "/drive/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page asks for its own address (which names its council) to be kept, so that it opens
// offline too; the service worker was not yet in charge when it was first loaded.
self.addEventListener("message", (event) => {
  const keep = (event.data && event.data.keep) || [];
  const own = keep.filter((url) => new URL(url).origin === self.location.origin);
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(own)));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      })
      .catch(() => caches.match(request).then((kept) => kept || Response.error())),
  );
});
