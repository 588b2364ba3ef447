// Hostile review of issue 20 (fleet monitoring): each test showed a defect the review found, and holds since
// its fix (see tests/review_20.rs for F1-F7; F8: the docs' Node endpoint corrupted a report split inside a
// UTF-8 character). Sandbox + emulator, and the Node fleet module (dist/node).
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import vm from 'node:vm';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, repo, sandboxWithBundle, startEmulator, waitFor } from './support.mjs';

const require = createRequire(import.meta.url);
const fleetModule = require(join(repo, 'dist/node/mp_request_fleet.js'));
const { Fleet, checkReport } = fleetModule;

const REPORT = '/api/fleet/report';
const HOURLY = { path: REPORT, everyMs: 3_600_000 };
const CTX = { platform: 'iOS', sdk: '3.4.1', app: '', env: 'release', build: 'miniprogram', lib: '0.1.0' };
const row = (pattern, requests, extra = {}) => ({
  route: 'cloud',
  pattern,
  requests,
  retries: 0,
  cacheHits: 0,
  errors: {},
  latency: { sumMs: 0, maxMs: 0, buckets: [] },
  ...extra,
});
const reportText = (rows) => JSON.stringify({ v: 1, seq: 1, device: '0123456789abcdef', ctx: CTX, rows });

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

test('F3: after a relaunch the same device reports again (its Idempotency-Key is not reused)', async () => {
  const storage = new Map();
  for (const path of ['/api/home/init', '/api/service/list']) {
    // A launch: its own sandbox, the storage of the one before (an app relaunch).
    const { mp, sandbox } = sandboxWithBundle(emulator, { storage });
    const client = await mp.createClient(cloudOptions(emulator, { report: HOURLY }));
    await client.request({ path });
    const before = emulator.count(REPORT);
    sandbox.controls.appHide();
    await waitFor('the report reaches the endpoint', () => emulator.count(REPORT) > before);
    await new Promise((r) => setTimeout(r, 100));
    client.destroy();
    sandbox.dispose();
  }
  const keys = emulator
    .requests()
    .filter((r) => r.path === REPORT)
    .map((r) => r.headers['idempotency-key']);
  assert.equal(
    emulator.fleet.accepted().length,
    2,
    `the second launch's report was refused: Idempotency-Keys ${JSON.stringify(keys)} (the emulator answers 422 for a key reused with another body)`,
  );
});

test("F4: fleet.add(text) without nowMs neither throws nor counts, and its NaN windows evict the real ones", () => {
  const text = reportText([row('/a', 5)]);
  const fleet = new Fleet(60_000, 2);
  fleet.add(text, 1_764_720_000_000);
  fleet.add(text, 1_764_720_060_000);
  let threw = 0;
  for (let i = 0; i < 2; i++) {
    try {
      fleet.add(text); // nowMs forgotten: NaN at the boundary
    } catch {
      threw += 1;
    }
  }
  const view = JSON.parse(fleet.summary());
  assert.ok(
    view.total.requests >= 10,
    `accepted ${2 - threw} report(s) with a NaN clock; the view lost the real windows: ${JSON.stringify(view.series)}`,
  );
});

test('F5: the fleet view never wraps its sums (u64 overflow in the release wasm)', () => {
  // A count beyond 2^32 - 1 is refused: no device's delta is near it.
  const beyond = reportText(Array.from({ length: 40 }, (_, i) => row(`/p${i}`, 9007199254740991)));
  assert.match(checkReport(beyond), /requests/);
  const huge = 4294967295; // the largest count a report may carry
  const text = reportText(Array.from({ length: 40 }, (_, i) => row(`/p${i}`, huge)));
  assert.equal(checkReport(text), undefined, 'a valid report');
  const fleet = new Fleet(60_000, 1);
  for (let i = 0; i < 60; i++) fleet.add(text, 0);
  const view = JSON.parse(fleet.summary());
  // 2400 rows of 2^32 - 1 requests: exact, below 2^53.
  assert.equal(view.total.requests, 2400 * huge);
});

test('F6: a report with duplicate keys is refused (the backend and JSON.parse would read it differently)', () => {
  const text = reportText([row('/a', 5)]).replace('"v":1,', '"v":1,"v":2,');
  assert.equal(JSON.parse(text).v, 2, 'what any JS consumer of the accepted text reads');
  assert.notEqual(checkReport(text), undefined, 'accepted as version 1: "an endpoint refuses versions it does not know"');
});

test("F7: WeChat's realtime log gets no e-mail address or phone number from the path", async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, { retry: false }));
  t.after(() => client.destroy());
  for (const path of ['/api/user/alice@example.com/profile', '/api/sms/+8613800138000']) {
    await client.request({ path }).catch(() => {});
  }
  const text = JSON.stringify(sandbox.controls.realtimeLogs);
  assert.ok(sandbox.controls.realtimeLogs.length >= 2, text);
  for (const secret of ['alice@example.com', '13800138000']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
});

test("F8: the docs' Node endpoint reads a report split inside a UTF-8 character intact", async (t) => {
  const doc = readFileSync(join(repo, 'docs/fleet.md'), 'utf8');
  const code = /```js node\n([\s\S]*?)\n```/.exec(doc)[1];
  const module = { exports: {} };
  const requireFleet = (name) => (name === 'mp-request/fleet' ? fleetModule : require(name));
  vm.runInThisContext(`(function (require, module) {\n${code.replace('server.listen(8080);', 'server.listen(0); module.exports = server;')}\n})`)(requireFleet, module);
  const server = module.exports;
  t.after(() => server.close());
  await new Promise((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
  const port = server.address().port;
  // A pattern a client sends as is (classify keeps non-id segments): /api/城市/list
  const body = Buffer.from(reportText([row('/api/城市/list', 1)]));
  const cut = body.indexOf(Buffer.from('城')) + 1; // inside the character
  const status = await new Promise((resolve, reject) => {
    const req = http.request({ port, method: 'POST', path: '/api/fleet/report', headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.write(body.subarray(0, cut));
    // Two TCP segments, as an 8 KB body through a gateway often is.
    setTimeout(() => req.end(body.subarray(cut)), 50);
  });
  assert.equal(status, 200);
  const view = await (await fetch(`http://127.0.0.1:${port}/api/fleet/view`)).json();
  assert.deepEqual(view.paths.map((p) => p.pattern), ['/api/城市/list']);
});
