// client.stats() through the built bundle in the sandbox, against the
// emulator with injected faults: the figures agree with what reached the server.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const FAST = { retry: { baseMs: 10, capMs: 40 } };

test('retries and error kinds match what reached the server, per path pattern', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, FAST));
  emulator.inject({ kind: 'status', status: 503, count: 2, path: '/api/home/init' });
  await client.request({ path: '/api/home/init' });
  emulator.inject({ kind: 'status', status: 404, path: '/api/test' });
  await rejection(client.request({ path: '/api/test' }));
  emulator.inject({ kind: 'status', status: 503, count: 9, path: '/api/test' });
  await rejection(client.request({ path: '/api/test' }));
  await client.request({ path: '/api/order/list', data: { userId: 1, page: 1 } });

  const stats = client.stats();
  const row = (pattern) => stats.rows.find((r) => r.pattern === pattern);
  const home = row('/api/home/init');
  assert.equal(home.route, 'cloud');
  assert.deepEqual([home.requests, home.failed, home.retries], [1, 0, 2]);
  const probe = row('/api/test');
  assert.deepEqual({ ...probe.errors }, { http: 1, service: 1 });
  // Every attempt reached the server: the first one of each request, plus the retries.
  assert.equal(probe.requests + probe.retries, emulator.count('/api/test'));
  assert.equal(home.requests + home.retries, emulator.count('/api/home/init'));
  assert.equal(stats.total.requests, 4);
  assert.equal(stats.total.retries, emulator.stats().total - 4);
  assert.deepEqual({ ...stats.total.errors }, { http: 1, service: 1 });
  assert.equal(stats.total.latency.count, 4);
  assert.ok(stats.total.latency.p50Ms <= stats.total.latency.p95Ms);
  assert.ok(stats.total.latency.p99Ms <= stats.total.latency.maxMs);
  const bucketed = stats.total.latency.buckets.reduce((sum, [, n]) => sum + n, 0);
  assert.equal(bucketed, 4);
  client.destroy();
});

test('cache hits and the hit ratio: one request reached the server, three were served', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(
    cloudOptions(emulator, { cache: { rules: [{ path: '/api/home/*', ttlMs: 60_000 }] } }),
  );
  for (let i = 0; i < 4; i++) await client.request({ path: '/api/home/init' });
  const [home] = client.stats().rows;
  assert.equal(emulator.count('/api/home/init'), 1);
  assert.deepEqual([home.requests, home.cacheHits, home.hitRatio], [4, 3, 0.75]);
  assert.equal(home.latency.count, 1, 'cache hits carry no latency');
  client.destroy();
});

test('requests in flight are counted while they wait, and ids collapse into one row', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { stats: { patterns: ['/api/order/:orderNo'] } }));
  await client.request({ path: '/api/home/init' });
  emulator.inject({ kind: 'delay', delayMs: 150, count: 3, path: '/api/test' });
  const pending = [1, 2, 3].map((n) => client.request({ path: '/api/test', data: { n } }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const busy = client.stats().rows.find((r) => r.pattern === '/api/test');
  assert.equal(busy.inFlight, 3);
  await Promise.all(pending);
  assert.equal(client.stats().total.inFlight, 0);
  await rejection(client.request({ path: '/api/order/A-1' }));
  await rejection(client.request({ path: '/api/order/B-2' }));
  const orders = client.stats().rows.find((r) => r.pattern === '/api/order/:orderNo');
  assert.equal(orders.requests, 2);
  client.destroy();
});

test('resetStats clears the figures; bad stats options are named; stats after destroy is a clear error', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  await client.request({ path: '/api/home/init' });
  client.resetStats();
  assert.equal(client.stats().rows.length, 0);
  assert.equal(client.stats().total.requests, 0);

  for (const [stats, field] of [
    [{ maxPatterns: 0 }, '`stats.maxPatterns`'],
    [{ patterns: ['api/x'] }, '`stats.patterns[0]`'],
    [{ patterns: 'x' }, '`stats.patterns`'],
    [{ patterns: [42] }, '`stats.patterns'],
    [{ maxPatterns: Number.NaN }, '`stats.maxPatterns`'],
    [{ maxPatterns: Infinity }, '`stats.maxPatterns`'],
    ['all', '`stats`'],
    [{ limit: 3 }, 'unknown option "limit"'],
  ]) {
    const err = await rejection(mp.createClient(cloudOptions(emulator, { stats })));
    assert.equal(err.kind, 'invalid');
    assert.ok(err.detail.includes(field), `${err.detail} names ${field}`);
  }
  // The module still serves after the bad options.
  await client.request({ path: '/api/test' });
  assert.equal(client.stats().total.requests, 1);
  client.destroy();
  assert.equal(rejectionSync(() => client.stats()).kind, 'invalid');
});

function rejectionSync(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}
