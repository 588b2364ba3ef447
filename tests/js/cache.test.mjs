// The result cache and request sharing through the bundle in the sandbox,
// against the emulator, counting what reached the server.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A client with cache rules, in a fresh sandbox. */
async function client(cache = {}, sandboxOptions = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, sandboxOptions);
  const c = await mp.createClient(cloudOptions(emulator, { cache, retry: { baseMs: 10, capMs: 20 } }));
  return { c, sandbox, mp };
}

describe('request sharing', () => {
  test('100 concurrent identical GETs: 1 call at the server, 100 resolved callers', async () => {
    const { c } = await client();
    const all = await Promise.all(Array.from({ length: 100 }, () => c.request({ path: '/api/order/list', data: { userId: 1, page: 1 } })));
    assert.equal(all.length, 100);
    assert.ok(all.every((r) => r.statusCode === 200 && r.data === all[0].data));
    assert.equal(emulator.count('/api/order/list'), 1);
  });

  test('an error reaches all of them', async () => {
    const { c } = await client();
    emulator.inject({ kind: 'status', status: 404, path: '/api/test' });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => c.request({ path: '/api/test' })));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason.kind === 'http' && r.reason.statusCode === 404));
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('cancelling one caller does not cancel the others', async () => {
    const { c, mp } = await client();
    emulator.inject({ kind: 'delay', delayMs: 100, path: '/api/test' });
    const controller = mp.createAbortController();
    const cancelled = c.request({ path: '/api/test', signal: controller.signal });
    const others = Array.from({ length: 3 }, () => c.request({ path: '/api/test' }));
    setTimeout(() => controller.abort(), 20);
    assert.equal((await rejection(cancelled)).kind, 'cancelled');
    const answers = await Promise.all(others);
    assert.ok(answers.every((r) => r.statusCode === 200));
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('cache: false gets its own call', async () => {
    const { c } = await client();
    await Promise.all([c.request({ path: '/api/test' }), c.request({ path: '/api/test', cache: false })]);
    assert.equal(emulator.count('/api/test'), 2);
  });
});

describe('cached results', () => {
  test('a hit returns the very same data object, from the cache, without a call', async () => {
    const { c } = await client({ rules: [{ path: '/api/home/*', ttlMs: 60_000 }] });
    const first = await c.request({ path: '/api/home/init' });
    const second = await c.request({ path: '/api/home/init' });
    assert.equal(first.fromCache, false);
    assert.deepEqual([second.fromCache, second.stale, second.attempts], [true, false, 0]);
    assert.equal(second.data, first.data, 'zero-copy');
    assert.equal(emulator.count('/api/home/init'), 1);
    const stats = c.cacheStats();
    assert.deepEqual([stats.entries, stats.hits, stats.misses], [1, 1, 1]);
    assert.ok(stats.bytes > 100);
  });

  test('key order in data does not matter; other data is another entry', async () => {
    const { c } = await client();
    const q = (data) => c.request({ path: '/api/order/list', data, cache: { ttlMs: 60_000 } });
    await q({ userId: 1, page: 2 });
    assert.equal((await q({ page: 2, userId: 1 })).fromCache, true);
    assert.equal((await q({ page: 3, userId: 1 })).fromCache, false);
    assert.equal(emulator.count('/api/order/list'), 2);
  });

  test('errors are never cached; POSTs are never cached', async () => {
    const { c } = await client({ rules: [{ path: '/api/*', ttlMs: 60_000 }] });
    emulator.inject({ kind: 'status', status: 404, path: '/api/test' });
    await rejection(c.request({ path: '/api/test' }));
    assert.equal((await c.request({ path: '/api/test' })).fromCache, false);
    await c.request({ path: '/api/test', method: 'POST' });
    await c.request({ path: '/api/test', method: 'POST' });
    assert.equal(emulator.count('/api/test'), 4);
  });

  test("cache: 'reload' refetches and stores", async () => {
    const { c } = await client({ rules: [{ path: '/api/home/*', ttlMs: 60_000 }] });
    await c.request({ path: '/api/home/init' });
    const reloaded = await c.request({ path: '/api/home/init', cache: 'reload' });
    assert.equal(reloaded.fromCache, false);
    assert.equal((await c.request({ path: '/api/home/init' })).data, reloaded.data);
    assert.equal(emulator.count('/api/home/init'), 2);
  });

  test('requests with Authorization are not cached unless private, and then per user', async () => {
    const { c } = await client({ rules: [{ path: '/api/test', ttlMs: 60_000 }] });
    const auth = { Authorization: 'Bearer t' };
    await c.request({ path: '/api/test', header: auth });
    assert.equal((await c.request({ path: '/api/test', header: auth })).fromCache, false);
    c.setUser('u-1');
    await c.request({ path: '/api/test', header: auth, cache: { private: true } });
    assert.equal((await c.request({ path: '/api/test', header: auth, cache: { private: true } })).fromCache, true);
    assert.equal(emulator.count('/api/test'), 3);
  });
});

describe('user partitions', () => {
  test('after setUser no request ever receives another user\'s cached data', async () => {
    const { c, sandbox } = await client({ rules: [{ path: '/api/home/*', ttlMs: 60_000 }] }, { openid: 'o-alice' });
    c.setUser('alice');
    const alice = await c.request({ path: '/api/home/init' });
    assert.equal(alice.data.data.openid, 'o-alice');
    c.setUser('bob');
    sandbox.controls.setUser('o-bob');
    const bob = await c.request({ path: '/api/home/init' });
    assert.equal(bob.fromCache, false);
    assert.equal(bob.data.data.openid, 'o-bob');
    c.setUser('alice');
    const again = await c.request({ path: '/api/home/init' });
    assert.deepEqual([again.fromCache, again.data.data.openid], [true, 'o-alice']);
    assert.equal(emulator.count('/api/home/init'), 2);
  });

  test('WeChat adds no X-WX-OPENID to responses; one a backend chooses to return partitions the cache until setUser', async () => {
    const { c, sandbox } = await client({ rules: [{ path: '/api/*', ttlMs: 60_000 }] }, { openid: 'o-first' });
    const plain = await c.request({ path: '/api/home/init' });
    assert.equal(plain.header['x-wx-openid'], undefined, 'the gateway adds identity to the request only');
    const me = await c.request({ path: '/api/me' });
    assert.equal(me.header['x-wx-openid'], 'o-first', 'this backend says whom it served');
    // From then on the cache is o-first's: the entry cached before (anonymous) is not served to them.
    assert.equal((await c.request({ path: '/api/home/init' })).fromCache, false);
    assert.equal((await c.request({ path: '/api/home/init' })).fromCache, true);
    // Another WeChat user, and the app says so: nothing of o-first's is served.
    sandbox.controls.setUser('o-second');
    c.setUser('o-second');
    const second = await c.request({ path: '/api/me' });
    assert.deepEqual([second.fromCache, second.data.data.openid], [false, 'o-second']);
  });
});

describe('stale-while-revalidate', () => {
  test('a stale value comes at once, one background refresh runs, and the next request sees the new value', async () => {
    // Real time with wide margins here; the policy's timing is tested natively under a virtual clock.
    const { c } = await client({ rules: [{ path: '/api/home/*', ttlMs: 400, staleMs: 60_000 }] });
    const first = await c.request({ path: '/api/home/init' });
    await sleep(450);
    emulator.inject({ kind: 'delay', delayMs: 100, path: '/api/home/init' });
    const started = Date.now();
    const stale = await Promise.all(Array.from({ length: 5 }, () => c.request({ path: '/api/home/init' })));
    assert.ok(Date.now() - started < 90, 'served at once, not after the 100 ms refresh');
    assert.ok(stale.every((r) => r.fromCache && r.stale && r.data === first.data));
    await sleep(200);
    assert.equal(emulator.count('/api/home/init'), 2, 'one refresh for five stale serves');
    const fresh = await c.request({ path: '/api/home/init' });
    assert.deepEqual([fresh.fromCache, fresh.stale], [true, false]);
    assert.notEqual(fresh.data, first.data, 'the refreshed value');
    assert.equal(c.cacheStats().staleServes, 5);
  });
});

describe('invalidation', () => {
  test('client.invalidate by prefix and by tag', async () => {
    const { c } = await client({ rules: [{ path: '/api/order/*', ttlMs: 60_000, tags: ['orders'] }, { path: '/api/home/*', ttlMs: 60_000 }] });
    await c.request({ path: '/api/order/list', data: { userId: 1 } });
    await c.request({ path: '/api/home/init' });
    assert.equal(c.invalidate('/api/order/'), 1);
    assert.equal((await c.request({ path: '/api/order/list', data: { userId: 1 } })).fromCache, false);
    assert.equal(c.invalidate({ tag: 'orders' }), 1);
    assert.equal((await c.request({ path: '/api/home/init' })).fromCache, true);
    assert.throws(() => c.invalidate('orders'), (e) => e.kind === 'invalid');
  });

  test('a successful POST /api/order/* invalidates GET /api/order/list', async () => {
    const { c } = await client({
      rules: [{ path: '/api/order/*', ttlMs: 60_000 }],
      invalidations: [{ method: 'POST', path: '/api/order/*', prefixes: ['/api/order/list'] }],
    });
    await c.request({ path: '/api/order/list', data: { userId: 1 } });
    assert.equal((await c.request({ path: '/api/order/list', data: { userId: 1 } })).fromCache, true);
    await c.request({ path: '/api/order/create', method: 'POST', data: { title: 'new' } });
    assert.equal((await c.request({ path: '/api/order/list', data: { userId: 1 } })).fromCache, false);
    assert.equal(emulator.count('/api/order/list'), 2);
  });
});

test('bounds: the least recently used entries go first', async () => {
  const { c } = await client({ maxEntries: 2, rules: [{ path: '/api/service/*', ttlMs: 60_000 }] });
  await c.request({ path: '/api/service/svc-clean' });
  await c.request({ path: '/api/service/svc-repair' });
  await c.request({ path: '/api/service/svc-clean' });
  await c.request({ path: '/api/service/svc-move' });
  assert.equal(c.cacheStats().evictions, 1);
  assert.equal((await c.request({ path: '/api/service/svc-clean' })).fromCache, true);
  assert.equal((await c.request({ path: '/api/service/svc-repair' })).fromCache, false, 'evicted');
});
