// Fleet reports (issue 20) through the built bundle in the sandbox, against the emulator's fleet
// endpoints (emulator/services/fleet.mjs, which check and merge reports with the Node build's
// mp_request_fleet.js): sent on schedule and on hide with the device's context, none in mock mode,
// at most one retry, a lost report merged into the next, never in the app's own statistics; the
// emulator refuses malformed and oversized reports, and its fleet view equals a direct merge.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, repo, sandboxWithBundle, startEmulator, waitFor } from './support.mjs';

const require = createRequire(import.meta.url);
const { summarise, checkReport, Fleet } = require(join(repo, 'dist/node/mp_request_fleet.js'));

const REPORT = '/api/fleet/report';
const HOURLY = { path: REPORT, everyMs: 3_600_000 };

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/** The reports the emulator accepted, read back. */
const accepted = () => emulator.fleet.accepted().map((text) => JSON.parse(text));
const requestsIn = (report) => report.rows.reduce((n, row) => n + row.requests, 0);

test('a report goes every everyMs with the statistics gained and the device context', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator, { profile: 'ios', SDKVersion: '3.4.1', appVersion: '1.2.0', envVersion: 'release' });
  const client = await mp.createClient(cloudOptions(emulator, { report: { path: REPORT, everyMs: 1000 } }));
  t.after(() => (client.destroy(), sandbox.dispose()));
  await client.request({ path: '/api/home/init' });
  await client.request({ path: '/api/home/init' });
  await waitFor('a report', () => accepted().length >= 1, 4000);
  const [report] = accepted();
  assert.equal(report.v, 1);
  assert.deepEqual({ ...report.ctx, lib: undefined }, { platform: 'iOS', sdk: '3.4.1', app: '1.2.0', env: 'release', build: 'miniprogram', lib: undefined });
  assert.match(report.device, /^[0-9a-f]{16}$/);
  assert.deepEqual(
    report.rows.map((r) => [r.route, r.pattern, r.requests]),
    [['cloud', '/api/home/init', 2]],
  );
  // The device's id is kept: the next launch reports as the same device.
  assert.equal(JSON.parse(sandbox.controls.storage.get('mp-request:device')), report.device);
  // The report is none of the app's statistics.
  assert.ok(client.stats().rows.every((r) => r.pattern !== REPORT));
  assert.equal(client.stats().total.requests, 2);
});

test('a report goes when the app hides, and one that fails is retried once, then merged into the next', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { report: HOURLY, retry: { baseMs: 10, capMs: 20 } }));
  t.after(() => (client.destroy(), sandbox.dispose()));
  await client.request({ path: '/api/home/init' });
  emulator.inject({ kind: 'status', status: 503, count: 5, path: REPORT });
  sandbox.controls.appHide();
  await waitFor('two attempts at the report', () => emulator.count(REPORT) >= 2);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(emulator.count(REPORT), 2, 'one retry, no loop');
  assert.equal(accepted().length, 0);
  sandbox.controls.appShow();
  emulator.clearFaults();
  await client.request({ path: '/api/service/list' });
  sandbox.controls.appHide();
  await waitFor('the next report', () => accepted().length === 1);
  const [report] = accepted();
  assert.equal(requestsIn(report), 2, 'the lost report\'s request and the new one');
  assert.equal(report.seq, 2);
});

test('no report in mock mode, and none from a device outside the sample', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const mock = await mp.createClient({
    mode: 'mock',
    mock: { routes: [{ path: '/api/home/init', response: { statusCode: 200, data: { ok: 1 } } }] },
    report: HOURLY,
  });
  await mock.request({ path: '/api/home/init' });
  const sampledOut = await mp.createClient(cloudOptions(emulator, { report: { ...HOURLY, sample: 0 } }));
  await sampledOut.request({ path: '/api/home/init' });
  sandbox.controls.appHide();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(emulator.count(REPORT), 0);
  mock.destroy();
  sampledOut.destroy();
});

test('the emulator refuses malformed and oversized reports with 400 and stores none', async () => {
  const post = (body) => fetch(`${emulator.url}${REPORT}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  for (const body of ['not json', '{"v":2}', JSON.stringify({ v: 1, seq: 1, device: 'x', ctx: {}, rows: [] }), `{"v":1,"pad":"${'x'.repeat(9000)}"}`]) {
    const res = await post(body);
    assert.equal(res.status, 400, body.slice(0, 40));
    assert.match((await res.json()).message, /^report refused: /);
  }
  assert.equal(emulator.fleet.accepted().length, 0);
  assert.equal(emulator.fleet.refused().length, 4);
  assert.match(checkReport('{"v":1}'), /seq/);
  assert.throws(() => new Fleet(10, 1), /windowMs/);
});

test("the fleet view is the exact merge of what several clients sent, split by platform and base library", async (t) => {
  const clients = [];
  t.after(() => clients.forEach(({ client, sandbox }) => (client.destroy(), sandbox.dispose())));
  for (const [profile, SDKVersion] of [['ios', '3.4.1'], ['ios', '2.32.0'], ['android', '3.4.1']]) {
    const { mp, sandbox } = sandboxWithBundle(emulator, { profile, SDKVersion });
    const client = await mp.createClient(cloudOptions(emulator, { report: HOURLY }));
    clients.push({ client, sandbox });
  }
  for (const [i, { client }] of clients.entries()) {
    for (let n = 0; n <= i; n++) await client.request({ path: '/api/service/svc-clean', cache: false });
    // The service has no such id: 404, an `http` error, not retried.
    await client.request({ path: '/api/service/nope' }).catch(() => {});
  }
  for (const { sandbox } of clients) sandbox.controls.appHide();
  await waitFor('three reports', () => accepted().length === 3);
  const res = await fetch(`${emulator.url}/api/fleet/view`);
  const view = (await res.json()).data;
  const direct = JSON.parse(summarise(emulator.fleet.accepted(), view.windowMs));
  assert.deepEqual(view.paths, direct.paths);
  assert.equal(view.total.devices, 3);
  const service = view.paths.find((p) => p.pattern === '/api/service/svc-clean');
  assert.equal(service.requests, 6);
  assert.deepEqual(service.byPlatform.map((s) => [s.name, s.requests]), [['Android', 3], ['iOS', 3]]);
  assert.deepEqual(service.bySdk.map((s) => [s.name, s.requests]), [['3.4', 4], ['2.32', 2]]);
  const nope = view.paths.find((p) => p.pattern === '/api/service/nope');
  assert.deepEqual([nope.requests, nope.failed, nope.errorRate, nope.errors], [3, 3, 1, { http: 3 }]);
});

test("failures go to WeChat's realtime log with kind, pattern, route, callID and attempts, and nothing private", async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, { retry: { baseMs: 10, capMs: 20 } }));
  emulator.inject({ kind: 'status', status: 503, count: 9, path: '/api/service/98765432' });
  await client
    .request({ path: '/api/service/98765432', data: { secret: 'query-value' }, header: { Authorization: 'Bearer private-token' } })
    .catch(() => {});
  const controller = mp.createAbortController();
  const cancelled = client.request({ path: '/api/home/init', signal: controller.signal });
  controller.abort();
  await cancelled.catch(() => {});
  const lines = sandbox.controls.realtimeLogs;
  assert.equal(lines.length, 1, JSON.stringify(lines));
  const [{ level, args }] = lines;
  assert.equal(level, 'warn');
  assert.equal(args[0], '[mp-request] request failed');
  const { callID, ...rest } = args[1];
  assert.deepEqual(rest, { kind: 'service', pattern: '/api/service/:id', route: 'cloud', attempts: 4 });
  assert.equal(typeof callID, 'string');
  const text = JSON.stringify(lines);
  for (const secret of ['query-value', 'private-token', '98765432', 'secret']) assert.ok(!text.includes(secret), secret);
  client.destroy();

  // Opted out: nothing.
  const quiet = await mp.createClient(cloudOptions(emulator, { realtimeLog: false }));
  await quiet.request({ path: '/api/service/nope' }).catch(() => {});
  assert.equal(sandbox.controls.realtimeLogs.length, 1);
  quiet.destroy();
});

for (const source of ['docs/fleet.md', 'docs/CLOUD_CONTAINER_USAGE.md']) {
  test(`the Node endpoint of ${source} runs: it takes a report, refuses a bad one and serves the view`, async (t) => {
    const { readFileSync } = await import('node:fs');
    const vm = await import('node:vm');
    const doc = readFileSync(join(repo, source), 'utf8');
    const code = /```js node\n([\s\S]*?)\n```/.exec(doc)[1];
    assert.match(code, /server\.listen\(8080\);$/);
    const module = { exports: {} };
    const requireFleet = (name) => (name === 'mp-request/fleet' ? require(join(repo, 'dist/node/mp_request_fleet.js')) : require(name));
    // On a free port, and the server handed back for the test.
    vm.runInThisContext(`(function (require, module) {\n${code.replace('server.listen(8080);', 'server.listen(0); module.exports = server;')}\n})`)(requireFleet, module);
    const server = module.exports;
    t.after(() => server.close());
    await new Promise((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
    const url = `http://127.0.0.1:${server.address().port}`;
    const report = JSON.stringify({
      v: 1,
      seq: 1,
      device: '0123456789abcdef',
      ctx: { platform: 'Android', sdk: '3.4.1', app: '', env: 'release', build: 'miniprogram', lib: '0.1.0' },
      rows: [{ route: 'cloud', pattern: '/api/home/init', requests: 2, retries: 0, cacheHits: 0, errors: {}, latency: { sumMs: 30, maxMs: 20, buckets: [[22, 1], [33, 1]] } }],
    });
    assert.equal((await fetch(`${url}/api/fleet/report`, { method: 'POST', body: report })).status, 200);
    const refused = await fetch(`${url}/api/fleet/report`, { method: 'POST', body: '{"v":1}' });
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).message, /seq/);
    // A body beyond 8 KB is not kept.
    const huge = await fetch(`${url}/api/fleet/report`, { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(huge.status, 413);
    const view = await (await fetch(`${url}/api/fleet/view`)).json();
    assert.deepEqual([view.total.reports, view.total.requests, view.paths[0].pattern], [1, 2, '/api/home/init']);
  });
}
