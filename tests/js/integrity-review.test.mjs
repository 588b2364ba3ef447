// Where the features meet, second round: what a hostile review of issue 16's
// first fixes found, each through the built bundle in the sandbox against the
// emulator, counting what reached the server.
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
/** The Chinese guide's header function: the token from wx storage. */
const GUIDE_HEADER = "(() => { const token = wx.getStorageSync('token'); return token ? { Authorization: `Bearer ${token}` } : {}; })";

/** An app launch over `storage`; `headerSrc` is a header function's source, made in the sandbox's realm. */
async function launch({ storage = new Map(), offline = false, root = packageRoot(), extra = {}, headerSrc } = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage, root });
  if (offline) sandbox.controls.setNetworkType('none');
  const synced = [];
  const header = headerSrc ? { header: sandbox.evaluate(headerSrc) } : {};
  const client = await mp.createClient(cloudOptions(emulator, { onSync: (event) => synced.push(event), ...header, ...extra }));
  await sleep(5);
  return { mp, client, sandbox, synced, storage, wx: sandbox.evaluate('wx') };
}

describe('the offline queue and its owners', () => {
  test('a second client of the app has no queue: its write is not told 已保存, and the first one keeps its own', async () => {
    const storage = new Map();
    const { mp, sandbox } = sandboxWithBundle(emulator, { storage, root: packageRoot() });
    sandbox.controls.setNetworkType('none');
    const appClient = await mp.createClient(cloudOptions(emulator));
    const pageClient = await mp.createClient(cloudOptions(emulator));
    await sleep(5);
    const y = await rejection(pageClient.request({ path: '/api/order/create', method: 'POST', data: { title: 'Y (page)' }, offline: 'queue' }));
    const z = await rejection(appClient.request({ path: '/api/order/create', method: 'POST', data: { title: 'Z (app)' }, offline: 'queue' }));
    assert.notEqual(y.queued, true);
    assert.match(y.detail, /another client of this app holds the offline queue/);
    assert.equal(z.queued, true);
    assert.deepEqual(JSON.parse(storage.get(QUEUE_KEY)).items.map((i) => JSON.parse(i.dataJson).title), ['Z (app)']);
    // Back online, the write goes once, from its own client.
    sandbox.controls.setNetworkType('wifi');
    assert.ok(await until(() => emulator.handled('/api/order/create') === 1));
    await sleep(100);
    assert.equal(emulator.count('/api/order/create'), 1);
    appClient.destroy();
    pageClient.destroy();
  });

  test('destroy() while a replay is in flight: the synced write leaves storage, nothing escapes, the next launch sends nothing', async () => {
    const escaped = [];
    const onRejection = (e) => escaped.push(String((e && e.message) || e));
    process.on('unhandledRejection', onRejection);
    try {
      const storage = new Map();
      const root = packageRoot();
      const first = await launch({ storage, root, offline: true });
      await rejection(first.client.request({ path: '/api/order/create', method: 'POST', data: { title: 'A' }, offline: 'queue' }));
      first.client.destroy();
      emulator.inject({ kind: 'delay', path: '/api/order/create', delayMs: 200 });
      const second = await launch({ storage, root });
      await sleep(20);
      second.client.destroy();
      assert.ok(await until(() => second.synced.length === 1));
      await sleep(50);
      assert.equal(second.synced[0].ok, true);
      assert.equal(JSON.parse(storage.get(QUEUE_KEY)).items.length, 0);
      const third = await launch({ storage, root });
      await sleep(200);
      assert.deepEqual([escaped, emulator.count('/api/order/create'), third.synced.length], [[], 1, 0]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  test('dropPending while its replay is in flight: the write finishes and is reported as it ended, never "cancelled" for a write the server ran', async () => {
    const { client, sandbox, synced } = await launch({ offline: true });
    client.setUser('A');
    await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 'A-order' }, offline: 'queue' }));
    emulator.inject({ kind: 'delay', path: '/api/order/create', delayMs: 150 });
    sandbox.controls.setNetworkType('wifi');
    await sleep(40);
    client.dropPending();
    client.setUser(null);
    assert.ok(await until(() => synced.length === 1));
    assert.equal(emulator.handled('/api/order/create'), 1);
    assert.equal(synced[0].ok, true, 'the server took it: reported synced');
    assert.deepEqual(plain(client.pending()), []);
  });

  test('a storage write that throws something String() cannot convert: a RequestError, not queued, nothing left behind', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator, {});
    sandbox.controls.setNetworkType('none');
    const client = await mp.createClient(cloudOptions(emulator));
    await sleep(5);
    sandbox.evaluate('wx.setStorageSync = () => { throw Object.create(null); }');
    const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { t: 1 }, offline: 'queue' }));
    assert.deepEqual([err.name, err.kind, err.queued === true, client.pending().length], ['RequestError', 'offline', false, 0]);
  });

  test('a token-like header (X-Token) is refused with offline: queue and never reaches storage', async () => {
    const { client, storage } = await launch({ offline: true });
    const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { t: 1 }, header: { 'X-Token': 'secret-abc' }, offline: 'queue' }));
    assert.equal(err.kind, 'invalid');
    assert.ok(!(storage.get(QUEUE_KEY) || '').includes('secret-abc'));
  });
});

describe('replays, users and tokens', () => {
  test('a replay at sign-in asks for the token after the app stored it; a 401 keeps the write for the next token', async () => {
    const { client, sandbox, synced, wx } = await launch({ offline: true, headerSrc: GUIDE_HEADER });
    wx.setStorageSync('token', 'bob-old');
    client.setUser('bob');
    await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 'b' }, offline: 'queue' }));
    client.setUser(null);
    sandbox.controls.setNetworkType('wifi');
    // Bob signs in again: the app calls setUser, then stores his new token.
    emulator.inject({ kind: 'status', status: 401, path: '/api/order/create', count: 1 });
    client.setUser('bob');
    wx.setStorageSync('token', 'bob-new');
    assert.ok(await until(() => synced.length === 1, 5000));
    const auth = emulator.requests().filter((r) => r.path === '/api/order/create').map((r) => r.headers.authorization);
    assert.deepEqual(auth, ['Bearer bob-new', 'Bearer bob-new'], 'the 401 kept it; the next replay went through');
    assert.equal(synced[0].ok, true);
  });

  test("the guide's logout: a guest's queued write replays after logout without the signed-out user's token", async () => {
    const { client, sandbox, synced, wx } = await launch({ offline: true, headerSrc: GUIDE_HEADER });
    await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 'guest' }, offline: 'queue' }));
    wx.setStorageSync('token', 'alice-token');
    client.setUser('alice');
    sandbox.controls.setNetworkType('wifi');
    await client.request({ path: '/api/test', cache: false });
    client.dropPending();
    wx.removeStorageSync('token');
    client.setUser(null);
    assert.ok(await until(() => synced.length === 1));
    const auth = emulator.requests().filter((r) => r.path === '/api/order/create').map((r) => r.headers.authorization);
    assert.deepEqual(auth, [undefined]);
  });

  test('a queued write whose replay got a 503 replays after its wait even when the wall clock steps back', async () => {
    const { client, sandbox, synced } = await launch({ offline: true, extra: { retry: false } });
    sandbox.evaluate('{ const real = Date.now; let skew = 0; Date.now = () => real() - skew; globalThis.__skew = (s) => { skew = s; }; }');
    await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 'A' }, offline: 'queue' }));
    emulator.inject({ kind: 'status', status: 503, path: '/api/order/create', count: 1 });
    sandbox.controls.setNetworkType('wifi');
    assert.ok(await until(() => client.pending()[0]?.attempts === 1, 2000));
    sandbox.evaluate('__skew(5)');
    assert.ok(await until(() => synced.length === 1, 6000), `stalled: pending ${client.pending().length}`);
  });

  test("the first page's read, still waiting for the cloud init, follows the user the app restores at launch", async () => {
    const { client } = await launch();
    const home = client.request({ path: '/api/home/init' });
    client.setUser('user-42');
    const res = await home;
    assert.equal(res.statusCode, 200);
    // A write made before the switch is not sent under the new user.
    const { client: other } = await launch();
    const write = other.request({ path: '/api/order/create', method: 'POST', data: {}, idempotent: 'auto' });
    other.setUser('user-42');
    assert.equal((await rejection(write)).kind, 'cancelled');
  });
});

describe('what an attempt sends', () => {
  for (const [name, header] of [
    ['object', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['function', () => ({ 'content-type': 'application/x-www-form-urlencoded' })],
  ]) {
    test(`a form content type from the client's header (${name}) form-encodes the body`, async () => {
      const { client } = await launch({ extra: { header } });
      const res = await client.request({ path: '/api/test', method: 'POST', data: { a: 1, b: 'x y' }, idempotent: true });
      assert.equal(res.data.data.body, 'a=1&b=x%20y');
    });
  }

  test('an ArrayBuffer from another realm is sent as its bytes', async () => {
    const { client } = await launch();
    const res = await client.request({ path: '/api/test', method: 'POST', data: new Uint8Array([104, 105]).buffer });
    assert.equal(res.data.data.body, 'hi');
  });

  test('number header values are sent as JS writes them', async () => {
    const { client } = await launch({ extra: { header: { 'X-Big': 12345678901234567, 'X-Frac': 1.23456 } } });
    await client.request({ path: '/api/test', cache: false });
    const h = emulator.requests().at(-1).headers;
    assert.deepEqual([h['x-big'], h['x-frac']], [String(12345678901234567), '1.23456']);
  });

  test('a header function whose thenable throws fails at once and says so', async () => {
    const { client } = await launch({ extra: { header: () => ({ then() { throw new Error('boom'); } }) } });
    const t0 = Date.now();
    const err = await rejection(client.request({ path: '/api/test', cache: false }));
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, /threw: boom/);
    assert.ok(Date.now() - t0 < 1000);
  });

  test('a cloud init that never finishes fails the request at its deadline', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator, {});
    sandbox.evaluate('wx.cloud.Cloud = function () { return { init: () => new Promise(() => {}), callContainer: wx.cloud.callContainer }; }');
    const client = await mp.createClient(cloudOptions(emulator, { resourceAppid: 'wx0000000000000001', retry: { deadlineMs: 300 } }));
    const err = await rejection(client.request({ path: '/api/test', cache: false }));
    assert.equal(err.kind, 'timeout');
    assert.match(err.detail, /wx.cloud init did not finish/);
  });
});
