// The example mini-program (examples/miniprogram), launched in the sandbox as
// the framework would: the seed's app.call, the API wrappers, the socket's
// compatibility fields, the cloud-test page, and mock data in the devtools.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { createSandbox, exampleRoot, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

async function launch(options = {}) {
  const sandbox = createSandbox({ root: exampleRoot(), emulator, profile: 'android', envVersion: 'develop', ...options });
  const app = sandbox.launch();
  await app.ready;
  return { sandbox, app };
}

const until = async (check, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test("the seed's app.call({ path, method }) returns the backend's body", async () => {
  const { app, sandbox } = await launch();
  const result = await app.call({ path: '/api/test', method: 'GET' });
  assert.equal(result.code, 0);
  assert.equal(result.data.identity['x-wx-openid'], 'o-user-1');
  assert.equal(sandbox.controls.calls.callContainer, 1);
  app.globalData.client.destroy();
  sandbox.dispose();
});

test('the API wrappers and checkNetworkStatus', async () => {
  const { app, sandbox } = await launch();
  const { api, checkNetworkStatus } = sandbox.require('./utils/cloud-container.js');
  assert.ok((await api.homeInit()).data.banners.length > 0);
  const orders = await api.orderList({ userId: 1, page: 2, pageSize: 5 });
  assert.deepEqual([orders.data.page, orders.data.list.length], [2, 5]);
  assert.equal((await api.serviceDetail('svc-clean')).data.name, '家政保洁');
  assert.equal((await api.orderCreate({ title: '新订单' })).data.status, 'pending');
  assert.deepEqual({ ...(await checkNetworkStatus()) }, { isConnected: true, networkType: 'wifi' });
  sandbox.controls.setNetworkType('none');
  assert.deepEqual({ ...(await checkNetworkStatus()) }, { isConnected: false, networkType: 'none' });
  app.globalData.client.destroy();
  sandbox.dispose();
});

test('utils/request shows the error to the user, unless toast: false', async () => {
  const { app, sandbox } = await launch();
  const { request } = sandbox.require('./utils/request.js');
  const err = await request({ path: '/api/not-found' }).catch((e) => e);
  assert.equal(err.kind, 'http');
  assert.deepEqual(sandbox.controls.ui.at(-1), { api: 'showToast', title: '请求失败，请稍后重试', icon: 'none' });
  const count = sandbox.controls.ui.length;
  await request({ path: '/api/not-found', toast: false }).catch(() => {});
  assert.equal(sandbox.controls.ui.length, count);
  app.globalData.client.destroy();
  sandbox.dispose();
});

test('no socket at launch: it opens with the page that needs it and closes when that page unloads', async () => {
  const { app, sandbox } = await launch();
  await app.call({ path: '/api/test' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sandbox.controls.calls.connectContainer, 0, 'a launch keeps no Cloud Run instance busy');
  assert.equal(app.globalData.socket, null);
  const page = sandbox.openPage('pages/test/cloud-test');
  await until(() => app.globalData.socketConnected);
  assert.equal(sandbox.controls.calls.connectContainer, 1);
  assert.equal(emulator.stats().ws.open, 1);
  page.onUnload();
  assert.equal(app.globalData.socketConnected, false);
  assert.equal(app.globalData.socketTask, null);
  assert.equal(app.globalData.socket, null);
  await until(() => emulator.stats().ws.open === 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(emulator.stats().ws.connections, 1, 'closed for good: no reconnect');
  // Two pages share one connection; it closes with the last of them.
  const first = sandbox.openPage('pages/test/cloud-test');
  const second = sandbox.openPage('pages/test/cloud-test');
  await until(() => app.globalData.socketConnected);
  first.onUnload();
  assert.equal(app.globalData.socketConnected, true, 'the second page still uses it');
  second.onUnload();
  await until(() => emulator.stats().ws.open === 0);
  assert.equal(emulator.stats().ws.connections, 2);
  app.globalData.client.destroy();
  sandbox.dispose();

  // A page closed before the client is ready opens nothing.
  const early = createSandbox({ root: exampleRoot(), emulator, profile: 'android', envVersion: 'develop' });
  const earlyApp = early.launch();
  early.openPage('pages/test/cloud-test').onUnload();
  await earlyApp.ready;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(early.controls.calls.connectContainer, 0);
  assert.equal(earlyApp.globalData.socket, null);
  earlyApp.globalData.client.destroy();
  early.dispose();
});

test("the socket keeps the seed's globalData.socketTask and socketConnected", async () => {
  const { app, sandbox } = await launch();
  const page = sandbox.openPage('pages/test/cloud-test');
  await until(() => app.globalData.socketConnected);
  const task = app.globalData.socketTask;
  assert.equal(typeof task.send, 'function');
  const echoed = new Promise((resolve) => app.globalData.socket.on('message', (e) => resolve(e.data)));
  // The seed's own way of sending.
  app.globalData.socketTask.send({ data: JSON.stringify({ type: 'message', content: 'Hello WebSocket' }) });
  assert.equal(JSON.parse(await echoed).content, 'Hello WebSocket');
  emulator.ws.drop();
  await until(() => !app.globalData.socketConnected);
  await until(() => app.globalData.socketConnected && app.globalData.socketTask !== task, 5000);
  page.onUnload();
  assert.equal(app.globalData.socketTask, null);
  assert.equal(app.globalData.socketConnected, false);
  app.globalData.client.destroy();
  sandbox.dispose();
});

test('the cloud-test page runs the seed\'s seven checks, showing each result as it comes, with a loading indicator', async () => {
  const { app, sandbox } = await launch();
  const page = sandbox.openPage('pages/test/cloud-test');
  const seen = [];
  const setData = page.setData;
  page.setData = (patch, cb) => {
    if (patch.results) seen.push(patch.results.length);
    setData(patch, cb);
  };
  const results = await page.runAll();
  assert.deepEqual(Array.from(results, (r) => r.name), ['基本连接', '首页API', '订单API', '服务API', 'WebSocket', '错误处理', '云托管状态']);
  assert.ok(results.every((r) => r.ok), JSON.stringify(results.filter((r) => !r.ok)));
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7], 'live: one update per check');
  assert.equal(page.data.summary, '7 passed, 0 failed');
  assert.deepEqual(sandbox.controls.ui.map((u) => u.api).filter((a) => a.endsWith('Loading')), ['showLoading', 'hideLoading']);
  app.globalData.client.destroy();
  sandbox.dispose();
});

test('in the devtools the same page runs on the mock fixtures, and nothing reaches the server', async () => {
  const { app, sandbox } = await launch({ profile: 'devtools' });
  const page = sandbox.openPage('pages/test/cloud-test');
  const results = await page.runAll();
  assert.ok(results.every((r) => r.ok), JSON.stringify(results.filter((r) => !r.ok)));
  const byName = Object.fromEntries(Array.from(results, (r) => [r.name, r]));
  assert.equal(byName['基本连接'].note, 'openid o-mock-user');
  assert.equal(byName['订单API'].route, 'mock');
  assert.equal(byName['订单API'].note, '10 of 12 orders');
  assert.equal(byName.WebSocket.route, 'mock');
  assert.equal(byName['云托管状态'].route, 'mock', 'the status row shows the route actually used');
  assert.match(byName['云托管状态'].note, /^devtools with mock routes; /);
  assert.equal(emulator.count(), 0, 'mock data only');
  assert.equal(emulator.stats().ws.connections, 0, 'the mock socket too');
  app.globalData.client.destroy();
  sandbox.dispose();
});

test('the WebSocket check waits for its own echo only, and gives up after its timeout', async () => {
  const { app, sandbox } = await launch();
  const page = sandbox.openPage('pages/test/cloud-test');
  await until(() => app.globalData.socketConnected);
  // The service answers nothing of ours; it pushes other things: not JSON, other JSON, an echo of someone else.
  emulator.ws.silence();
  page.wsTimeoutMs = 300;
  const started = Date.now();
  const failed = page.testWebSocket().then(() => null, (e) => e);
  for (const text of ['not json', JSON.stringify({ type: 'news', content: 'Hello WebSocket' }), JSON.stringify({ type: 'message', content: 'Hello WebSocket', check: 'other' })]) {
    emulator.ws.broadcast(text);
  }
  const error = await failed;
  assert.match(String(error && error.message), /no echo within 300 ms/);
  assert.ok(Date.now() - started < 2000);

  // With the echo back, unrelated pushes before it change nothing.
  emulator.ws.silence(false);
  page.wsTimeoutMs = 5000;
  emulator.ws.broadcast(JSON.stringify({ type: 'news' }));
  const ok = await page.testWebSocket();
  assert.equal(ok.route, 'cloud');
  app.globalData.client.destroy();
  sandbox.dispose();
});

test('the order page watches the list: an order created elsewhere for the user appears without polling, one GET each', async () => {
  const { app, sandbox } = await launch();
  const page = sandbox.openPage('pages/orders/orders');
  await until(() => page.data.orders.length > 0 && app.globalData.socketConnected);
  // The socket's open asks the watched list again once (a 304): settled before counting.
  await until(() => emulator.stats().notModified >= 1 || emulator.count('/api/order/list') === 1);
  await new Promise((r) => setTimeout(r, 200));
  const before = emulator.count('/api/order/list');
  assert.equal(page.data.orders[0].userId, 1);
  // Another device (plain HTTP, as the web admin) creates an order for user 1: the backend pushes.
  const res = await fetch(`${emulator.url}/api/order/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 1, title: '别处创建的订单' }),
  });
  assert.equal(res.status, 200);
  await until(() => page.data.orders[0].title === '别处创建的订单', 1000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(emulator.count('/api/order/list') - before, 1, 'one GET, after the push; no polling');
  assert.equal(app.globalData.client.cacheStats().pushedInvalidations, 1);

  // The page's own button: the mutation's invalidation refreshes the list too.
  await page.createOrder();
  await until(() => /^小程序订单/.test(page.data.orders[0].title));
  page.onUnload();
  assert.equal(app.globalData.socketConnected, false, 'the socket closes with the page');
  app.globalData.client.destroy();
  sandbox.dispose();
});
