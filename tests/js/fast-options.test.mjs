// Requests with a header, a priority or a per-request cache take the fast
// path too: the shim reads flat options once, hands the engine copies, and
// finds a repeat's cached value by the handle the engine gave for the same
// text. Through the built bundle in the sandbox, against the emulator,
// counting what reached the server; the options are made in the sandbox's
// realm, as a page makes them.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { localClient, rejection, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const RULES = { rules: [{ path: '/api/test', ttlMs: 60_000 }] };

async function client(extra = {}) {
  return localClient(emulator, { cache: RULES, ...extra });
}

describe('repeats with options are served from the cache', () => {
  for (const [name, extra] of [
    ['a header', { header: { 'X-App': '7.1' } }],
    ['a number header', { header: { 'X-Build': 42 } }],
    ['a priority', { priority: 'high' }],
    ['a per-request cache', { cache: { ttlMs: 30_000 } }],
    ['all of them and a timeout', { header: { 'X-App': '7.1' }, priority: 'low', cache: { ttlMs: 30_000 }, timeoutMs: 5000 }],
  ]) {
    test(`${name}: one call reaches the server, the repeats are hits with the same answer`, async () => {
      const { c, done } = await client();
      const first = await c.request({ path: '/api/test', data: { q: 1 }, ...extra });
      for (let i = 0; i < 5; i += 1) {
        const again = await c.request({ path: '/api/test', data: { q: 1 }, ...extra });
        assert.equal(again.fromCache, true);
        assert.deepEqual(again.data, first.data);
        assert.equal(again.route, 'cloud');
      }
      assert.equal(emulator.count('/api/test'), 1);
      assert.equal(c.stats().total.cacheHits, 5);
      done();
    });
  }

  test('a request of only a path is keyed by the path itself: the same path with a method, data or a header stays apart', async () => {
    const { c, done } = await client({ cache: { rules: [{ path: '/api/test', ttlMs: 60_000 }, { path: '/api/home/*', ttlMs: 60_000 }] } });
    const shapes = [
      { path: '/api/test' },
      { path: '/api/test', method: 'GET' },
      { path: '/api/test', data: { q: 1 } },
      { path: '/api/test', header: { 'X-App': '7.1' } },
      { path: '/api/home/init' },
    ];
    const first = [];
    for (const options of shapes) first.push(await c.request({ ...options }));
    // The bare path and the explicit GET are one entry (the same request); the others are their own.
    assert.equal(emulator.count('/api/test'), 3);
    for (let round = 0; round < 3; round += 1) {
      for (const [i, options] of shapes.entries()) {
        const again = await c.request({ ...options });
        assert.equal(again.fromCache, true, JSON.stringify(options));
        assert.deepEqual(again.data, first[i].data);
      }
    }
    assert.equal(emulator.count('/api/test'), 3);
    assert.equal(emulator.count('/api/home/init'), 1);
    done();
  });

  test('another header value is another entry; the same object changed between calls is keyed by what it held', async () => {
    const { c, done } = await client();
    const header = { 'X-App': 'a' };
    await c.request({ path: '/api/test', header });
    header['X-App'] = 'b';
    const b = await c.request({ path: '/api/test', header });
    assert.equal(b.fromCache, false, 'b is not a');
    assert.equal(emulator.requests().at(-1).headers['x-app'], 'b');
    header['X-App'] = 'a';
    assert.equal((await c.request({ path: '/api/test', header })).fromCache, true, 'a again');
    assert.equal(emulator.count('/api/test'), 2);
    done();
  });
});

describe('what the fast path reads is what is sent and checked', () => {
  test('a header getter is read once per request, and the server sees that read', async () => {
    const { c, done } = await client();
    let reads = 0;
    const header = {
      get 'X-Seq'() {
        reads += 1;
        return `v${reads}`;
      },
    };
    await c.request({ path: '/api/test', data: { n: 1 }, header, cache: false });
    assert.equal(reads, 1);
    assert.equal(emulator.requests().at(-1).headers['x-seq'], 'v1');
    await c.request({ path: '/api/test', data: { n: 2 }, header, cache: false });
    assert.equal(reads, 2);
    assert.equal(emulator.requests().at(-1).headers['x-seq'], 'v2');
    done();
  });

  test('a header with CR/LF is refused every time, also after the same name was served and cached', async () => {
    const { c, done } = await client();
    await c.request({ path: '/api/test', header: { 'X-App': 'a' } });
    for (let i = 0; i < 3; i += 1) {
      const err = await rejection(c.request({ path: '/api/test', header: { 'X-App': 'a\r\nX-Evil: 1' } }));
      assert.equal(err.kind, 'invalid');
      assert.match(err.message + err.detail, /header/);
    }
    assert.equal(emulator.count('/api/test'), 1);
    // The client still serves, from the cache too.
    assert.equal((await c.request({ path: '/api/test', header: { 'X-App': 'a' } })).fromCache, true);
    done();
  });

  test('Authorization without cache.private is never cached: every request reaches the server', async () => {
    const { c, done } = await client();
    for (let i = 0; i < 3; i += 1) {
      const res = await c.request({ path: '/api/test', header: { Authorization: 'Bearer t' } });
      assert.equal(res.fromCache, false);
    }
    assert.equal(emulator.count('/api/test'), 3);
    done();
  });

  test('Authorization with cache.private: cached per user, and another user never gets the first one\'s entry', async () => {
    const { c, done } = await client();
    const ask = () => c.request({ path: '/api/test', header: { Authorization: 'Bearer t' }, cache: { private: true } });
    c.setUser('u-1');
    await ask();
    assert.equal((await ask()).fromCache, true);
    c.setUser('u-2');
    assert.equal((await ask()).fromCache, false, 'u-2 does not get u-1\'s answer');
    assert.equal((await ask()).fromCache, true);
    assert.equal(emulator.count('/api/test'), 2);
    done();
  });

  test('an aborted signal, an unknown option, a bad priority or a nested header value go to the engine, which names what is wrong', async () => {
    const { c, mp, done } = await client();
    await c.request({ path: '/api/test', header: { 'X-App': 'a' } });
    const controller = mp.createAbortController();
    controller.abort();
    const cancelled = await rejection(c.request({ path: '/api/test', header: { 'X-App': 'a' }, signal: controller.signal }));
    assert.equal(cancelled.kind, 'cancelled', 'cached, but the caller already gave up');
    const err = await rejection(c.request({ path: '/api/test', header: { 'X-App': 'a' }, priorty: 'high' }));
    assert.equal(err.kind, 'invalid');
    assert.match(err.message + err.detail, /priorty/);
    const bad = await rejection(c.request({ path: '/api/test', priority: 'urgent' }));
    assert.equal(bad.kind, 'invalid');
    assert.match(bad.message + bad.detail, /priority/);
    // A header of another prototype, or with a nested value: read by the engine, which refuses the nested one.
    const nested = await rejection(c.request({ path: '/api/test', header: { 'X-App': { v: 1 } } }));
    assert.equal(nested.kind, 'invalid');
    assert.match(nested.message + nested.detail, /header\.X-App/);
    assert.equal(emulator.count('/api/test'), 1);
    done();
  });
});

describe('repeats of a request in flight join it by its handle', () => {
  test('100 at once: one call reaches the server, every caller gets its answer', async () => {
    const { c, done } = await client();
    emulator.inject({ kind: 'delay', delayMs: 50, path: '/api/test' });
    const all = await Promise.all(Array.from({ length: 100 }, () => c.request({ path: '/api/test', header: { 'X-App': '1' } })));
    assert.ok(all.every((r) => r.statusCode === 200 && r.fromCache === false && r.route === 'cloud'));
    assert.ok(all.every((r) => JSON.stringify(r.data) === JSON.stringify(all[0].data)));
    assert.equal(emulator.count('/api/test'), 1);
    assert.equal(c.stats().total.requests, 100);
    done();
  });

  test('on a path without a cache rule too: one call, every caller answered, nothing cached', async () => {
    const { c, done } = await client();
    emulator.inject({ kind: 'delay', delayMs: 50, path: '/api/home/init' });
    const all = await Promise.all(Array.from({ length: 100 }, () => c.request({ path: '/api/home/init', data: { q: 1 } })));
    assert.ok(all.every((r) => r.statusCode === 200 && r.fromCache === false));
    assert.equal(emulator.count('/api/home/init'), 1);
    const again = await c.request({ path: '/api/home/init', data: { q: 1 } });
    assert.equal(again.fromCache, false, 'not cached: asked again');
    assert.equal(emulator.count('/api/home/init'), 2);
    assert.equal(c.cacheStats().misses, 0, 'nothing looked up');
    done();
  });

  test('an error reaches every joined caller', async () => {
    const { c, done } = await client();
    emulator.inject({ kind: 'status', status: 404, path: '/api/test' });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => c.request({ path: '/api/test' })));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason.kind === 'http' && r.reason.statusCode === 404));
    assert.equal(emulator.count('/api/test'), 1);
    done();
  });

  test('a caller with a signal joins the same fetch; cancelling it leaves the others answered', async () => {
    const { c, mp, done } = await client();
    emulator.inject({ kind: 'delay', delayMs: 100, path: '/api/test' });
    const first = c.request({ path: '/api/test' });
    const controller = mp.createAbortController();
    const cancelled = c.request({ path: '/api/test', signal: controller.signal });
    const others = Array.from({ length: 3 }, () => c.request({ path: '/api/test' }));
    setTimeout(() => controller.abort(), 20);
    assert.equal((await rejection(cancelled)).kind, 'cancelled');
    const answers = await Promise.all([first, ...others]);
    assert.ok(answers.every((r) => r.statusCode === 200));
    assert.equal(emulator.count('/api/test'), 1);
    done();
  });

  test('a client destroyed while they wait still answers the joined callers, as any request in flight', async () => {
    const { c, done } = await client();
    emulator.inject({ kind: 'delay', delayMs: 100, path: '/api/test' });
    const all = Array.from({ length: 5 }, () => c.request({ path: '/api/test' }));
    done();
    const answers = await Promise.all(all);
    assert.ok(answers.every((r) => r.statusCode === 200 && r.fromCache === false));
    assert.equal(emulator.count('/api/test'), 1);
  });
});
