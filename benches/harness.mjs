// What every benchmark process shares: the timing loop (warm-up, then
// repeated timed runs), the summary of the runs, a seeded random source, a
// virtual clock, and the payloads every library receives. Portable: it runs
// in Node (V8) and, bundled by esbuild, in the JavaScriptCore shell (`jsc`).

/**
 * Milliseconds from an arbitrary origin, at the best resolution the engine
 * gives: `performance.now()` in Node, `preciseTime()` (seconds) in jsc.
 * @type {() => number}
 */
export const now =
  typeof (/** @type {any} */ (globalThis).preciseTime) === 'function'
    ? ((precise) => () => precise() * 1000)(/** @type {any} */ (globalThis).preciseTime)
    : () => performance.now();

/** @typedef {{ medianUs: number, p25Us: number, p75Us: number, minUs: number, maxUs: number, spreadPct: number, runs: number, opsPerRun: number, samples: number[] }} Summary */

/**
 * Times `op`: warm-up for `warmupMs`, then `runs` timed runs of a batch sized
 * so that one run takes about `runMs`. Each op is awaited before the next
 * starts (sequential use, as a page does).
 * @param {() => Promise<unknown>} op
 * @param {{ runs?: number, runMs?: number, warmupMs?: number, minBatch?: number }} [options]
 * @returns {Promise<Summary>} microseconds per op
 */
export async function measure(op, { runs = 15, runMs = 40, warmupMs = 300, minBatch = 1 } = {}) {
  let n = 0;
  const start = now();
  while (now() - start < warmupMs || n < minBatch) {
    await op();
    n += 1;
  }
  const perOpMs = (now() - start) / n;
  const batch = Math.max(minBatch, Math.round(runMs / perOpMs));
  const samples = [];
  // A profiler (benches/profile-jsc.mjs) watches the timed runs only, not the set-up and warm-up.
  const watch = /** @type {{ start(): void, stop(): void } | undefined} */ (/** @type {any} */ (globalThis).__benchTimedRuns);
  for (let r = 0; r < runs; r += 1) {
    collectGarbage();
    if (watch) watch.start();
    const s = now();
    for (let i = 0; i < batch; i += 1) await op();
    samples.push(((now() - s) / batch) * 1000);
    if (watch) watch.stop();
  }
  return { ...summarize(samples), opsPerRun: batch, samples };
}

/**
 * @param {number[]} samples
 * @returns {Omit<Summary, 'opsPerRun' | 'samples'>}
 */
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => {
    const i = (s.length - 1) * q;
    const lo = Math.floor(i);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
  };
  const median = at(0.5);
  return {
    medianUs: median,
    p25Us: at(0.25),
    p75Us: at(0.75),
    minUs: s[0],
    maxUs: s[s.length - 1],
    spreadPct: median > 0 ? ((at(0.75) - at(0.25)) / median) * 100 : 0,
    runs: s.length,
  };
}

/** A full GC between runs (node --expose-gc; jsc's shell has `gc()`), so one run's garbage is not the next one's pause. */
export function collectGarbage() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

/**
 * A seeded random source (mulberry32): the same key sequence in every process.
 * @param {number} seed
 */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Replaces `setTimeout`, `clearTimeout` and `Date.now` with a virtual clock:
 * a timer fires as soon as the process is otherwise idle (all promise
 * callbacks done), in deadline order, and the clock jumps to its deadline. So
 * backoff waits cost no wall time, and every library's waits are simulated the
 * same way. Install it before any library is imported.
 * @returns {{ now(): number, fired(): number }}
 */
export function installVirtualClock() {
  // The pump runs as a macrotask: setImmediate in Node, a 0 ms timer elsewhere (jsc).
  const realSetTimeout = globalThis.setTimeout;
  const realSetImmediate = globalThis.setImmediate || ((fn) => realSetTimeout(fn, 0));
  /** @type {{ at: number, seq: number, fn: Function, args: unknown[], cancelled: boolean }[]} */
  const heap = [];
  let now = 0;
  let seq = 0;
  let fired = 0;
  let pumping = false;
  const less = (a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  const push = (t) => {
    heap.push(t);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const pop = () => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  const pump = () => {
    pumping = false;
    while (heap.length > 0 && heap[0].cancelled) pop();
    if (heap.length === 0) return;
    const t = pop();
    now = Math.max(now, t.at);
    fired += 1;
    t.fn(...t.args);
    schedule();
  };
  const schedule = () => {
    if (!pumping && heap.length > 0) {
      pumping = true;
      realSetImmediate(pump);
    }
  };
  class VirtualTimer {
    constructor(t) {
      this.t = t;
    }
    unref() {
      return this;
    }
    ref() {
      return this;
    }
    hasRef() {
      return false;
    }
    [Symbol.toPrimitive]() {
      return this.t.seq;
    }
  }
  globalThis.setTimeout = /** @type {any} */ ((fn, ms = 0, ...args) => {
    const t = { at: now + Math.max(0, Number(ms) || 0), seq: seq++, fn, args, cancelled: false };
    push(t);
    schedule();
    return new VirtualTimer(t);
  });
  globalThis.clearTimeout = /** @type {any} */ ((timer) => {
    if (timer instanceof VirtualTimer) timer.t.cancelled = true;
  });
  const epoch = Date.UTC(2026, 0, 1);
  Date.now = () => epoch + now;
  return { now: () => now, fired: () => fired };
}

/** An order of the seed's order API. */
const order = (i) => ({
  id: 1000 + i,
  userId: 1,
  title: `订单 ${i + 1}`,
  status: i % 3 === 0 ? 'paid' : 'pending',
  amount: 1999 + i * 100,
  createdAt: '2026-11-30T08:00:00Z',
  items: [{ sku: `sku-${i}`, name: '云托管套餐', quantity: 1, price: 1999 + i * 100 }],
});

/** The page every library receives in scenarios a, b, c and e: the seed's order list, 10 of 12 orders (about 2 KB as JSON). */
export const ORDER_PAGE = { code: 0, message: 'ok', data: { list: Array.from({ length: 10 }, (_, i) => order(i)), total: 12, page: 1, pageSize: 10 } };

/**
 * What the backend answers is JSON text, as it comes off the network: made once (or, for the
 * small items of d, by a template), so no library pays for the server's serialisation. Each
 * library parses it (mp-request's shim; the peers' adapters, as the platform's `dataType: 'json'`
 * does on the JS thread for them).
 */
export const ORDER_PAGE_TEXT = JSON.stringify(ORDER_PAGE);

/** A small item for the cache-size scenario (d), so 100,000 entries fit every library's memory: its JSON text. */
export const itemText = (id) => `{"code":0,"data":{"id":${id},"name":"item ${id}","price":100}}`;

/**
 * The in-process backend: answers `path` with its payload as JSON text one
 * promise tick later, or rejects for paths under /api/fail/. `query` is the
 * request's parameters, as an object or as the query string (mp-request's
 * engine puts a GET's query in the path). A call with a `body` is a POST (it
 * answers a small created order); `header` is what the request carried (the
 * backend ignores it, as a cache-agnostic server would).
 * @typedef {(path: string, query: Record<string, unknown> | string | undefined, body?: unknown, header?: Record<string, string>) => Promise<string>} Backend
 */

/**
 * One library, wired to the backend with its own zero-latency adapter.
 * @typedef {object} Subject
 * @property {(id: number) => Promise<unknown>} cached GET /api/cached/item?id with a long TTL: a hit when stored, else a miss that stores.
 * @property {(id: number) => Promise<unknown>} cachedWithHeader The same with a per-request `Authorization: Bearer t` header.
 * @property {(id: number) => Promise<unknown>} cachedWithOption GET /api/opt/item?id with a per-request cache option (the TTL), no client rule.
 * @property {(id: number) => Promise<unknown>} cachedWithPriority GET /api/cached/item?id with `priority: 'high'` (the same as `cached` for a library without priorities).
 * @property {(id: number) => Promise<unknown>} uncached GET /api/live/item?id, never served from a cache.
 * @property {(id: number) => Promise<unknown>} uncachedWithHeader The same with a per-request `Authorization: Bearer t` header.
 * @property {(id: number) => Promise<unknown>} post POST /api/orders with a small JSON body (mp-request: `idempotent: 'auto'`).
 * @property {(id: number) => Promise<unknown>} shared What identical concurrent calls use (the library's own de-duplication).
 * @property {((id: number) => Promise<unknown>) | undefined} retried GET /api/fail/item?id with 3 retries; undefined when the library has no retry.
 */

/** @typedef {(options: { backend: Backend, maxEntries?: number }) => Promise<Subject>} CreateSubject */

/** The header of the `...WithHeader` shapes. */
export const AUTH_HEADER = Object.freeze({ Authorization: 'Bearer t' });

/** The body of the POST shape (non-ASCII, as pages send). */
export const orderBody = (id) => ({ sku: `sku-${id}`, quantity: 1, note: '尽快发货' });
