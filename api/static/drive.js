// The drive app: measure the road while a resident drives, send the result when the drive ends.
//
// Motion (acceleration including gravity) and position are read while the page is visible;
// when the drive stops, the same detector and roughness measure as the server's reference code
// (streetbump.js, parameters from /drive/params.json) turn the trace into what the phone sends:
// jolts and the coverage track, without the first and last 200 m. Finished drives wait in
// IndexedDB until they are accepted (202), with retries and backoff; the server ignores a drive
// it already has (same trip code), so a retry never stores anything twice.
import { phoneUpload } from "/drive/streetbump.js";

const G = 9.80665;
const main = document.querySelector("main");
const council = main.dataset.council;
const $ = (id) => document.getElementById(id);
const go = $("go");
const stateBox = $("state");
const wakeNote = $("wake");

let params = null;
let db = null;
let drive = null;
let geoWatch = null;
let wakeLock = null;
let retryTimer = null;
let backoffMs = 2000;
let lastShown = 0;

function setState(state, text) {
  stateBox.dataset.state = state;
  stateBox.textContent = text;
}

function jolts(n) {
  return `${n} ${n === 1 ? "jolt" : "jolts"}`;
}

function km(metres) {
  return `${(metres / 1000).toFixed(1)} km`;
}

function randomCode(bytes) {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function phoneId() {
  let id = localStorage.getItem("smartstreets.phone");
  if (!id) {
    id = randomCode(18);
    localStorage.setItem("smartstreets.phone", id);
  }
  return id;
}

// -- the queue of finished drives (IndexedDB) ---------------------------------------------
function openQueue() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("smartstreets-drive", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("drives", { keyPath: "trip" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function queueDo(mode, action) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction("drives", mode);
    const request = action(tx.objectStore("drives"));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}

const queued = () => queueDo("readonly", (s) => s.getAll());
const keep = (item) => queueDo("readwrite", (s) => s.put(item));
const forget = (trip) => queueDo("readwrite", (s) => s.delete(trip));

async function showQueue() {
  const items = await queued();
  const waiting = items.filter((d) => !d.failed).length;
  const failed = items.length - waiting;
  $("queued").textContent =
    `${waiting} ${waiting === 1 ? "drive" : "drives"}` + (failed ? `, ${failed} refused` : "");
  return items;
}

// -- sending ------------------------------------------------------------------------------
function retryLater(seconds) {
  clearTimeout(retryTimer);
  const wait = seconds ? seconds * 1000 : backoffMs;
  backoffMs = Math.min(backoffMs * 2, 5 * 60 * 1000);
  retryTimer = setTimeout(flush, wait);
}

async function flush() {
  clearTimeout(retryTimer);
  const items = await showQueue();
  for (const item of items.filter((d) => !d.failed)) {
    let response;
    try {
      response = await fetch(`/v1/councils/${item.council}/drives`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(item.body),
      });
    } catch {
      setState("queued", `No signal: this drive (${jolts(item.jolts)}, ${km(item.distance)}) waits on the phone and will be sent when there is one.`);
      retryLater();
      return;
    }
    if (response.status === 202) {
      await forget(item.trip);
      backoffMs = 2000;
      setState("sent", `Sent: ${jolts(item.jolts)} over ${km(item.distance)}. Thank you!`);
      $("distance").textContent = km(item.distance);
      $("jolts").textContent = String(item.jolts);
      $("thanks").hidden = false;
    } else if (response.status === 429 || response.status >= 500) {
      setState("queued", "The council's server is busy: this drive waits on the phone and will be sent shortly.");
      retryLater(Number(response.headers.get("Retry-After")) || 0);
      return;
    } else {
      const reason = (await response.json().catch(() => ({}))).detail || response.statusText;
      item.failed = String(reason);
      await keep(item);
      setState("failed", `The council could not take this drive: ${item.failed}`);
    }
  }
  await showQueue();
}

// -- measuring ----------------------------------------------------------------------------
function onFix(position) {
  const c = position.coords;
  const previous = drive.fix;
  let speed = c.speed;
  if ((speed === null || !Number.isFinite(speed)) && previous) {
    const dt = (position.timestamp - previous.time) / 1000;
    const north = (c.latitude - previous.lat) * 111320;
    const east = (c.longitude - previous.lon) * 111320 * Math.cos((c.latitude * Math.PI) / 180);
    speed = dt > 0 ? Math.hypot(north, east) / dt : 0;
  }
  drive.fix = {
    lat: c.latitude, lon: c.longitude, speed: speed || 0, accuracy: c.accuracy, time: position.timestamp,
  };
}

function onMotion(event) {
  const a = event.accelerationIncludingGravity;
  const fix = drive && drive.fix;
  if (!fix || !a || a.x === null || a.y === null || a.z === null) return;
  const t = (performance.timeOrigin + event.timeStamp - drive.startMs) / 1000;
  const samples = drive.samples;
  const last = samples[samples.length - 1];
  if (last && t <= last.t) return;
  if (last) drive.distance += 0.5 * (last.speed + fix.speed) * (t - last.t);
  samples.push({ t, lat: fix.lat, lon: fix.lon, speed: fix.speed, ax: a.x / G, ay: a.y / G, az: a.z / G });
  drive.accuracy.push(fix.accuracy);
  if (t - lastShown >= 1) {
    lastShown = t;
    $("distance").textContent = km(drive.distance);
  }
}

function onFixError(error) {
  if (error.code === error.PERMISSION_DENIED) {
    setState("failed", "Location access was refused, so jolts cannot be placed on the map. Allow it in the browser's settings and start again.");
  } else if (drive && !drive.fix) {
    setState("driving", "Driving: waiting for the phone to find its position…");
  }
}

async function keepAwake() {
  if ("wakeLock" in navigator) {
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeNote.hidden = true;
      return;
    } catch {
      // refused (battery saver, not visible): say so below
    }
  }
  wakeNote.hidden = false;
  wakeNote.textContent =
    "Keep the screen on: this browser cannot keep it on by itself, and it stops motion readings when the screen turns off.";
}

async function start() {
  if (typeof DeviceMotionEvent !== "undefined" && typeof DeviceMotionEvent.requestPermission === "function") {
    // iOS asks only from a tap, which this is.
    const answer = await DeviceMotionEvent.requestPermission().catch(() => "denied");
    if (answer !== "granted") {
      setState("failed", "Motion access was refused, so the road cannot be measured. Allow it in the browser's settings and try again.");
      return;
    }
  }
  if (!("geolocation" in navigator)) {
    setState("failed", "This browser cannot tell where the phone is, so drives cannot be measured.");
    return;
  }
  drive = { trip: randomCode(24), startMs: Date.now(), samples: [], accuracy: [], fix: null, distance: 0 };
  lastShown = 0;
  geoWatch = navigator.geolocation.watchPosition(onFix, onFixError, { enableHighAccuracy: true, maximumAge: 0 });
  window.addEventListener("devicemotion", onMotion);
  await keepAwake();
  go.textContent = "Stop and send";
  go.dataset.driving = "true";
  $("thanks").hidden = true;
  $("distance").textContent = km(0);
  $("jolts").textContent = "0";
  setState("driving", "Driving: measuring the road. Press Stop and send when you arrive.");
}

async function stop() {
  window.removeEventListener("devicemotion", onMotion);
  navigator.geolocation.clearWatch(geoWatch);
  if (wakeLock) await wakeLock.release().catch(() => {});
  wakeLock = null;
  wakeNote.hidden = true;
  const finished = drive;
  drive = null;
  go.textContent = "Start a drive";
  go.dataset.driving = "false";
  const upload = phoneUpload(finished.samples, finished.startMs, params, finished.accuracy);
  const body = { trip: finished.trip, phone: phoneId(), reports: upload.reports, coverage: upload.coverage };
  $("distance").textContent = km(finished.distance);
  $("jolts").textContent = String(upload.reports.length);
  if (!upload.coverage && !upload.reports.length) {
    setState("sent", "That drive was too short to measure: the first and last 200 m stay on the phone.");
    return;
  }
  await keep({ trip: finished.trip, council, body, jolts: upload.reports.length, distance: finished.distance });
  setState("queued", "Sending…");
  await flush();
}

async function prepare() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/drive-sw.js", { scope: "/drive" }).catch(() => {});
    navigator.serviceWorker.ready.then((registration) => {
      const manifest = document.querySelector('link[rel="manifest"]').href;
      registration.active.postMessage({ keep: [location.href, manifest] });
    });
  }
  params = await (await fetch("/drive/params.json")).json();
  db = await openQueue();
  go.addEventListener("click", () => (drive ? stop() : start()));
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", () => {
    if (drive && document.visibilityState === "visible") keepAwake();
  });
  go.disabled = false;
  setState("ready", "Ready. Press Start a drive when you set off; the browser will ask for motion and location.");
  const waiting = (await showQueue()).filter((d) => !d.failed);
  if (waiting.length) await flush();
}

prepare().catch((error) => setState("failed", `The app could not start: ${error.message}`));
