// The web admin in a real headless Chromium (Debian's, driven by
// playwright-core): the web build of the same wasm renders orders over fetch
// against the emulator, and the dashboard counts the retries and error kinds
// that injected faults cause, in agreement with what reached the server; the fleet view shows what
// sandboxed mini-program clients reported, exactly as a direct merge of their reports.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAdmin } from '../../examples/web-admin/serve.mjs';
import { launchChromium } from './browser.mjs';
import { createRequire } from 'node:module';
import { cloudOptions, createSandbox, exampleRoot, repo, sandboxWithBundle, waitFor } from './support.mjs';

const { summarise } = createRequire(import.meta.url)(join(repo, 'dist/node/mp_request_fleet.js'));

let admin;
let browser;
let page;
const pageErrors = [];

before(async () => {
  admin = await startAdmin();
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(admin.url);
  await page.waitForSelector('#status[data-status="ready"]', { timeout: 15_000 });
});

after(async () => {
  await browser?.close();
  await admin?.close();
});

const tile = async (name) => page.textContent(`[data-stat="${name}"]`);
const stats = () => page.evaluate(() => window.admin.client.stats());
const orderIds = () => page.$$eval('#orders tbody tr', (rows) => rows.map((r) => r.getAttribute('data-order')));
const served = () => admin.emulator.count('/api/order/list');
/** Waits until the dashboard shows `requests` settled requests. */
const settled = (requests) => page.waitForSelector(`[data-stat="requests"]:text-is("${requests}")`, { timeout: 15_000 });

test('orders render from the seed order API, with paging, over fetch', async () => {
  assert.deepEqual(await orderIds(), ['1-0001', '1-0002', '1-0003', '1-0004', '1-0005']);
  assert.match(await page.textContent('#page-info'), /第 1 页 · 共 12 条/);
  await page.click('#next');
  await page.waitForSelector('tr[data-order="1-0006"]');
  await page.click('#prev');
  await page.waitForSelector('tr[data-order="1-0001"]');
  assert.match(await page.textContent('#page-info'), /缓存/, 'page 1 again comes from the cache');
  await settled(3);
  assert.equal(served(), 2, 'two pages fetched; the third view was a cache hit');
  assert.equal(await tile('hitRatio'), '33%');
  assert.equal(await page.getAttribute('#hits-chart [data-hit-ratio]', 'data-hit-ratio'), String(1 / 3));
});

test('two injected 503s: the dashboard counts 2 retries and the server saw 3 calls', async () => {
  const before = served();
  await page.click('[data-fault*="503"]');
  await page.click('#reload');
  await settled(4);
  assert.equal(served() - before, 3);
  assert.equal(await tile('retries'), '2');
  assert.equal(await tile('failed'), '0');
  assert.equal(await page.isHidden('#orders-error'), true);
});

test('three hangs: a timeout after 3 attempts, shown in the error kinds chart', async () => {
  const before = served();
  await page.click('[data-fault*="hang"]');
  await page.click('#reload');
  await page.waitForSelector('#orders-error[data-kind="timeout"]', { timeout: 15_000 });
  assert.match(await page.textContent('#orders-error'), /请求超时，请检查网络 \(timeout, 3 次尝试\)/);
  await settled(5);
  assert.equal(served() - before, 3);
  assert.equal(await tile('retries'), '4');
  assert.equal(await page.getAttribute('#errors-chart [data-kind="timeout"]', 'data-count'), '1');
});

test('three 500s: kind service; the dashboard agrees with client.stats() and with the server', async () => {
  await page.click('[data-fault*="500"]');
  await page.click('#reload');
  await page.waitForSelector('#orders-error[data-kind="service"]', { timeout: 15_000 });
  await settled(6);
  assert.equal(await page.getAttribute('#errors-chart [data-kind="service"]', 'data-count'), '1');
  const s = await stats();
  assert.deepEqual(s.total.errors, { timeout: 1, service: 1 });
  assert.equal(s.total.retries, 6);
  assert.equal(await tile('retries'), String(s.total.retries));
  // Every attempt reached the server: the first of each request that missed the cache, plus retries.
  assert.equal(served(), s.total.requests - s.total.cacheHits + s.total.retries);
  assert.equal(s.rows.length, 1);
  assert.deepEqual([s.rows[0].route, s.rows[0].pattern], ['http', '/api/order/list']);
  const binned = await page.$$eval('#latency-chart [data-count]', (bins) => bins.reduce((n, b) => n + Number(b.getAttribute('data-count')), 0));
  assert.equal(binned, s.total.latency.count, 'the histogram shows every network request');

  mkdirSync(join(repo, 'test-output'), { recursive: true });
  await page.screenshot({ path: join(repo, 'test-output/web-admin.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});

test("a browser's WebSocket cannot send headers: a socket with a header is refused clearly; without one it opens", async () => {
  const outcome = await page.evaluate(async () => {
    const { client } = window.admin;
    let refused;
    try {
      client.socket({ path: '/', header: { 'X-Token': 't' } });
    } catch (e) {
      refused = { kind: e.kind, detail: e.detail };
    }
    const socket = client.socket({ path: '/' });
    const got = await new Promise((resolve) => {
      socket.on('message', ({ data }) => resolve(data));
      socket.send('from the browser');
      setTimeout(() => resolve(`timed out (${socket.state})`), 5000);
    });
    socket.close();
    return { refused, got };
  });
  assert.equal(outcome.refused?.kind, 'invalid');
  assert.match(outcome.refused.detail, /browser's WebSocket/);
  assert.equal(outcome.got, 'from the browser');
  assert.deepEqual(pageErrors, []);
});

test('the fleet view: several mini-programs report, and the admin shows exactly the merge of what they sent', async () => {
  const { emulator } = admin;
  const clients = [];
  try {
    // Two "iOS" phones whose calls are slow (injected latency), two "Android" ones that are not.
    for (const [profile, SDKVersion] of [['ios', '3.4.1'], ['ios', '3.3.0'], ['android', '3.4.1'], ['android', '2.32.0']]) {
      const { mp, sandbox } = sandboxWithBundle(emulator, { profile, SDKVersion });
      const client = await mp.createClient(cloudOptions(emulator, { report: { path: '/api/fleet/report', everyMs: 3_600_000 } }));
      clients.push({ profile, client, sandbox });
    }
    for (const { profile, client } of clients) {
      if (profile === 'ios') emulator.inject({ kind: 'delay', delayMs: 120, count: 3, path: '/api/service/list' });
      for (let i = 0; i < 3; i++) await client.request({ path: '/api/service/list', cache: false });
      await client.request({ path: '/api/service/nope' }).catch(() => {});
      emulator.clearFaults();
    }
    for (const { sandbox } of clients) sandbox.controls.appHide();
    await waitFor('four reports', () => emulator.fleet.accepted().length === 4, 10_000);

    await page.click('#fleet-refresh');
    await page.waitForSelector('#fleet-paths tr[data-path="cloud /api/service/list"]', { timeout: 15_000 });
    const shown = await page.$$eval('#fleet-paths tbody tr', (rows) =>
      rows.map((row) => ({
        path: row.getAttribute('data-path'),
        figures: Object.fromEntries([...row.querySelectorAll('[data-fig]')].map((c) => [c.getAttribute('data-fig'), Number(c.getAttribute('data-value'))])),
        byPlatform: [...row.querySelectorAll('[data-platform]')].map((s) => [s.getAttribute('data-platform'), Number(s.getAttribute('data-requests')), Number(s.getAttribute('data-p95ms'))]),
        bySdk: [...row.querySelectorAll('[data-sdk]')].map((s) => [s.getAttribute('data-sdk'), Number(s.getAttribute('data-requests'))]),
      })),
    );
    const direct = JSON.parse(summarise(emulator.fleet.accepted(), 60_000));
    assert.deepEqual(
      shown,
      direct.paths.map((p) => ({
        path: `${p.route} ${p.pattern}`,
        figures: { requests: p.requests, errorRate: p.errorRate, p50Ms: p.p50Ms, p95Ms: p.p95Ms, p99Ms: p.p99Ms },
        byPlatform: p.byPlatform.map((s) => [s.name, s.requests, s.p95Ms]),
        bySdk: p.bySdk.map((s) => [s.name, s.requests]),
      })),
    );
    // The slowest path first, and iOS is where it is slow.
    const list = shown.find((r) => r.path === 'cloud /api/service/list');
    assert.equal(shown[0], list);
    const p95 = Object.fromEntries(list.byPlatform.map(([name, , ms]) => [name, ms]));
    assert.ok(p95.iOS >= 120 && p95.Android < 120, JSON.stringify(p95));
    const nope = shown.find((r) => r.path === 'cloud /api/service/nope');
    assert.deepEqual([nope.figures.requests, nope.figures.errorRate], [4, 1]);
    assert.equal(await page.textContent('[data-fleet="devices"]'), '4');
    assert.equal(await page.textContent('[data-fleet="requests"]'), '16');
    assert.equal(await page.$$eval('#fleet-series [data-window]', (w) => w.reduce((n, g) => n + Number(g.getAttribute('data-requests')), 0)), 16);
    await page.screenshot({ path: join(repo, 'test-output/web-admin-fleet.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  } finally {
    for (const { client, sandbox } of clients) {
      client.destroy();
      sandbox.dispose();
    }
  }
});

test("an order the admin creates for a user reaches that user's open order page in the mini-program, without polling", async () => {
  const emulator = admin.emulator;
  // The example mini-program, its order page open (it watches user 1's list and holds the socket).
  const sandbox = createSandbox({ root: exampleRoot(), emulator, profile: 'android', envVersion: 'develop' });
  const app = sandbox.launch();
  await app.ready;
  try {
    const orders = sandbox.openPage('pages/orders/orders');
    await waitFor('the list and the socket', () => orders.data.orders.length > 0 && app.globalData.socketConnected);
    await new Promise((r) => setTimeout(r, 300));
    const gets = () => emulator.requests().filter((r) => r.path === '/api/order/list' && r.headers['x-wx-openid']).length;
    const before = gets();
    // In Chromium: user 1, a title, create.
    await page.fill('#user-id', '1');
    await page.click('#orders-form button[type="submit"]');
    await page.fill('#create-title', '后台为用户 1 建的单');
    await page.click('#create-form button[type="submit"]');
    await page.waitForSelector('#create-result[data-order^="new-"]');
    await page.waitForSelector('#orders tbody tr:first-child td:nth-child(2):text-is("后台为用户 1 建的单")');
    // The mini-program's page shows it: the backend's push made it ask once.
    await waitFor('the page updated', () => orders.data.orders[0].title === '后台为用户 1 建的单', 2000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gets() - before, 1, "one GET by the mini-program, after the admin's order; no polling");
    assert.equal(app.globalData.client.cacheStats().pushedInvalidations, 1);
    orders.onUnload();
    assert.deepEqual(pageErrors, []);
  } finally {
    app.globalData.client.destroy();
    sandbox.dispose();
  }
});
