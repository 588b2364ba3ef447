// One scenario for one library, in a process of its own:
//   node --expose-gc benches/scenario.mjs <scenario> <subject> [entries]
// Prints one JSON line: microseconds per operation (median and spread over
// the timed runs) and what reached the backend per operation.
import { ORDER_PAGE, installVirtualClock, itemPayload, measure, seeded } from './harness.mjs';

const [scenario, subjectName, entriesArg] = process.argv.slice(2);

/** What the failing backend rejects with: made once, so no library pays for a stack trace it did not make. */
const DOWN = new Error('backend down');

/** Backend calls, by path family. */
const calls = { ok: 0, failed: 0 };

/** @type {import('./harness.mjs').Backend} */
const backend = (path, query) => {
  if (path.startsWith('/api/fail/')) {
    calls.failed += 1;
    return Promise.reject(DOWN);
  }
  calls.ok += 1;
  const body = scenario === 'cache' ? itemPayload(Number(query && query.id)) : ORDER_PAGE;
  // Concurrent requests overlap only while one is in flight: there the answer
  // comes a macrotask later (as any I/O does), elsewhere one promise tick later.
  return scenario === 'share' ? new Promise((resolve) => setImmediate(resolve, body)) : Promise.resolve(body);
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
  }, options);
  return { ...summary, backendCallsPerOp: (calls[family] - before) / ops };
}

const scenarios = {
  /** (a) A cache hit through the public request call. */
  async hit(subject) {
    await subject.cached(1);
    return { hit: await timed(() => subject.cached(1)) };
  },
  /** (b) A miss through a zero-latency backend: the layer's own overhead. */
  async miss(subject) {
    return { miss: await timed(() => subject.uncached(1)) };
  },
  /** (c) 1,000 concurrent identical requests (a fresh key per batch). */
  async share(subject) {
    let batch = 0;
    const burst = () => {
      const id = 1_000_000 + batch++;
      return Promise.all(Array.from({ length: 1000 }, () => subject.shared(id)));
    };
    return { share: await timed(burst, 'ok', { runs: 11, runMs: 60 }) };
  },
  /** (d) Gets and puts with the cache holding `entries` entries. */
  async cache(subject, entries) {
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
  async retry(subject) {
    if (!subject.retried) return null;
    const retried = subject.retried;
    let id = 0;
    return { retry: await timed(() => retried(id++).then(() => Promise.reject(new Error('a failing backend succeeded')), () => {}), 'failed') };
  },
};

if (!(scenario in scenarios)) throw new Error(`unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(', ')}`);
const clock = scenario === 'retry' ? installVirtualClock() : null;
const entries = Number(entriesArg || 0);
const { create } = await import(`./subjects/${subjectName}.mjs`);
const subject = await create({ backend, maxEntries: entries > 0 ? entries : undefined });
const results = await scenarios[scenario](subject, entries);
const out = { scenario, subject: subjectName, entries: entries || undefined, results, virtualMs: clock ? clock.now() : undefined };
process.stdout.write(`${JSON.stringify(out)}\n`);
// Some libraries keep timers (garbage collection of queries, cleanup intervals) alive.
process.exit(0);
