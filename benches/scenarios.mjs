// The scenarios, shared by both engines: `benches/scenario.mjs` runs one in
// Node (V8), `benches/jsc/scenario-main.mjs` (bundled by esbuild) in the
// JavaScriptCore shell. One scenario for one library per process; the result
// is one JSON-able object: microseconds per operation (median and spread over
// the timed runs) and what reached the backend per operation.
import { ORDER_PAGE_TEXT, installVirtualClock, itemText, measure, seeded } from './harness.mjs';

/** The scenarios, in table order; `cache` runs once per size. */
export const SCENARIOS = ['hit', 'hit-header', 'hit-cache', 'hit-priority', 'miss', 'miss-header', 'post', 'share', 'cache', 'retry'];

/** What the failing backend rejects with: made once, so no library pays for a stack trace it did not make. */
const DOWN = new Error('backend down');

/** What a POST answers: a small created order. */
const CREATED_TEXT = JSON.stringify({ code: 0, message: 'ok', data: { id: 5001, status: 'pending' } });

/** The `id` parameter of a request's query (an object, or the query string). */
const idOf = (query) => (typeof query === 'string' ? Number((/(?:^|&)id=(\d+)/.exec(query) || [])[1]) : Number(query && query.id));

/**
 * Runs `scenario` on the subject `create` makes.
 * @param {{ scenario: string, create: import('./harness.mjs').CreateSubject, entries?: number, runs?: number,
 *   later: (fn: (value: unknown) => void, value: unknown) => void }} options `later` calls `fn(value)`
 *   a macrotask later (setImmediate in Node, a 0 ms timer in jsc): how concurrent requests overlap in flight.
 *   `runs`: timed runs in this process, when the caller spreads a cell's runs over several processes.
 */
export async function runScenario({ scenario, create, entries = 0, runs, later }) {
  if (!(scenario in scenarios)) throw new Error(`unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(', ')}`);
  // Installed before the subject is made, so its waits run on the virtual clock.
  const clock = scenario === 'retry' ? installVirtualClock() : null;

  /** Backend calls, by path family. */
  const calls = { ok: 0, failed: 0 };
  /** @type {import('./harness.mjs').Backend} */
  const backend = (path, query, body) => {
    if (path.startsWith('/api/fail/')) {
      calls.failed += 1;
      return Promise.reject(DOWN);
    }
    calls.ok += 1;
    const answer = body !== undefined ? CREATED_TEXT : scenario === 'cache' ? itemText(idOf(query)) : ORDER_PAGE_TEXT;
    // Concurrent requests overlap only while one is in flight: there the answer
    // comes a macrotask later (as any I/O does), elsewhere one promise tick later.
    return scenario === 'share' ? new Promise((resolve) => later(resolve, answer)) : Promise.resolve(answer);
  };

  /**
   * Counts what `op` sent to the backend while it was measured.
   * @param {() => Promise<unknown>} op
   * @param {'ok' | 'failed'} family
   * @param {object} [options]
   */
  async function timed(op, family = 'ok', options = {}) {
    let ops = 0;
    const before = calls[family];
    const summary = await measure(() => {
      ops += 1;
      return op();
    }, runs ? { ...options, runs } : options);
    return { ...summary, backendCallsPerOp: (calls[family] - before) / ops };
  }

  /** A hit of one of the cached shapes: stored once, then timed. */
  const hitOf = async (/** @type {(id: number) => Promise<unknown>} */ get) => {
    await get(1);
    const before = calls.ok;
    const result = await timed(() => get(1));
    if (calls.ok !== before) throw new Error(`not a hit: ${calls.ok - before} backend calls`);
    return result;
  };

  const subject = await create({ backend, maxEntries: entries > 0 ? entries : undefined });
  const results = await scenarios[scenario](subject, entries, { timed, hitOf });
  return { results, virtualMs: clock ? clock.now() : undefined };
}

/** @typedef {{ timed: (op: () => Promise<unknown>, family?: 'ok' | 'failed', options?: object) => Promise<object>, hitOf: (get: (id: number) => Promise<unknown>) => Promise<object> }} Tools */

/** @type {Record<string, (subject: import('./harness.mjs').Subject, entries: number, tools: Tools) => Promise<object | null>>} */
const scenarios = {
  /** (a) A cache hit through the public request call. */
  async hit(subject, _, { hitOf }) {
    return { hit: await hitOf(subject.cached) };
  },
  /** (a) A hit of a GET with a per-request header (`Authorization: Bearer t`). */
  async 'hit-header'(subject, _, { hitOf }) {
    return { hit: await hitOf(subject.cachedWithHeader) };
  },
  /** (a) A hit of a GET with a per-request cache option (`cache: { ttlMs }`, no client rule). */
  async 'hit-cache'(subject, _, { hitOf }) {
    return { hit: await hitOf(subject.cachedWithOption) };
  },
  /** (a) A hit of a GET with `priority: 'high'`. */
  async 'hit-priority'(subject, _, { hitOf }) {
    return { hit: await hitOf(subject.cachedWithPriority) };
  },
  /** (b) A miss through a zero-latency backend: the layer's own overhead. */
  async miss(subject, _, { timed }) {
    return { miss: await timed(() => subject.uncached(1)) };
  },
  /** (b) A miss with a per-request header. */
  async 'miss-header'(subject, _, { timed }) {
    return { miss: await timed(() => subject.uncachedWithHeader(1)) };
  },
  /** (b) A POST with a JSON body (`idempotent: 'auto'` for mp-request: it makes an Idempotency-Key). */
  async post(subject, _, { timed }) {
    let id = 0;
    return { post: await timed(() => subject.post(id++)) };
  },
  /** (c) 1,000 concurrent identical requests (a fresh key per batch). */
  async share(subject, _, { timed }) {
    let batch = 0;
    const burst = () => {
      const id = 1_000_000 + batch++;
      return Promise.all(Array.from({ length: 1000 }, () => subject.shared(id)));
    };
    return { share: await timed(burst, 'ok', { runs: 11, runMs: 60 }) };
  },
  /** (d) Gets and puts with the cache holding `entries` entries. */
  async cache(subject, entries, { timed }) {
    for (let id = 0; id < entries; id += 1) await subject.cached(id);
    const random = seeded(42);
    const keys = Array.from({ length: 65536 }, () => Math.floor(random() * entries));
    let k = 0;
    const get = await timed(() => subject.cached(keys[k++ & 65535]));
    let next = entries;
    const put = await timed(() => subject.cached(next++));
    return { get, put };
  },
  /** (e) A backend that always fails: each request makes 4 attempts, waits under a virtual clock. */
  async retry(subject, _, { timed }) {
    if (!subject.retried) return null;
    const retried = subject.retried;
    let id = 0;
    return { retry: await timed(() => retried(id++).then(() => Promise.reject(new Error('a failing backend succeeded')), () => {}), 'failed') };
  },
};
