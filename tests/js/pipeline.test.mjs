// The request pipeline through the built bundle in the sandbox, against the
// emulator: retries, shared Cloud init, routing by environment, mock routes,
// cancellation and offline, counting what reached the server.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/** Short real delays: the schedule itself is tested natively under a virtual clock. */
const FAST = { retry: { baseMs: 20, capMs: 2000 } };

describe('retry', () => {
  test('2 injected 503s then success: resolves with attempts 3, and exactly 3 calls reached the server', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    emulator.inject({ kind: 'status', status: 503, count: 2, path: '/api/home/init' });
    const res = await client.request({ path: '/api/home/init' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.attempts, 3);
    assert.equal(emulator.count('/api/home/init'), 3);
  });

  test('a POST whose response is lost: exactly 1 call reached the server and the error says so', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    emulator.inject({ kind: 'reset', path: '/api/order/create' });
    const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 't' } }));
    assert.equal(err.kind, 'network');
    assert.equal(err.attempts, 1);
    assert.match(err.detail, /not retried: POST is not idempotent and may have reached the server/);
    assert.equal(emulator.count('/api/order/create'), 1);
  });

  test('the same POST marked idempotent is retried', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    emulator.inject({ kind: 'reset', path: '/api/order/create' });
    const res = await client.request({ path: '/api/order/create', method: 'POST', data: { title: 't' }, idempotent: true });
    assert.equal(res.attempts, 2);
    assert.equal(emulator.count('/api/order/create'), 2);
  });

  test('4 timeouts in a row: kind timeout with the seed message after 4 attempts, 4 calls reached the server', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { retry: { baseMs: 10, capMs: 20 } }));
    emulator.inject({ kind: 'hang', count: 4, path: '/api/test' });
    const err = await rejection(client.request({ path: '/api/test', timeoutMs: 80 }));
    assert.equal(err.kind, 'timeout');
    assert.equal(err.message, '请求超时，请检查网络');
    assert.equal(err.code, 102002);
    assert.equal(err.attempts, 4);
    assert.match(err.detail, /gave up after 4 attempts/);
    assert.equal(emulator.count('/api/test'), 4);
  });

  test('429 with Retry-After: 1 waits one second before the retry', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { ...FAST, debug: true }));
    emulator.inject({ kind: 'status', status: 429, retryAfter: 1, path: '/api/test' });
    const started = Date.now();
    const res = await client.request({ path: '/api/test' });
    const elapsed = Date.now() - started;
    assert.equal(res.attempts, 2);
    assert.ok(elapsed >= 950, `retried after ${elapsed} ms`);
    assert.ok(sandbox.logs.some((l) => l.line.includes('retrying in 1000 ms')), 'the engine decided 1000 ms');
    assert.equal(emulator.count('/api/test'), 2);
  });

  test('non-retryable answers are returned at once: 404 makes one call', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    const err = await rejection(client.request({ path: '/api/nowhere' }));
    assert.deepEqual([err.kind, err.statusCode, err.attempts], ['http', 404, 1]);
    assert.equal(emulator.count('/api/nowhere'), 1);
  });
});

describe('shared Cloud init', () => {
  test('init fails twice then succeeds: the request succeeds after 3 inits, 1 call', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { resourceAppid: 'wx-owner' }));
    sandbox.controls.failCloudInit(2);
    const res = await client.request({ path: '/api/test' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.attempts, 1);
    assert.equal(sandbox.controls.calls.cloudInit, 3);
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('init failing 4 times fails with kind init; the next request initialises again and succeeds', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { resourceAppid: 'wx-owner' }));
    sandbox.controls.failCloudInit(4);
    const [a, b] = await Promise.all([
      rejection(client.request({ path: '/api/test' })),
      rejection(client.request({ path: '/api/test', method: 'POST' })),
    ]);
    for (const err of [a, b]) {
      assert.equal(err.kind, 'init');
      assert.equal(err.message, '云服务初始化失败，请稍后重试');
      assert.equal(err.attempts, 0);
      assert.match(err.detail, /Cloud API isn't enabled.*next request tries again/);
    }
    assert.equal(sandbox.controls.calls.cloudInit, 4, 'one shared init, retried 3 times');
    assert.equal(emulator.count(), 0);
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
    assert.equal(sandbox.controls.calls.cloudInit, 5);
  });

  test('"Cloud API isn\'t enabled" on a call re-initialises and retries, even a POST, since nothing was sent', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    sandbox.controls.failCloudApi(2);
    const res = await client.request({ path: '/api/order/create', method: 'POST', data: { title: 'x' } });
    assert.equal(res.attempts, 3);
    assert.equal(emulator.count('/api/order/create'), 1, 'only the last attempt left the device');
    assert.equal(sandbox.controls.calls.cloudInit, 3, "the instance's init() again after each refusal");
    assert.equal(sandbox.controls.calls.cloudInstances, 1, 'on the same instance');
  });
});

describe('routing by environment', () => {
  const mock = { routes: [{ path: '/api/home/init', response: { data: { source: 'mock' } } }] };
  const cases = [
    ['devtools', 'develop', true, 'mock', 'devtools with mock routes'],
    ['devtools', 'develop', false, 'cloud', 'env configured and wx.cloud available'],
    ['android', 'develop', true, 'cloud', 'env configured and wx.cloud available'],
    ['ios', 'trial', true, 'cloud', 'env configured and wx.cloud available'],
    ['devtools', 'release', true, 'cloud', 'env configured and wx.cloud available'],
  ];
  for (const [profile, envVersion, withMock, route, reason] of cases) {
    test(`${profile} / ${envVersion}${withMock ? ' / mock routes' : ''} → ${route}`, async () => {
      const { mp } = sandboxWithBundle(emulator, { profile, envVersion });
      const client = await mp.createClient(cloudOptions(emulator, withMock ? { mock } : {}));
      const res = await client.request({ path: '/api/home/init' });
      assert.equal(res.route, route);
      assert.equal(res.routeReason, reason);
      assert.equal(route === 'mock' ? res.data.source : res.data.data.banners.length > 0, route === 'mock' ? 'mock' : true);
      assert.equal(emulator.count(), route === 'mock' ? 0 : 1);
    });
  }

  test('release never serves mock data, even when asked', async () => {
    const { mp } = sandboxWithBundle(emulator, { profile: 'devtools', envVersion: 'release' });
    const client = await mp.createClient(cloudOptions(emulator, { mock }));
    const err = await rejection(client.request({ path: '/api/home/init', route: 'mock' }));
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, /never served in a release build/);
  });

  test('a base library older than 2.23.0 (Cloud Run\'s minimum) falls back to HTTP and says why, or fails as init naming the version', async () => {
    for (const SDKVersion of ['2.20.3', '2.22.9']) {
      const { mp } = sandboxWithBundle(emulator, { SDKVersion });
      const client = await mp.createClient(cloudOptions(emulator, { baseUrl: emulator.url }));
      const res = await client.request({ path: '/api/test' });
      assert.deepEqual([res.route, res.routeReason], ['http', 'base library older than 2.23.0, falling back to baseUrl'], SDKVersion);
      const alone = await mp.createClient(cloudOptions(emulator));
      const err = await rejection(alone.request({ path: '/api/test' }));
      assert.deepEqual([err.kind, err.retryable, err.attempts], ['init', false, 0], SDKVersion);
      assert.ok(err.detail.includes(`the base library is ${SDKVersion}: callContainer needs 2.23.0 or later`), err.detail);
    }
    const { mp } = sandboxWithBundle(emulator, { SDKVersion: '2.23.0' });
    const client = await mp.createClient(cloudOptions(emulator, { baseUrl: emulator.url }));
    assert.equal((await client.request({ path: '/api/test' })).route, 'cloud');
    assert.equal(emulator.count(), 3, 'the two old ones fell back; nothing was sent for the refused ones');
  });

  test('a request can insist on a route', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { baseUrl: emulator.url }));
    const res = await client.request({ path: '/api/test', route: 'http' });
    assert.deepEqual([res.route, res.routeReason], ['http', "route: 'http' requested"]);
    assert.deepEqual({ ...res.data.data.identity }, {}, 'plain HTTP carries no WeChat identity');
  });

  test('mode: http sends everything over wx.request', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { baseUrl: emulator.url, mode: 'http' }));
    await client.request({ path: '/api/test' });
    assert.deepEqual([sandbox.controls.calls.request, sandbox.controls.calls.callContainer], [1, 0]);
  });
});

describe('mock routes', () => {
  test('a handler gets the request and the captured params; unmatched paths are named', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator, { profile: 'devtools' });
    const seen = [];
    sandbox.context.seen = seen;
    const client = await mp.createClient({
      mock: {
        routes: [
          { method: 'GET', path: '/api/order/:id', handler: (req, params) => (seen.push({ req, params }), { data: { id: params.id } }) },
          { path: '/api/order/list', response: { statusCode: 200, data: { list: [] }, header: { 'x-mock': '1' } } },
          { path: '/api/broken', handler: () => { throw new Error('boom'); } },
          { path: '/api/teapot', response: { statusCode: 418, data: null } },
        ],
      },
    });
    const one = await client.request({ path: '/api/order/7', data: { a: 1 } });
    assert.deepEqual([one.route, one.data.id], ['mock', '7']);
    assert.equal(seen[0].req.method, 'GET');
    assert.equal(seen[0].params.id, '7');
    const list = await client.request({ path: '/api/order/list?page=1' });
    assert.equal(list.header['x-mock'], '1', 'the literal route beats /api/order/:id');
    const missing = await rejection(client.request({ path: '/api/user/me' }));
    assert.equal(missing.kind, 'invalid');
    assert.match(missing.detail, /nothing in mock.routes matches GET \/api\/user\/me/);
    const broken = await rejection(client.request({ path: '/api/broken', retry: false }));
    assert.match(broken.detail, /handler for \/api\/broken threw: boom/);
    const teapot = await rejection(client.request({ path: '/api/teapot' }));
    assert.deepEqual([teapot.kind, teapot.statusCode, teapot.route], ['http', 418, 'mock']);
    assert.equal(emulator.count(), 0);
  });
});

describe('cancellation', () => {
  test('cancelling an in-flight request rejects with kind cancelled and never retries', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    const controller = mp.createAbortController();
    emulator.inject({ kind: 'delay', delayMs: 200, path: '/api/test' });
    const pending = client.request({ path: '/api/test', signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const err = await rejection(pending);
    assert.deepEqual([err.kind, err.retryable, err.message], ['cancelled', false, '请求已取消']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('cancelling during the backoff wait stops the retry', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { retry: { baseMs: 400, capMs: 400 }, seed: 1 }));
    const controller = mp.createAbortController();
    emulator.inject({ kind: 'status', status: 503, count: 5, path: '/api/test' });
    const pending = client.request({ path: '/api/test', signal: controller.signal });
    await new Promise((r) => setTimeout(r, 60));
    controller.abort();
    const err = await rejection(pending);
    assert.equal(err.kind, 'cancelled');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('an already aborted signal sends nothing; wx.request tasks are aborted', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { baseUrl: emulator.url, mode: 'http' }));
    const controller = mp.createAbortController();
    controller.abort();
    const err = await rejection(client.request({ path: '/api/test', signal: controller.signal }));
    assert.equal(err.kind, 'cancelled');
    assert.equal(sandbox.controls.calls.request, 0);
    assert.equal(err.attempts, 0);
  });
});

describe('offline', () => {
  test('offline requests fail fast with kind offline, nothing is sent, and the client follows the network back', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    sandbox.controls.setNetworkType('none');
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    await new Promise((r) => setTimeout(r, 10)); // getNetworkType answers asynchronously
    const started = Date.now();
    const err = await rejection(client.request({ path: '/api/test' }));
    assert.deepEqual([err.kind, err.message, err.attempts], ['offline', '网络不可用，请检查网络设置', 0]);
    assert.ok(Date.now() - started < 100, 'no retry storm');
    assert.equal(sandbox.controls.calls.callContainer, 0);
    sandbox.controls.setNetworkType('wifi');
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
  });

  test('going offline while retrying stops the retries', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, FAST));
    emulator.inject({ kind: 'delay', delayMs: 80, path: '/api/test' });
    emulator.inject({ kind: 'status', status: 503, count: 3, path: '/api/test' });
    const pending = client.request({ path: '/api/test', timeoutMs: 40 });
    setTimeout(() => sandbox.controls.setNetworkType('none'), 20);
    const err = await rejection(pending);
    assert.equal(err.kind, 'offline');
    assert.match(err.detail, /went offline/);
    assert.equal(emulator.count('/api/test'), 1);
  });
});

test('debug logs show the route, its reason and a clamped timeout', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { debug: true }));
  await client.request({ path: '/api/test', timeoutMs: 30000 });
  const lines = sandbox.logs.map((l) => l.line).join('\n');
  assert.match(lines, /cloud init, attempt 1/);
  assert.match(lines, /GET \/api\/test → cloud \(env configured and wx\.cloud available\), attempt 1, timeout 15000 ms, timeout 30000 ms clamped to 15000 ms/);
});
