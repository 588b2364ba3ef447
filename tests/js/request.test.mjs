// Requests through the built mini-program bundle, in the sandbox, against the
// emulator: what the caller gets and what reached the server.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { cloudOptions, localClient, packageRoot, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

describe('a GET through the cloud route', () => {
  for (const profile of ['android', 'ios', 'devtools']) {
    test(`${profile}: resolves with data, status, route and attempts; one call reached the server`, async () => {
      const { mp, sandbox } = sandboxWithBundle(emulator, { profile, openid: `o-${profile}` });
      const client = await mp.createClient(cloudOptions(emulator));
      const res = await client.request({ path: '/api/home/init' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.route, 'cloud');
      assert.equal(res.attempts, 1);
      assert.equal(res.fromCache, false);
      assert.equal(typeof res.callID, 'string');
      assert.equal(res.data.data.openid, `o-${profile}`, 'the gateway identified this user');
      assert.ok(res.data.data.banners.length > 0);
      assert.equal(emulator.count('/api/home/init'), 1);
      assert.equal(sandbox.controls.calls.callContainer, 1);
      client.destroy();
      sandbox.dispose();
    });
  }

  test('query data, method case and headers reach the service', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    const list = await client.request({ path: '/api/order/list', data: { userId: 1, page: 2, pageSize: 5 } });
    assert.equal(list.data.data.page, 2);
    assert.equal(list.data.data.list.length, 5);
    const echo = await client.request({ path: '/api/test', method: 'post', data: { a: 1 }, header: { 'X-Trace': 't-1', 'X-Num': 7 } });
    assert.equal(echo.data.data.method, 'POST');
    assert.deepEqual({ ...echo.data.data.body }, { a: 1 });
    const seen = emulator.requests().at(-1);
    assert.equal(seen.headers['x-trace'], 't-1');
    assert.equal(seen.headers['x-num'], '7');
    assert.equal(seen.headers['x-wx-service'], 'golang-lfwy');
  });

  test("a GET's data travels in the path: callContainer gets no data key, the service sees the query", async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const sent = [];
    const real = sandbox.wx.cloud.Cloud.prototype.callContainer;
    sandbox.wx.cloud.Cloud.prototype.callContainer = function (options) {
      sent.push({ path: options.path, method: options.method, hasData: 'data' in options });
      return real.call(this, options);
    };
    const client = await mp.createClient(cloudOptions(emulator));
    const res = await client.request({ path: '/api/order/list?pageSize=5', data: { userId: 1, page: 2, q: 'a b&c' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(sent, [{ path: '/api/order/list?pageSize=5&userId=1&page=2&q=a%20b%26c', method: 'GET', hasData: false }]);
    assert.deepEqual(emulator.requests().at(-1).query, { pageSize: '5', userId: '1', page: '2', q: 'a b&c' });
    // A write still carries its body as data.
    await client.request({ path: '/api/test', method: 'POST', data: { a: 1 } });
    assert.equal(sent.at(-1).hasData, true);
    client.destroy();
    sandbox.dispose();
  });

  test("the sandbox's callContainer refuses a GET that carries data, as WeChat documents none: nothing reaches the server", async () => {
    const { sandbox } = sandboxWithBundle(emulator);
    const cloud = new sandbox.wx.cloud.Cloud({ resourceEnv: emulator.env });
    await cloud.init();
    const call = (extra) => cloud.callContainer({ path: '/api/test', method: 'GET', header: { 'X-WX-SERVICE': 'golang-lfwy' }, ...extra }).catch((e) => e);
    for (const data of [{ a: 1 }, {}, 'a=1', null]) {
      const err = await call({ data });
      assert.equal(err.errCode, 40097, `data ${JSON.stringify(data)}`);
      assert.match(err.errMsg, /path/);
    }
    assert.equal(emulator.requests().length, 0, 'no GET with data reached the service');
    const ok = await call({});
    assert.equal(ok.statusCode, 200, 'the same GET without data is served');
    assert.equal(emulator.requests().length, 1);
    sandbox.dispose();
  });

  test('a platform that answers getNetworkType synchronously: createClient still works, and offline is seen', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    // Devices call back later; nothing promises it. An offline answer given at once must count.
    sandbox.wx.getNetworkType = (o) => o.success({ networkType: 'none', errMsg: 'getNetworkType:ok' });
    const client = await mp.createClient(cloudOptions(emulator));
    const err = await rejection(client.request({ path: '/api/home/init' }));
    assert.equal(err.kind, 'offline');
    assert.equal(emulator.count('/api/home/init'), 0, 'nothing was sent while offline');
    client.destroy();
    sandbox.dispose();
  });

  test("concurrent first requests share one Cloud instance and one init(), never wx.cloud.init", async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    const results = await Promise.all(Array.from({ length: 5 }, () => client.request({ path: '/api/test', cache: false })));
    assert.equal(results.length, 5);
    assert.equal(sandbox.controls.calls.cloudInstances, 1);
    assert.equal(sandbox.controls.calls.cloudInit, 1);
    assert.equal(sandbox.controls.calls.wxCloudInit, 0, "the app's wx.cloud is left alone");
    assert.equal(emulator.count('/api/test'), 5);
  });

  test('resource reuse goes through wx.cloud.Cloud and the gateway sees the FROM identity', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator, { openid: 'o-guest' });
    const client = await mp.createClient(cloudOptions(emulator, { resourceAppid: 'wx-owner', resourceEnv: emulator.env }));
    const res = await client.request({ path: '/api/test' });
    assert.equal(res.data.data.identity['x-wx-from-openid'], 'o-guest');
    assert.equal(res.data.data.identity['x-wx-appid'], 'wx-owner');
    assert.equal(sandbox.controls.calls.cloudInit, 1);
  });
});

describe('loading the wasm', () => {
  test('from .wasm or .wasm.br at a configurable path', async () => {
    const root = packageRoot();
    for (const wasmPath of ['/utils/mp-request/mp_request.wasm', '/utils/mp-request/mp_request.wasm.br']) {
      const { mp } = sandboxWithBundle(emulator, { root });
      const client = await mp.createClient(cloudOptions(emulator, { wasmPath }));
      assert.equal((await client.request({ path: '/api/test' })).statusCode, 200, wasmPath);
    }
  });

  test('the default path is the .wasm.br; a missing file is an invalid error naming the path, and a later call can still load', async () => {
    const root = packageRoot();
    const { mp } = sandboxWithBundle(emulator, { root });
    const err = await rejection(mp.createClient(cloudOptions(emulator, { wasmPath: '/nowhere/x.wasm' })));
    assert.ok(mp.RequestError.is(err));
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, /"\/nowhere\/x\.wasm" could not be loaded/);
    const client = await mp.createClient(cloudOptions(emulator));
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
    rmSync(join(root, 'utils/mp-request/mp_request.wasm.br'));
    const { mp: fresh } = sandboxWithBundle(emulator, { root });
    const missing = await rejection(fresh.createClient(cloudOptions(emulator)));
    assert.match(missing.detail, /mp_request\.wasm\.br" could not be loaded/);
  });
});

describe('routing', () => {
  test('without wx.cloud (old base library) it falls back to wx.request against baseUrl', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator, { cloud: false, echoConsole: false });
    const client = await mp.createClient(cloudOptions(emulator, { baseUrl: emulator.url, debug: true }));
    const res = await client.request({ path: '/api/order/list', data: { userId: 1 } });
    assert.equal(res.route, 'http');
    assert.equal(res.data.data.page, 1);
    assert.equal(sandbox.controls.calls.request, 1);
    assert.ok(sandbox.logs.some((l) => /→ http \(wx\.cloud unavailable, falling back to baseUrl\)/.test(l.line)), 'the reason is logged');
  });

  test('without wx.cloud and without baseUrl the request says what is missing', async () => {
    const { mp } = sandboxWithBundle(emulator, { cloud: false });
    const client = await mp.createClient(cloudOptions(emulator));
    const err = await rejection(client.request({ path: '/api/test' }));
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, /baseUrl/);
    assert.equal(emulator.count(), 0);
  });
});

describe('failures', () => {
  test('a 503 is a service error with the seed message; one call reached the server', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    emulator.inject({ kind: 'status', status: 503, path: '/api/test' });
    const err = await rejection(client.request({ path: '/api/test', retry: false }));
    assert.equal(err.name, 'RequestError');
    assert.equal(err.kind, 'service');
    assert.equal(err.message, '服务暂时不可用，请稍后重试');
    assert.equal(err.statusCode, 503);
    assert.equal(err.retryable, true);
    assert.equal(err.route, 'cloud');
    assert.equal(err.attempts, 1);
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('a timeout (the service hangs) is kind timeout with the seed message and errCode 102002', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    emulator.inject({ kind: 'hang', path: '/api/test' });
    const err = await rejection(client.request({ path: '/api/test', timeoutMs: 60, retry: false }));
    assert.equal(err.kind, 'timeout');
    assert.equal(err.message, '请求超时，请检查网络');
    assert.equal(err.code, 102002);
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('a connection reset is a network error with the seed message; its errMsg is kept as cause', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    emulator.inject({ kind: 'reset', path: '/api/test' });
    const err = await rejection(client.request({ path: '/api/test', retry: false }));
    assert.equal(err.kind, 'network');
    assert.equal(err.message, '网络错误，请重试');
    assert.match(err.cause.errMsg, /ERR_CONNECTION_RESET/);
    assert.equal(emulator.count('/api/test'), 1);
  });

  test('callers that joined a fetch in flight get its errMsg as cause too, as the first caller does', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    emulator.inject({ kind: 'reset', path: '/api/test' });
    const errors = await Promise.all([1, 2, 3].map(() => rejection(client.request({ path: '/api/test', retry: false }))));
    assert.equal(emulator.count('/api/test'), 1, 'one fetch, shared');
    for (const err of errors) {
      assert.equal(err.kind, 'network');
      assert.match(err.cause.errMsg, /ERR_CONNECTION_RESET/);
    }
  });

  test('401, 404 and 429 map to unauthorized, http and rate_limited; English on request', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator, { locale: 'en', retry: false }));
    const kinds = [];
    for (const status of [401, 404, 429]) {
      emulator.inject({ kind: 'status', status, path: '/api/test' });
      const err = await rejection(client.request({ path: '/api/test' }));
      kinds.push([err.kind, err.statusCode]);
    }
    assert.deepEqual(kinds, [['unauthorized', 401], ['http', 404], ['rate_limited', 429]]);
    emulator.inject({ kind: 'status', status: 503, path: '/api/test' });
    assert.equal((await rejection(client.request({ path: '/api/test' }))).message, 'Service temporarily unavailable, please try again later');
  });

  test('callContainer limits are enforced before sending: nothing reaches the server', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    const big = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { blob: 'x'.repeat(100 * 1024) } }));
    assert.equal(big.kind, 'invalid');
    assert.match(big.detail, /-606001/);
    const patch = await rejection(client.request({ path: '/api/test', method: 'PATCH' }));
    assert.match(patch.detail, /102005/);
    assert.equal(sandbox.controls.calls.callContainer, 0);
    assert.equal(emulator.count(), 0);
  });

  test('a response over 1 MB is a non-retryable service error (-606002)', async () => {
    const { mp } = sandboxWithBundle(emulator);
    const client = await mp.createClient(cloudOptions(emulator));
    const err = await rejection(client.request({ path: '/api/large' }));
    assert.deepEqual([err.kind, err.code, err.retryable], ['service', -606002, false]);
  });
});

test('destroy lets a request in flight finish, then later requests reject as invalid', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  emulator.inject({ kind: 'delay', delayMs: 40, path: '/api/test' });
  const inFlight = client.request({ path: '/api/test' });
  client.destroy();
  client.destroy();
  assert.equal((await inFlight).statusCode, 200, 'the request in flight still resolves');
  const err = await rejection(client.request({ path: '/api/test' }));
  assert.equal(err.kind, 'invalid');
  assert.match(err.detail, /`client` was destroyed/);
  assert.equal(emulator.count('/api/test'), 1);
  const other = await mp.createClient(cloudOptions(emulator));
  assert.equal((await other.request({ path: '/api/test' })).statusCode, 200, 'the module still serves new clients');
});

test("a POST's JSON body is sent by every attempt exactly as the caller's data, retries included (the shim keeps the text it made)", async () => {
  const { c, done } = await localClient(emulator);
  emulator.inject({ kind: 'status', status: 503, path: '/api/order/create' });
  const data = { item: '咖啡 ☕', n: 2, note: 'a "quoted" \\ line' };
  const res = await c.request({ path: '/api/order/create', method: 'POST', data, idempotent: 'auto' });
  assert.equal(res.statusCode, 200);
  const sent = emulator.requests().filter((r) => r.path === '/api/order/create');
  assert.equal(sent.length, 2, 'the 503, then the retry');
  for (const r of sent) assert.deepEqual(JSON.parse(r.body), data);
  assert.equal(sent[0].body, sent[1].body);
  assert.equal(sent[0].headers['idempotency-key'], sent[1].headers['idempotency-key']);
  // A form body is the engine's own text, not the JSON kept.
  await c.request({ path: '/api/order/create', method: 'POST', data: { a: '1 2' }, header: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(emulator.requests().at(-1).body, 'a=1%202');
  done();
});
