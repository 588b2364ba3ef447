// Review of the issue-17 hardening (wip-review): each test is one finding, and
// fails on main as it stands. Run alone: node --test tests/js/review-17.test.mjs
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, rejection, repo, sandboxWithBundle, sandboxWithExports, sleep, startEmulator, until } from './support.mjs';

const require = createRequire(import.meta.url);
const nodeBuild = join(repo, 'dist/node/index.js');

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/**
 * Runs `body` (an async function body with `mp` = the Node build in scope) in
 * a worker: resolves to what it returns as text, or to 'HANG' when it does not
 * answer within `ms` (the worker is then terminated: a hang cannot be
 * interrupted from the same thread).
 */
function inWorker(body, ms = 3000) {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const mp = require(${JSON.stringify(nodeBuild)});
    (async () => { ${body} })().then((r) => parentPort.postMessage(String(r)), (e) => parentPort.postMessage('threw ' + e));`;
  return new Promise((resolve) => {
    const worker = new Worker(code, { eval: true });
    const timer = setTimeout(() => {
      worker.terminate();
      resolve('HANG');
    }, ms);
    worker.once('message', (m) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      resolve(`worker error ${e.message}`);
    });
  });
}

/** A list whose iterator never ends (its `length` is 1: within the 1000-item limit). */
const ENDLESS = (item) => `(() => { const a = [${item}]; a[Symbol.iterator] = function* () { for (;;) yield ${item}; }; return a; })()`;

// --- Finding 1: a list option whose iterator never ends hangs the realm -----

test('review-17: a request cache.tags whose iterator never ends is read by index, not a hang', async () => {
  // Lists are read by index up to their (bounded) length: the iterator is never run.
  const out = await inWorker(`
    const c = await mp.createClient({ baseUrl: 'http://127.0.0.1:9', retry: false });
    return c.request({ path: '/api/test', cache: { tags: ${ENDLESS("'t'")} } }).then(() => 'resolved', (e) => e.kind);`);
  assert.equal(out, 'network', 'read as the one tag it holds; the request then fails on the closed port');
});

test('review-17: createClient with cache.rules / stats.patterns whose iterator never ends reads them by index, not a hang', async () => {
  for (const option of [`cache: { rules: ${ENDLESS("{ path: '/api/*', ttlMs: 1000 }")} }`, `stats: { patterns: ${ENDLESS("'/api/:id'")} }`]) {
    const out = await inWorker(`
      return mp.createClient({ baseUrl: 'http://127.0.0.1:9', ${option} }).then(() => 'resolved', (e) => e.kind);`);
    assert.equal(out, 'resolved', option);
  }
});

// --- Finding 2: mock.routes with a huge (sparse) length hangs createClient ---

test('review-17: mock.routes of length 2**32-1 is refused at once, not copied item by item', async () => {
  const out = await inWorker(`
    const routes = []; routes.length = 2 ** 32 - 1;
    return mp.createClient({ mock: { enabled: true, routes } }).then(() => 'resolved', (e) => e.kind + ': ' + e.detail);`);
  assert.match(out, /^invalid: /, 'copyRoutes loops over `length` before the 1000-item limit is checked');
});

// --- Finding 3: GET data is copied (and expanded) before the query limit ---

test('review-17: GET data refused by the 16 KB query limit does not grow wasm memory by tens of MB', async () => {
  const { sandbox, mp, memoryBytes: memory } = sandboxWithExports(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  sandbox.context.client = client;
  const before = memory();
  // 1M UTF-16 units of JSON: within the 1 MB body limit the fast path checks, 64 times the query limit.
  const err = await rejection(sandbox.evaluate('client.request({ path: "/api/test", data: { q: "中".repeat(1024 * 1024 - 16) } })'));
  assert.equal(err.kind, 'invalid');
  assert.match(err.detail, /at most 16384/);
  const grown = memory() - before;
  assert.ok(grown < 8 * 1024 * 1024, `a refused GET grew the wasm memory (which never shrinks) by ${(grown / 1048576).toFixed(1)} MB`);
  client.destroy();
});

// --- Finding 4: the path limit counts the query, contrary to docs/errors.md --

test('review-17: a path whose query takes it past 4096 bytes, within 16384 with the query, is sent (docs/errors.md)', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  // docs/errors.md: `path` without its query 4096 bytes; the path with its query 16384 bytes.
  const path = `/api/test?q=${'a'.repeat(5000)}`;
  const res = await client.request({ path }).catch((e) => e);
  assert.equal(res.statusCode, 200, `refused: ${res.detail}`);
  client.destroy();
});

// --- Finding 5: the options snapshot drops what options inherit -------------

test('review-17: client options inherited from a prototype are still read (they were before the snapshot)', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const defaults = cloudOptions(emulator);
  const client = await mp.createClient(Object.assign(Object.create(defaults), { timeoutMs: 5000 })).catch((e) => e);
  assert.ok(!mp.RequestError.is(client), `createClient refused: ${client.detail}`);
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
  client.destroy();
});

test('review-17: a mock route whose handler is a class method is still accepted (it was before the snapshot)', async () => {
  const mp = require(nodeBuild);
  class OrderRoute {
    constructor() {
      this.path = '/api/order/:id';
    }
    handler(req, params) {
      return { data: { id: params.id } };
    }
  }
  const client = await mp.createClient({ mock: { enabled: true, routes: [new OrderRoute()] } }).catch((e) => e);
  assert.ok(!mp.RequestError.is(client), `createClient refused: ${client.detail}`);
  assert.deepEqual((await client.request({ path: '/api/order/7' })).data, { id: '7' });
  client.destroy();
});

// --- Finding 6: the fetch adapter now parses text/plain bodies --------------

test('review-17: the fetch adapter hands on a text/plain body as text (a numeric id keeps its digits)', async () => {
  const server = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('12345678901234567890'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const mp = require(nodeBuild);
    const client = await mp.createClient({ baseUrl: `http://127.0.0.1:${server.address().port}`, retry: false });
    const res = await client.request({ path: '/api/token' });
    assert.equal(res.data, '12345678901234567890', 'before this change fetch parsed only JSON content types');
    client.destroy();
  } finally {
    server.close();
  }
});

// --- Finding 7: a mock fixture meets BodyNotJson: retried as a service error -

test('review-17: a mock route answering non-JSON text under a JSON content type is not retried as a service failure', async () => {
  const mp = require(nodeBuild);
  let calls = 0;
  const client = await mp.createClient({
    mock: {
      enabled: true,
      routes: [{ path: '/api/ping', handler: () => (calls += 1, { data: 'pong', header: { 'content-type': 'application/json' } }) }],
    },
  });
  const out = await client.request({ path: '/api/ping' }).catch((e) => e);
  // docs/errors.md: a mock answer that is malformed is `invalid`, never retried; before, 'pong' was handed on.
  assert.equal(calls, 1, `the app's own fixture was called ${calls} times`);
  assert.notEqual(out.kind, 'service', `a fixture reads as 服务暂时不可用: ${out.detail}`);
  client.destroy();
});

// --- Finding 8: a replay answered 2xx with a body that never parses ---------

test('review-17: a replayed mutation answered 200 whose JSON never parses leaves the queue and does not block the next', async (t) => {
  const storage = new Map();
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage });
  sandbox.controls.setNetworkType('none');
  const synced = [];
  const client = await mp.createClient(cloudOptions(emulator, { retry: false, onSync: (e) => synced.push(e) }));
  // The replay timers (up to minutes) must not keep the test process alive.
  t.after(() => {
    client.destroy();
    sandbox.dispose();
  });
  await sleep(5);
  await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 'a' }, offline: 'queue' }));
  await rejection(client.request({ path: '/api/test', method: 'POST', data: { n: 2 }, offline: 'queue' }));
  // The service handles the order every time and its answer is always damaged (say, Python's NaN in JSON).
  emulator.inject({ kind: 'malformed', after: true, path: '/api/order/create', count: 1000 });
  sandbox.controls.setNetworkType('wifi');
  await until(() => synced.length >= 2, 6000);
  assert.equal(emulator.handled('/api/order/create'), 1, 'the order was created once');
  assert.deepEqual(
    synced.map((e) => e.path),
    ['/api/order/create', '/api/test'],
    `after 6 s: synced ${JSON.stringify(synced.map((e) => e.path))}, still pending ${JSON.stringify(client.pending().map((m) => [m.path, m.attempts]))}`,
  );
});

// --- Finding 9: stored queue items skip the header limits -------------------

test('review-17: a stored queue item with 100 headers is dropped as damaged, not replayed with them', async () => {
  const storage = new Map();
  const header = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`X-H${i}`, 'v']));
  storage.set('mp-request:queue', JSON.stringify({
    format: 'mp-request/queue', version: 1, policy: 1,
    items: [{ id: 1, method: 'POST', path: '/api/test', header, dataJson: '{}', idempotencyKey: 'k-1', user: null, queuedAt: 1, attempts: 0 }],
  }));
  const { mp } = sandboxWithBundle(emulator, { storage });
  const synced = [];
  const client = await mp.createClient(cloudOptions(emulator, { onSync: (e) => synced.push(e) }));
  await until(() => synced.length > 0, 2000);
  const sent = emulator.requests().find((r) => r.path === '/api/test');
  assert.equal(sent, undefined, `replayed with ${sent && Object.keys(sent.headers).filter((h) => h.startsWith('x-h')).length} headers (the limit is 64)`);
  assert.equal(synced[0] && synced[0].ok, false);
  client.destroy();
});

// --- Finding 10: socket messages are bounded in UTF-16 units, not bytes ----

test('review-17: a socket message over 1 MB of UTF-8 is refused (docs/errors.md: 1048576 bytes)', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  const socket = client.socket({ minDelayMs: 20, maxDelayMs: 100, outboxMaxBytes: 8 << 20 });
  await until(() => socket.state === 'open', 3000);
  // 400,000 UTF-16 units, 1,200,000 bytes as sent.
  const thrown = (() => {
    try {
      socket.send('中'.repeat(400000));
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  socket.close();
  assert.ok(thrown, 'a 1.2 MB message was accepted');
  assert.equal(thrown.kind, 'invalid');
  client.destroy();
});
