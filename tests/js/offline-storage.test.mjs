// The offline queue as wx storage holds it, through the built bundle in the
// sandbox against the emulator: its bound counts the bytes actually written
// (so the largest bound still fits one storage key), and what comes back from
// storage is checked item by item: a damaged one is dropped and reported, never
// a failed start, and credential headers are never replayed from storage.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, packageRoot, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const KEY = 'mp-request:queue';
const ONE_KEY = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Values from the sandbox's realm, as this realm's (deepEqual compares prototypes). */
const plain = (value) => JSON.parse(JSON.stringify(value));

/** An app launch over `storage` (shared between launches). */
async function launch(storage, { offline = false, root = packageRoot(), extra = {} } = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage, root });
  if (offline) sandbox.controls.setNetworkType('none');
  const synced = [];
  const client = await mp.createClient(cloudOptions(emulator, { onSync: (event) => synced.push(event), ...extra }));
  await sleep(5); // getNetworkType answers asynchronously
  return { client, sandbox, synced };
}

/** A stored queue item as the engine writes it. */
function item(id, extra = {}) {
  return {
    id,
    method: 'POST',
    path: '/api/order/create',
    header: {},
    dataJson: JSON.stringify({ title: `order ${id}` }),
    idempotencyKey: `stored-key-${id}`,
    queuedAt: 1765000000000 + id,
    attempts: 0,
    ...extra,
  };
}

const stored = (items) => JSON.stringify({ format: 'mp-request/queue', version: 1, policy: 1, items });

test('with the largest maxBytes, a queue of bodies full of escapes fits one storage key: every write succeeds, the refused one is told why', async () => {
  const storage = new Map();
  const { client, sandbox } = await launch(storage, { offline: true, extra: { offlineQueue: { maxItems: 1000, maxBytes: 1000 * 1024 } } });
  // Characters JSON escapes (twice when stored: once in dataJson, once in the
  // stored object) and CJK text, just under callContainer's 100 KB a body.
  const unit = '"\\\n\r\t\u0001\u001f网络请求';
  const text = unit.repeat(Math.floor((95 * 1024) / Buffer.byteLength(JSON.stringify(unit))));
  const outcomes = [];
  for (let i = 0; i < 40; i += 1) {
    const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { i, text }, offline: 'queue' }));
    outcomes.push(err);
    if (err.queued !== true) break;
  }
  const refused = outcomes.at(-1);
  const queued = outcomes.slice(0, -1);
  assert.ok(queued.length >= 3, `queued ${queued.length}`);
  assert.ok(queued.every((e) => e.queued === true && e.kind === 'offline'));
  const warnings = sandbox.logs.filter((l) => l.level === 'warn' || l.level === 'error');
  assert.deepEqual(warnings.filter((l) => l.line.includes('not saved')), [], 'every storage write succeeded');
  const text0 = storage.get(KEY);
  assert.ok(Buffer.byteLength(text0) <= 1000 * 1024, `${Buffer.byteLength(text0)} bytes`);
  assert.ok(Buffer.byteLength(text0) < ONE_KEY);
  const saved = JSON.parse(text0);
  assert.equal(saved.items.length, queued.length, 'it holds every queued item');
  assert.deepEqual(saved.items.map((m) => m.id), queued.map((e) => e.queueId));
  assert.equal(JSON.parse(saved.items[0].dataJson).text, text);
  assert.equal(client.pending().length, queued.length);
  assert.equal(emulator.count(), 0, 'nothing left the device');
  assert.notEqual(refused.queued, true, 'the queue refused one');
  assert.equal(refused.kind, 'offline');
  assert.match(refused.detail, /not queued: the offline queue is full \(with it, it would take more than its 1024000 bytes in storage\)/);
});

test('a stored item whose dataJson is not JSON is dropped and reported; the others replay and the client starts', async () => {
  const storage = new Map();
  storage.set(KEY, stored([item(1), item(2, { dataJson: '{"title":' }), item(3)]));
  const { client, sandbox, synced } = await launch(storage);
  for (let i = 0; i < 100 && synced.length < 3; i += 1) await sleep(10);
  assert.equal(emulator.handled('/api/order/create'), 2, 'the good two replayed, once each');
  const damaged = synced.find((e) => !e.ok);
  assert.ok(damaged, JSON.stringify(synced));
  assert.deepEqual([damaged.id, damaged.method, damaged.path, damaged.data], [2, 'POST', '/api/order/create', undefined]);
  assert.equal(damaged.error.kind, 'invalid');
  assert.equal(damaged.error.name, 'RequestError');
  assert.equal(damaged.error.detail, '`items[1].dataJson` in the stored offline queue is not JSON; the item was dropped');
  assert.deepEqual(synced.filter((e) => e.ok).map((e) => [e.id, e.data.title]), [[1, 'order 1'], [3, 'order 3']]);
  const warning = sandbox.logs.find((l) => l.level === 'warn' && l.line.includes('offline queue'));
  assert.ok(warning, JSON.stringify(sandbox.logs));
  assert.match(warning.line, /^\[mp-request\] offline queue: stored mutation dropped \(`items\[1\]\.dataJson` in the stored offline queue is not JSON/);
  assert.deepEqual(plain(client.pending()), []);
  assert.equal(JSON.parse(storage.get(KEY)).items.length, 0, 'storage no longer holds it');

  // The next launch hears nothing more of it.
  const again = await launch(storage);
  await sleep(30);
  assert.deepEqual(again.synced, []);
});

test('a listener that throws on the report stops neither the other listeners nor the start', async () => {
  const storage = new Map();
  storage.set(KEY, stored([item(1, { method: 'FETCH' }), item(2)]));
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage });
  const heard = [];
  const client = await mp.createClient(
    cloudOptions(emulator, {
      onSync: (event) => {
        heard.push(event.id);
        throw new Error('listener bug');
      },
    }),
  );
  for (let i = 0; i < 100 && heard.length < 2; i += 1) await sleep(10);
  assert.deepEqual(heard, [1, 2]);
  assert.ok(sandbox.logs.some((l) => l.level === 'error' && l.line.includes('an onSync listener threw')));
  assert.ok(sandbox.logs.some((l) => l.level === 'warn' && l.line.includes('`items[0].method` in the stored offline queue is not one of POST, PUT, DELETE, PATCH, got "FETCH"')));
  assert.equal(emulator.handled('/api/order/create'), 1);
  assert.deepEqual(plain(client.pending()), []);
});

test('credential headers in a stored item are not replayed, and storage is rewritten without them', async () => {
  const storage = new Map();
  storage.set(KEY, stored([item(1, { header: { Authorization: 'Bearer stored-secret', cookie: 'sid=1', 'X-Trace': 't1' } })]));
  // Offline: restored, not sent; storage loses the credentials at once.
  const first = await launch(storage, { offline: true });
  assert.deepEqual(plain(first.client.pending().map((m) => m.header)), [{ 'X-Trace': 't1' }]);
  assert.ok(!storage.get(KEY).includes('stored-secret'), storage.get(KEY));
  assert.ok(!storage.get(KEY).includes('sid=1'));
  assert.deepEqual(first.synced, [], 'that is not damage');
  assert.ok(!first.sandbox.logs.some((l) => l.line.includes('offline queue')), JSON.stringify(first.sandbox.logs));
  first.client.destroy();

  // Online: replayed without them.
  storage.set(KEY, stored([item(1, { header: { Authorization: 'Bearer stored-secret', 'X-Trace': 't1' } })]));
  const second = await launch(storage);
  for (let i = 0; i < 100 && second.synced.length < 1; i += 1) await sleep(10);
  assert.equal(second.synced[0].ok, true);
  const [request] = emulator.requests().filter((r) => r.path === '/api/order/create');
  assert.equal(request.headers['x-trace'], 't1');
  assert.equal(request.headers.authorization, undefined, JSON.stringify(request.headers));
  assert.equal(request.headers['idempotency-key'], 'stored-key-1');
});

test('a stored mutation that cannot be routed at start is reported, not a failed start', async () => {
  const storage = new Map();
  storage.set(KEY, stored([item(1)]));
  const { mp } = sandboxWithBundle(emulator, { storage });
  const synced = [];
  const client = await mp.createClient({
    mode: 'mock',
    mock: { routes: [{ path: '/api/other', response: { statusCode: 200, data: {} } }] },
    onSync: (event) => synced.push(event),
  });
  assert.equal(synced.length, 1);
  assert.equal(synced[0].ok, false);
  assert.equal(synced[0].error.kind, 'invalid');
  assert.deepEqual(plain(client.pending()), []);
});
