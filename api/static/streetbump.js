// The phone's pothole detector and roughness measure, for residents' browsers.
//
// A line-by-line port of the Python reference, which stays the one home of the method:
// analytics/potholes/detector.py, roughness.py, privacy.py and phone_upload.py. Every
// threshold comes from the server's `phone_params()` (the Python dataclasses), never from
// here. tests/api/test_drive_js.py runs this module in Node and holds it to the Python
// results on simulated and real traces. No dependencies, no build step: an ES module for
// browsers and Node 20.
//
// Python semantics that JavaScript does not share are written out below: round() halves to
// even, statistics.fmean sums exactly (math.fsum), statistics.pstdev takes the correctly
// rounded square root of the exact variance, and max()/min() keep the first of equals.

const MEDIAN_ABS_OF_UNIT_GAUSSIAN = 0.6745;
const METRES_PER_DEGREE = 111_320.0; // analytics.geo.geometry.METRES_PER_DEGREE

// ---------------------------------------------------------------- Python arithmetic

/** Python's `round(x, n)`: the nearest decimal with `n` digits, exact halves to even. */
export function pyRound(x, n) {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let s = a.toFixed(n); // exact, but halves away from zero
  // An exact half needs at most n + 1 binary fraction digits; only then can it be a tie.
  if (Number.isInteger(a * 2 ** (n + 1))) {
    const exact = a.toFixed(n + 1);
    if (exact.endsWith("5")) {
      const down = exact.slice(0, -1);
      const last = down.replace(".", "").slice(-1);
      if (Number(last) % 2 === 0) s = down;
    }
  }
  const r = Number(s);
  return x < 0 ? -r : r;
}

/** Python's `x % m` for floats: the result takes the sign of `m`. */
function pyMod(x, m) {
  const r = x % m;
  return r !== 0 && r < 0 !== m < 0 ? r + m : r;
}

/** Python's `max(a, b)` and `min(a, b)`: the first unless the second is strictly beyond. */
const pyMax = (a, b) => (b > a ? b : a);
const pyMin = (a, b) => (b < a ? b : a);

/** Python's `math.fsum`: the correctly rounded sum (Shewchuk's partials, as CPython). */
export function fsum(values) {
  const p = [];
  for (let x of values) {
    let i = 0;
    for (let j = 0; j < p.length; j++) {
      let y = p[j];
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    p.length = i;
    if (x !== 0) p.push(x);
  }
  let n = p.length;
  let hi = 0;
  let lo = 0;
  if (n > 0) {
    hi = p[--n];
    while (n > 0) {
      const x = hi;
      const y = p[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Half-even rounding across several partials, as CPython does.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
  }
  return hi;
}

/** A finite double as [mantissa, exponent] with value mantissa * 2 ** exponent, exactly. */
function exactParts(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  if (biased !== 0) mant |= 1n << 52n;
  return [sign * mant, (biased === 0 ? 1 : biased) - 1075];
}

/** Python's `math.isqrt` for a non-negative BigInt. */
function isqrt(n) {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

const bitLength = (n) => (n === 0n ? 0 : n.toString(2).length);

/** Python's `statistics.pstdev` (3.11): correctly rounded root of the exact variance. */
export function pstdev(values) {
  if (!values.length) throw new Error("pstdev requires at least one data point");
  const parts = values.map(exactParts);
  const e0 = parts.reduce((lo, [, e]) => Math.min(lo, e), Infinity);
  let sx = 0n;
  let sxx = 0n;
  for (const [m, e] of parts) {
    const v = m << BigInt(e - e0);
    sx += v;
    sxx += v * v;
  }
  const n = BigInt(values.length);
  // variance = (n * sxx - sx ** 2) / n ** 2 * 2 ** (2 * e0), exactly
  let num = n * sxx - sx * sx;
  let den = n * n;
  if (e0 < 0) den <<= BigInt(-2 * e0);
  else num <<= BigInt(2 * e0);
  // statistics._float_sqrt_of_frac: round to odd with 109 bits, then to the nearest double.
  const q = Math.floor((bitLength(num) - bitLength(den) - 109) / 2);
  const rto = (a, b) => {
    const r = isqrt(a / b);
    return r * r * b !== a ? r | 1n : r;
  };
  if (q >= 0) return Number(rto(num, den << BigInt(2 * q)) << BigInt(q));
  return Number(rto(num << BigInt(-2 * q), den)) / 2 ** -q;
}

/** Python's `statistics.median`. */
function median(values) {
  const data = [...values].sort((a, b) => a - b);
  const n = data.length;
  if (n === 0) throw new Error("no median for empty data");
  return n % 2 === 1 ? data[(n - 1) / 2] : (data[n / 2 - 1] + data[n / 2]) / 2;
}

/** Python's `bisect.bisect_left`. */
function bisectLeft(xs, x) {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first largest `key(i)` for i in [lo, hi), as Python's `max(range, key=)`. */
function argmax(lo, hi, key) {
  let best = lo;
  for (let i = lo + 1; i < hi; i++) if (key(i) > key(best)) best = i;
  return best;
}

const isFiniteSample = (s) =>
  [s.t, s.lat, s.lon, s.speed, s.ax, s.ay, s.az].every((v) => Number.isFinite(v));

// ---------------------------------------------------------------- the detector

/** analytics.geo.geometry.offset_m: [east, north] in metres of a point from an origin. */
export function offsetM(lat0, lon0, lat, lon) {
  const perDegreeLon = METRES_PER_DEGREE * Math.cos(lat0 * (Math.PI / 180));
  return [(lon - lon0) * perDegreeLon, (lat - lat0) * METRES_PER_DEGREE];
}

/** detector.clean_trace: finite samples in time order, the first of each timestamp. */
export function cleanTrace(samples) {
  const finite = samples.filter(isFiniteSample);
  finite.sort((a, b) => a.t - b.t); // Array.prototype.sort is stable, as Python's
  return finite.filter((s, i) => i === 0 || s.t !== finite[i - 1].t);
}

/** detector.samples_in: the whole number of samples nearest to `seconds` at `hz`. */
export function samplesIn(seconds, hz) {
  return Math.floor(seconds * hz + 0.5);
}

/** detector.vertical_dynamic: vertical dynamic acceleration (g) of each sample. */
export function verticalDynamic(trace, tau) {
  let start = trace.filter((s) => s.t - trace[0].t <= tau);
  if (!start.length) start = trace.slice(0, 1);
  // Python 3.11's sum() adds left to right, from 0.
  let gx = start.reduce((acc, s) => acc + s.ax, 0) / start.length;
  let gy = start.reduce((acc, s) => acc + s.ay, 0) / start.length;
  let gz = start.reduce((acc, s) => acc + s.az, 0) / start.length;
  const out = [];
  let prevT = trace[0].t;
  for (const s of trace) {
    const norm = Math.sqrt(gx * gx + gy * gy + gz * gz) || 1.0;
    out.push((s.ax * gx + s.ay * gy + s.az * gz) / norm - 1.0);
    const k = 1 - Math.exp(-(s.t - prevT) / tau);
    prevT = s.t;
    gx += k * (s.ax - gx);
    gy += k * (s.ay - gy);
    gz += k * (s.az - gz);
  }
  return out;
}

/** detector.moving_average: the mean of each x with its `half` neighbours either side. */
export function movingAverage(xs, half) {
  const prefix = [0.0];
  for (const x of xs) prefix.push(prefix[prefix.length - 1] + x);
  const n = xs.length;
  return xs.map((_, i) => {
    const lo = Math.max(0, i - half);
    const hi = Math.min(n, i + half + 1);
    return (prefix[hi] - prefix[lo]) / (hi - lo);
  });
}

/** detector._run_peaks: the peak of every run above threshold short enough to be a jolt. */
function runPeaks(dyn, threshold, maxRun) {
  const peaks = [];
  const n = dyn.length;
  let i = 0;
  while (i < n) {
    if (Math.abs(dyn[i]) <= threshold) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < n && Math.abs(dyn[j]) > threshold) j += 1;
    if (j - i <= maxRun) peaks.push(argmax(i, j, (m) => Math.abs(dyn[m])));
    i = j;
  }
  return peaks;
}

/** detector._is_jolt: sharp (peak to peak), not a heave, and standing out of the noise. */
function isJolt(dyn, heave, k, hz, p) {
  const n = dyn.length;
  const peak = Math.abs(dyn[k]);
  let w = Math.max(1, samplesIn(p.jolt_window_s, hz));
  const near = dyn.slice(Math.max(0, k - w), k + w + 1);
  if (Math.max(...near) - Math.min(...near) < p.min_peak_to_peak * peak) return false;
  w = Math.max(1, samplesIn(p.window_s, hz));
  const heaves = heave.slice(Math.max(0, k - w), k + w + 1).map(Math.abs);
  if (Math.max(...heaves) > p.max_heave_share * peak) return false;
  w = Math.max(1, samplesIn(p.noise_window_s / 2, hz));
  const level = median(dyn.slice(Math.max(0, k - w), Math.min(n, k + w + 1)).map(Math.abs));
  return peak >= (p.min_standout * level) / MEDIAN_ABS_OF_UNIT_GAUSSIAN;
}

/** detector._heading: direction of travel over about `w` samples either side, or null. */
function heading(trace, k, w) {
  const a = trace[Math.max(0, k - w)];
  const b = trace[Math.min(trace.length - 1, k + w)];
  const [east, north] = offsetM(a.lat, a.lon, b.lat, b.lon);
  if (Math.hypot(north, east) < 2.0) return null; // GPS noise would decide the direction
  const deg = pyMod(Math.atan2(east, north) * (180 / Math.PI), 360.0);
  return deg >= 360.0 ? 0.0 : deg;
}

/** detector._event: the JoltEvent of the peak at index `k`. */
function event(trace, dyn, k, hz, p, maxSamples) {
  const w = Math.min(Math.max(1, samplesIn(p.window_s, hz)), Math.floor((maxSamples - 1) / 2));
  const peak = Math.abs(dyn[k]);
  const s = trace[k];
  return {
    t: s.t,
    lat: s.lat,
    lon: s.lon,
    speed_mps: s.speed,
    heading_deg: heading(trace, k, Math.max(1, samplesIn(1.0, hz))),
    peak_z_g: peak,
    severity: Math.min(1.0, peak / p.severe_g),
    sample_hz: hz,
    samples_z_g: dyn.slice(Math.max(0, k - w), k + w + 1),
  };
}

/**
 * detector.detect: pothole jolts in an accelerometer trace.
 *
 * @param {Array<object>} samples `{t, lat, lon, speed, ax, ay, az}`: t in s, speed in m/s,
 *   acceleration in g with gravity, in the phone's axes; any order.
 * @param {object} p `phone_params().detector`.
 * @param {number} [maxSamples] `phone_params().max_samples`, most samples a report may carry
 *   (the window is not capped without it; the default window is far below the cap).
 * @returns {Array<object>} one event per jolt, in time order, fields as Python's JoltEvent.
 */
export function detect(samples, p, maxSamples = Infinity) {
  const trace = cleanTrace(samples);
  if (trace.length < 3) return [];
  const hz = 1 / median(trace.slice(1).map((b, i) => b.t - trace[i].t));
  const dyn = verticalDynamic(trace, p.gravity_tau_s);
  const heave = movingAverage(dyn, Math.max(1, samplesIn(p.heave_window_s / 2, hz)));
  const found = runPeaks(dyn, p.threshold_g, Math.max(1, samplesIn(p.max_jolt_s, hz))).filter(
    (k) => trace[k].speed >= p.min_speed_mps && isJolt(dyn, heave, k, hz, p),
  );
  const groups = [];
  for (const k of found) {
    const last = groups[groups.length - 1];
    if (last && trace[k].t - trace[last[last.length - 1]].t < p.merge_s) last.push(k);
    else groups.push([k]);
  }
  return groups.map((g) => {
    let best = g[0];
    for (const k of g) if (Math.abs(dyn[k]) > Math.abs(dyn[best])) best = k;
    return event(trace, dyn, best, hz, p, maxSamples);
  });
}

// ---------------------------------------------------------------- roughness

/** roughness.iri_class with `phone_params().iri_classes` (a null bound is no bound). */
function iriClass(iri, classes) {
  return classes.find(([bound]) => bound === null || iri < bound)[1];
}

/** roughness.estimate_iri: IRI (m/km) from the vertical spread and the mean speed. */
export function estimateIri(sigmaG, speedMps, p) {
  return p.iri_per_g * sigmaG * (p.reference_speed_mps / speedMps) ** p.speed_exponent;
}

/** roughness._stretch: the stretch of these rows [sample, vertical, distance], or none. */
function stretch(rows, p, classes) {
  if (rows.length < p.min_samples) return [];
  const distance = rows[rows.length - 1][2];
  const middle = rows.find(([, , d]) => d >= distance / 2)[0];
  const speed = fsum(rows.map(([s]) => s.speed)) / rows.length; // statistics.fmean
  const iri = estimateIri(pstdev(rows.map(([, z]) => z)), speed, p);
  return [
    {
      start_time: rows[0][0].t,
      end_time: rows[rows.length - 1][0].t,
      latitude: middle.lat,
      longitude: middle.lon,
      distance_m: distance,
      speed_mps: speed,
      iri_m_per_km: iri,
      road_class: iriClass(iri, classes),
    },
  ];
}

/**
 * roughness.roughness: estimated IRI per stretch of about `p.stretch_m` driven.
 *
 * @param {Array<object>} samples strictly increasing times, finite values (else throws Error).
 * @param {object} p `phone_params().roughness`.
 * @param {Array<[number|null, string]>} classes `phone_params().iri_classes`.
 * @returns {Array<object>} stretches, fields as Python's Stretch.
 */
export function roughness(samples, p, classes) {
  const trace = [...samples];
  for (const s of trace) {
    if (!isFiniteSample(s)) throw new Error(`Expected finite values, got a sample at t=${s.t}.`);
  }
  for (let i = 1; i < trace.length; i++) {
    if (!(trace[i].t > trace[i - 1].t)) {
      throw new Error(
        `Expected strictly increasing times, got ${trace[i].t} after ${trace[i - 1].t}.`,
      );
    }
  }
  if (!trace.length) return [];
  const dyn = verticalDynamic(trace, p.gravity_tau_s);
  const out = [];
  let current = [];
  let distance = 0.0;
  trace.forEach((s, i) => {
    if (s.speed < p.min_speed_mps) return;
    const step = i ? pyMin(s.t - trace[i - 1].t, p.max_step_s) : 0.0;
    distance += s.speed * step;
    current.push([s, dyn[i], distance]);
    if (distance >= p.stretch_m) {
      out.push(...stretch(current, p, classes));
      current = [];
      distance = 0.0;
    }
  });
  if (distance >= p.min_stretch_m) out.push(...stretch(current, p, classes));
  return out;
}

// ---------------------------------------------------------------- privacy

/** privacy.travelled_m: distance travelled (m) at each sample (trapezoidal rule). */
export function travelledM(samples) {
  const out = [0.0];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    out.push(out[out.length - 1] + 0.5 * (a.speed + b.speed) * pyMax(0.0, b.t - a.t));
  }
  return out.slice(0, samples.length);
}

/** privacy._kept_span: [from, to] of the distance kept, or null when nothing is. */
function keptSpan(travelled, marginM) {
  if (marginM < 0) throw new Error("Expected a margin of at least 0 m.");
  const total = travelled.length ? travelled[travelled.length - 1] : 0.0;
  return total <= 2 * marginM ? null : [marginM, total - marginM];
}

/** privacy.kept_mask: whether each sample lies more than `marginM` from both trip ends. */
export function keptMask(samples, marginM) {
  const travelled = travelledM(samples);
  const span = keptSpan(travelled, marginM);
  return travelled.map((d) => span !== null && span[0] <= d && d <= span[1]);
}

/** privacy.trim_trip_ends: the events more than `marginM` from both ends of the trip. */
export function trimTripEnds(events, samples, marginM) {
  const mask = keptMask(samples, marginM);
  const times = samples.map((s) => s.t);
  return events.filter((e) => mask[Math.min(bisectLeft(times, e.t), times.length - 1)]);
}

/** `start + timedelta(seconds=t)` as RFC 3339 in UTC, to the microsecond. */
function isoAt(startMs, t) {
  const us = Math.round(t * 1e6);
  const ms = Math.floor(us / 1000);
  const iso = new Date(startMs + ms).toISOString(); // ...T08:00:01.234Z
  return `${iso.slice(0, -1)}${String(us - ms * 1000).padStart(3, "0")}Z`;
}

/** privacy.coverage_track: the `coverage` message of a trip, or null when nothing is left. */
export function coverageTrack(samples, startMs, marginM, stepM, stretches, params) {
  if (!(stepM > 0)) throw new Error("Expected a track step above 0 m.");
  const travelled = travelledM(samples);
  const span = keptSpan(travelled, marginM);
  if (span === null) return null;
  const maxPoints = params.max_track_points;
  stepM = pyMax(stepM, ((span[1] - span[0]) / (maxPoints - 1)) * 1.01);
  const points = [];
  const times = [];
  let nextAt = span[0];
  samples.forEach((s, i) => {
    const d = travelled[i];
    if (d < nextAt || d > span[1] || !(Number.isFinite(s.lat) && Number.isFinite(s.lon))) return;
    points.push([pyRound(s.lat, 6), pyRound(s.lon, 6)]);
    times.push(s.t);
    nextAt = d + stepM;
  });
  if (points.length < 2) return null;
  const rough = stretches
    .filter(
      (r) =>
        times[0] <= r.start_time &&
        r.end_time <= times[times.length - 1] &&
        r.iri_m_per_km <= params.max_iri_m_per_km,
    )
    .map((r) => [pyRound(r.latitude, 6), pyRound(r.longitude, 6), pyRound(r.iri_m_per_km, 2)])
    .slice(0, Math.floor(maxPoints / 4));
  const coverage = {
    ts_start: isoAt(startMs, times[0]),
    ts_end: isoAt(startMs, times[times.length - 1]),
    points,
  };
  if (rough.length) coverage.roughness = rough;
  return coverage;
}

// ---------------------------------------------------------------- the upload

/** detector.JoltEvent.to_report: the `bump` report of an event, rounded as a phone sends it. */
export function toReport(e, startMs, seq, accuracyM) {
  const report = {
    ts: isoAt(startMs, e.t),
    lat: pyRound(e.lat, 6),
    lon: pyRound(e.lon, 6),
    speed_mps: pyRound(Math.min(100.0, Math.max(0.0, e.speed_mps)), 2),
    peak_z_g: pyRound(Math.min(32.0, e.peak_z_g), 3),
  };
  if (seq !== null && seq !== undefined) report.seq = seq;
  if (accuracyM !== null && accuracyM !== undefined) report.accuracy_m = accuracyM;
  if (e.heading_deg !== null) report.heading_deg = pyMod(pyRound(e.heading_deg, 1), 360.0);
  report.sample_hz = pyRound(e.sample_hz, 2);
  report.samples_z_g = e.samples_z_g.map((x) => pyRound(x, 3));
  return report;
}

/**
 * phone_upload.phone_upload: what a phone sends after a drive.
 *
 * @param {Array<object>} samples the drive's trace (t in s from `startMs`), cleaned as the
 *   detector cleans it before the ends, track and roughness are measured.
 * @param {number} startMs epoch milliseconds of the trace's zero.
 * @param {object} params exactly the server's `phone_params()`.
 * @param {Array<number|null>|null} [accuracyM] GPS accuracy (m) of each sample, or null.
 * @returns {{reports: Array<object>, coverage: object|null}} the `bump` reports (seq from 0)
 *   and the `coverage` message, as JSON objects of the device contract (null fields omitted).
 */
export function phoneUpload(samples, startMs, params, accuracyM = null) {
  if (accuracyM != null && accuracyM.length !== samples.length) {
    throw new Error("Expected one accuracy per sample.");
  }
  const margin = params.trip_end_margin_m;
  const trace = cleanTrace(samples);
  const events = trimTripEnds(detect(trace, params.detector, params.max_samples), trace, margin);
  const index = new Map(); // the first finite sample of each time, which the detector keeps
  samples.forEach((s, i) => {
    if (isFiniteSample(s) && !index.has(s.t)) index.set(s.t, i);
  });
  const reports = events.map((e, seq) =>
    toReport(e, startMs, seq, accuracyM == null ? null : accuracyM[index.get(e.t)]),
  );
  let stretches;
  try {
    stretches = roughness(trace, params.roughness, params.iri_classes);
  } catch {
    stretches = [];
  }
  const coverage = coverageTrack(trace, startMs, margin, params.track_step_m, stretches, params);
  return { reports, coverage };
}
