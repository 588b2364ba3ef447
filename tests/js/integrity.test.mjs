// Where the features meet (issue 16), through the built bundle in the sandbox
// against the emulator: the offline queue meets the breaker, the caller's
// options meet the scheduler and cloud init, the queue meets storage limits
// and the user, the client's headers meet retries and replays. Each test
// counts what reached the server.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { cloudOptions, packageRoot, plain, rejection, sandboxWithBundle, sleep, startEmulator, until } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const QUEUE_KEY = 'mp-request:queue';

/** An app launch over `storage` (shared between launches), with the emulator's env. */
async function launch({ storage = new Map(), offline = false, root = packageRoot(), extra = {} } = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage, root });
  if (offline) sandbox.controls.setNetworkType('none');
  const synced = [];
  const client = await mp.createClient(cloudOptions(emulator, { onSync: (event) => synced.push(event), ...extra }));
  await sleep(5); // getNetworkType answers asynchronously
  return { mp, client, sandbox, synced, storage };
}

describe('the offline queue meets the circuit breaker', () => {
  test('a queued write refused by an open breaker waits for the probe instead of looping, then is sent once', async () => {
    const { client, sandbox, synced } = await launch({ extra: { retry: false, breaker: { openMs: 300 } } });
    // 20 network failures open the default breaker (20 calls, half failing).
    emulator.inject({ kind: 'reset', path: '/api/test', count: 20 });
    for (let i = 0; i < 20; i += 1) await rejection(client.request({ path: '/api/test', cache: false }));
    assert.equal(client.stats().services[0].breaker.state, 'open');
    sandbox.controls.setNetworkType('none');
    const queued = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: '洗衣' }, offline: 'queue' }));
    assert.equal(queued.queued, true);
    // The network returns while the breaker is open: this used to spin forever inside the engine.
    sandbox.controls.setNetworkType('wifi');
    sandbox.controls.appShow();
    assert.equal(client.pending().length, 1, 'still queued: the breaker refused it');
    assert.equal(client.pending()[0].attempts, 1, 'refused once, then it waits for a timer');
    const stillServes = await rejection(client.request({ path: '/api/test', cache: false }));
    assert.equal(stillServes.kind, 'service', 'the client answers at once (the breaker fails fast)');
    assert.equal(emulator.count('/api/order/create'), 0);
    // After the breaker's open time the replay goes, once.
    assert.ok(await until(() => synced.length === 1, 5000), 'replayed after the breaker let a probe through');
    assert.equal(synced[0].ok, true);
    assert.equal(emulator.handled('/api/order/create'), 1);
    assert.deepEqual(plain(client.pending()), []);
  });
});

describe('what is sent is what the engine validated', () => {
  test('a page that reuses its params object gets the page it asked for, and the cache keys it right', async () => {
    const { client } = await launch({ extra: { cache: { rules: [{ path: '/api/order/*', ttlMs: 60_000 }] } } });
    const params = { userId: 1, page: 1, pageSize: 5 };
    const header = { 'X-Trace': 'first' };
    // The first request waits for cloud init: the page changes its objects meanwhile.
    const first = client.request({ path: '/api/order/list', data: params, header });
    params.page = 2;
    header['X-Trace'] = 'second';
    const page1 = await first;
    assert.equal(page1.data.data.page, 1);
    const seen = emulator.requests().filter((r) => r.path === '/api/order/list');
    assert.deepEqual(seen.map((r) => [r.query.page, r.headers['x-trace']]), [['1', 'first']]);
    // Page 2 is its own request; page 1 comes from the cache, keyed as it was sent.
    const page2 = await client.request({ path: '/api/order/list', data: params, header });
    assert.equal(page2.data.data.page, 2);
    const again = await client.request({ path: '/api/order/list', data: { userId: 1, page: 1, pageSize: 5 }, header: { 'X-Trace': 'first' } });
    assert.deepEqual([again.fromCache, again.data.data.page], [true, 1]);
  });

  test('a body changed while the request waits for a slot is sent as it was at the call', async () => {
    const { client } = await launch({ extra: { maxConcurrent: 1 } });
    emulator.inject({ kind: 'delay', path: '/api/test', delayMs: 100 });
    const blocker = client.request({ path: '/api/test', cache: false });
    const body = { title: 'as called' };
    const queued = client.request({ path: '/api/order/create', method: 'POST', data: body, idempotent: 'auto' });
    body.title = 'changed later';
    await blocker;
    const created = await queued;
    assert.equal(created.data.data.title, 'as called');
  });
});

describe('"已保存" only for a write that was saved', () => {
  test('when storage refuses the queue, the caller gets the failure, not 已保存, and nothing replays after a relaunch', async () => {
    const storage = new Map();
    // Another part of the app filled wx storage to its 10 MB.
    for (let i = 0; i < 10; i += 1) storage.set(`big-${i}`, JSON.stringify('x'.repeat(1024 * 1024 - 16)));
    const root = packageRoot();
    const first = await launch({ storage, root, offline: true });
    const err = await rejection(first.client.request({ path: '/api/order/create', method: 'POST', data: { title: 'x' }, offline: 'queue' }));
    assert.equal(err.kind, 'offline');
    assert.notEqual(err.queued, true);
    assert.equal(err.message, '网络不可用，请检查网络设置');
    assert.match(err.detail, /not queued: the offline queue could not be saved \(setStorageSync:fail exceed storage max size 10MB\)/);
    assert.deepEqual(plain(first.client.pending()), []);
    first.client.destroy();
    storage.delete('big-0');
    const second = await launch({ storage, root });
    await sleep(50);
    assert.equal(emulator.count('/api/order/create'), 0, 'nothing that was not saved is sent');
    assert.deepEqual(second.synced, []);
  });
});

describe('queued writes belong to their user', () => {
  test("A's queued write never replays while B is signed in; it does when A is back; dropPending drops on logout", async () => {
    const storage = new Map();
    const root = packageRoot();
    let token = 'token-A';
    const first = await launch({ storage, root, offline: true, extra: { header: () => ({ Authorization: `Bearer ${token}` }) } });
    first.client.setUser('A');
    await rejection(first.client.request({ path: '/api/order/create', method: 'POST', data: { title: 'A1' }, offline: 'queue' }));
    assert.equal(first.client.pending()[0].user, 'A');
    assert.ok(!storage.get(QUEUE_KEY).includes('Bearer'), 'no credential in storage');
    first.client.destroy();

    // Relaunch, online: replays wait for the app's setUser. B signs in.
    token = 'token-B';
    const second = await launch({ storage, root, extra: { header: () => ({ Authorization: `Bearer ${token}` }) } });
    await sleep(50);
    assert.equal(emulator.count('/api/order/create'), 0, 'no user yet: A\'s write waits');
    second.client.setUser('B');
    await sleep(50);
    assert.equal(emulator.count('/api/order/create'), 0, "B does not send A's write");
    // A signs in again: it replays with A's current token.
    token = 'token-A2';
    second.client.setUser('A');
    assert.ok(await until(() => second.synced.length === 1));
    const sent = emulator.requests().filter((r) => r.path === '/api/order/create');
    assert.deepEqual(sent.map((r) => r.headers.authorization), ['Bearer token-A2']);
    // A queues another one and logs out, dropping it.
    second.sandbox.controls.setNetworkType('none');
    await rejection(second.client.request({ path: '/api/order/create', method: 'POST', data: { title: 'A2' }, offline: 'queue' }));
    assert.equal(second.client.dropPending(), 1);
    second.client.setUser(null);
    assert.equal(second.synced.at(-1).error.kind, 'cancelled');
    assert.deepEqual(plain(second.client.pending()), []);
    assert.equal(JSON.parse(storage.get(QUEUE_KEY)).items.length, 0);
  });

  test('a credential header on a queueable request is refused with the way to give it', async () => {
    const { client } = await launch();
    const err = await rejection(
      client.request({ path: '/api/order/create', method: 'POST', data: {}, offline: 'queue', header: { Authorization: 'Bearer t' } }),
    );
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, /`header.Authorization` is not kept with offline: 'queue'.*client's `header` option/);
    assert.equal(emulator.count(), 0);
  });
});

describe("the client's headers", () => {
  test('an object goes with every request, under the request\'s own', async () => {
    const { client } = await launch({ extra: { header: { 'X-App': 'shop', 'X-Trace': 'client' } } });
    await client.request({ path: '/api/test', header: { 'X-Trace': 'mine' }, cache: false });
    const [seen] = emulator.requests();
    assert.deepEqual([seen.headers['x-app'], seen.headers['x-trace']], ['shop', 'mine']);
  });

  test('a function is called for every attempt, so a retry carries the refreshed token', async () => {
    let n = 0;
    const { client } = await launch({ extra: { header: () => ({ Authorization: `Bearer t${(n += 1)}` }), retry: { baseMs: 1, capMs: 1 } } });
    emulator.inject({ kind: 'status', status: 503, path: '/api/test', count: 1 });
    const res = await client.request({ path: '/api/test', cache: false });
    assert.equal(res.attempts, 2);
    assert.deepEqual(emulator.requests().map((r) => r.headers.authorization), ['Bearer t1', 'Bearer t2']);
  });

  test('a function may answer with a Promise', async () => {
    const { client } = await launch({ extra: { header: () => Promise.resolve({ Authorization: 'Bearer later' }) } });
    await client.request({ path: '/api/test', cache: false });
    assert.equal(emulator.requests()[0].headers.authorization, 'Bearer later');
  });

  test('what a function returns is validated; a throw is named; neither is retried nor sent', async () => {
    const bad = await launch({ extra: { header: () => ({ 'X-Bad': 'a\r\nInjected: 1' }) } });
    const err = await rejection(bad.client.request({ path: '/api/test', cache: false }));
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, /`header.X-Bad` must not contain CR, LF or NUL/);
    let calls = 0;
    const throwing = await launch({
      extra: {
        header: () => {
          calls += 1;
          throw new Error('not signed in');
        },
      },
    });
    const thrown = await rejection(throwing.client.request({ path: '/api/test', cache: false }));
    assert.equal(thrown.kind, 'invalid');
    assert.match(thrown.detail, /`header` \(the client's function\) threw: not signed in/);
    assert.equal(calls, 1, 'not retried');
    assert.equal(emulator.count(), 0);
    const notHeaders = await rejection(launch({ extra: { header: { 'Bad Name': 'x' } } }));
    assert.match(notHeaders.detail, /`header` has an invalid name "Bad Name"/);
  });

  test('client headers keep a repeated GET on the fast path: a cache hit', async () => {
    const { client } = await launch({ extra: { header: () => ({ Authorization: 'Bearer t' }), cache: { rules: [{ path: '/api/home/*', ttlMs: 60_000 }] } } });
    await client.request({ path: '/api/home/init' });
    const hit = await client.request({ path: '/api/home/init' });
    assert.equal(hit.fromCache, true);
    assert.equal(emulator.count('/api/home/init'), 1);
  });
});

describe('smaller defects', () => {
  test('a platform that never answers: the engine times the attempt out itself and ignores a late answer', async () => {
    const { client, sandbox } = await launch({ extra: { retry: false, timeoutMs: 50 } });
    const late = [];
    // The library calls through its own wx.cloud.Cloud instance.
    sandbox.context.wx.cloud.Cloud.prototype.callContainer = (o) => late.push(o);
    const err = await rejection(client.request({ path: '/api/test', cache: false }));
    assert.equal(err.kind, 'timeout');
    assert.match(err.detail, /no answer from the platform within 1050 ms/);
    // The platform answers after all: nothing settles twice, nothing throws.
    late[0].success({ statusCode: 200, data: {}, header: {} });
    await sleep(10);
    assert.equal(client.stats().total.inFlight, 0);
  });

  test('a throwing mock handler is a programming error: named, not retried', async () => {
    const { mp } = sandboxWithBundle(emulator, { profile: 'devtools' });
    let calls = 0;
    const client = await mp.createClient({
      mock: {
        routes: [
          {
            path: '/api/broken',
            handler: () => {
              calls += 1;
              throw new Error('boom');
            },
          },
        ],
      },
    });
    const err = await rejection(client.request({ path: '/api/broken' }));
    assert.deepEqual([err.kind, err.retryable, calls], ['invalid', false, 1]);
    assert.match(err.detail, /handler for \/api\/broken threw: boom/);
  });

  test('after destroy every method says so with a RequestError, never a raw error', async () => {
    const { mp, client } = await launch();
    client.destroy();
    for (const call of [
      () => client.cacheStats(),
      () => client.stats(),
      () => client.resetStats(),
      () => client.setUser('a'),
      () => client.invalidate('/api/'),
      () => client.pending(),
      () => client.dropPending(),
      () => client.onSync(() => {}),
      () => client.socket(),
    ]) {
      assert.throws(call, (e) => mp.RequestError.is(e) && e.kind === 'invalid' && /destroyed/.test(e.detail), String(call));
    }
    const err = await rejection(client.request({ path: '/api/test' }));
    assert.equal(err.kind, 'invalid');
    client.destroy();
  });
});
