// The offline mutation queue through the built bundle, in the sandbox, against
// the emulator: kept in wx storage across a relaunch, replayed exactly once
// with its idempotency key, reported through onSync.
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Values from the sandbox's realm, as this realm's (deepEqual compares prototypes). */
const plain = (value) => JSON.parse(JSON.stringify(value));

/** An app launch over `storage` (shared between launches). */
async function launch(storage, { offline = false, root = packageRoot(), extra = {} } = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage, root });
  if (offline) sandbox.controls.setNetworkType('none');
  const synced = [];
  // Given with the options: replays may start with the client.
  const client = await mp.createClient(cloudOptions(emulator, { debug: true, onSync: (event) => synced.push(event), ...extra }));
  await sleep(5); // getNetworkType answers asynchronously
  return { client, sandbox, synced };
}

test('queued offline, the mutations survive a relaunch and replay exactly once, in order', async () => {
  const storage = new Map();
  const root = packageRoot();
  const first = await launch(storage, { offline: true, root });
  const errors = [];
  for (const title of ['洗衣', '保洁']) {
    errors.push(await rejection(first.client.request({ path: '/api/order/create', method: 'POST', data: { title }, offline: 'queue' })));
  }
  assert.deepEqual(errors.map((e) => [e.kind, e.queued, e.queueId]), [['offline', true, 1], ['offline', true, 2]]);
  assert.equal(errors[0].message, '网络不可用，已保存，联网后将自动提交');
  const pending = first.client.pending();
  assert.deepEqual(plain(pending.map((m) => [m.id, m.method, m.path, m.data.title])), [[1, 'POST', '/api/order/create', '洗衣'], [2, 'POST', '/api/order/create', '保洁']]);
  const saved = JSON.parse(storage.get(KEY));
  assert.deepEqual([saved.format, saved.version, saved.policy, saved.items.length], ['mp-request/queue', 1, 1, 2]);
  assert.equal(emulator.count('/api/order/create'), 0, 'nothing left the device');
  first.client.destroy();

  // The app is killed and launched again, online: the queue replays at start.
  const second = await launch(storage, { root });
  for (let i = 0; i < 50 && second.synced.length < 2; i += 1) await sleep(10);
  assert.ok(second.sandbox.logs.some((l) => l.line.includes('offline queue: 2 mutations restored')));
  assert.deepEqual(plain(second.synced.map((e) => [e.id, e.ok, e.response.statusCode, e.data.title])), [[1, true, 200, '洗衣'], [2, true, 200, '保洁']]);
  assert.deepEqual(second.synced.map((e) => e.response.data.data.title), ['洗衣', '保洁']);
  assert.equal(emulator.handled('/api/order/create'), 2, 'each order created once');
  const keys = emulator.requests().map((r) => r.headers['idempotency-key']);
  assert.deepEqual(keys, plain(pending.map((m) => m.idempotencyKey)), 'replayed with the keys they were queued with');
  assert.deepEqual(plain(second.client.pending()), []);
  assert.equal(JSON.parse(storage.get(KEY)).items.length, 0);

  // A third launch replays nothing.
  const third = await launch(storage, { root });
  await sleep(50);
  assert.equal(emulator.count('/api/order/create'), 2);
  assert.deepEqual(third.synced, []);
});

test('a replay whose answer is lost is repeated with the same key: still one order', async () => {
  const storage = new Map();
  const { client, sandbox, synced } = await launch(storage, { offline: true });
  await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 'x' }, offline: 'queue', retry: false }));
  emulator.inject({ kind: 'reset', after: true, path: '/api/order/create', count: 2 });
  sandbox.controls.setNetworkType('wifi');
  for (let i = 0; i < 100 && synced.length < 1; i += 1) await sleep(20);
  assert.equal(synced.length, 1);
  assert.equal(synced[0].ok, true);
  assert.equal(emulator.count('/api/order/create'), 3);
  assert.equal(emulator.handled('/api/order/create'), 1);
});

test('going offline mid-request queues it; back online it is sent; a permanent failure is reported, not dropped silently', async () => {
  const storage = new Map();
  const { client, sandbox, synced } = await launch(storage, { extra: { retry: false } });
  emulator.inject({ kind: 'reset', path: '/api/order/create', count: 1 });
  const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: 'a' }, offline: 'queue' }));
  assert.deepEqual([err.kind, err.queued], ['network', true]);
  sandbox.controls.setNetworkType('none');
  await rejection(client.request({ path: '/api/order/nope', method: 'POST', data: {}, offline: 'queue' }));
  assert.equal(client.pending().length, 2);
  const heard = [];
  const stop = client.onSync((event) => heard.push(event.id));
  sandbox.controls.setNetworkType('wifi');
  for (let i = 0; i < 100 && synced.length < 2; i += 1) await sleep(10);
  assert.deepEqual(heard, [1, 2], 'client.onSync hears them too');
  stop();
  assert.deepEqual(synced.map((e) => [e.path, e.ok]), [['/api/order/create', true], ['/api/order/nope', false]]);
  assert.equal(synced[1].error.kind, 'http');
  assert.equal(synced[1].error.statusCode, 404);
  assert.deepEqual(plain(client.pending()), []);
});

test('a stored queue of another policy version or a damaged one is not replayed, and says why', async () => {
  const storage = new Map();
  storage.set(KEY, JSON.stringify({ format: 'mp-request/queue', version: 1, policy: 99, items: [] }));
  const { sandbox, client } = await launch(storage);
  assert.ok(sandbox.logs.some((l) => l.line.includes('offline queue: stored mutations discarded (written under policy version 99, this is 1)')),
    JSON.stringify(sandbox.logs.slice(-3)));
  assert.deepEqual(plain(client.pending()), []);
  storage.set(KEY, JSON.stringify({ format: 'mp-request/queue', version: 1, policy: 1, items: [{ id: 1, method: 'FETCH' }] }));
  const again = await launch(storage);
  assert.ok(again.sandbox.logs.some((l) => l.line.includes('`items[0].method` in the stored offline queue is not one of POST, PUT, DELETE, PATCH')));
  assert.equal(emulator.count(), 0);
});

const mp0 = () => sandboxWithBundle(emulator).mp;

test('bad offline options are invalid errors naming the option', async () => {
  const { client } = await launch(new Map());
  for (const [options, message] of [
    [{ path: '/api/test', offline: 'queue' }, /`offline` 'queue' is for mutations/],
    [{ path: '/api/test', method: 'POST', offline: true }, /`offline` must be a string, got boolean/],
    [{ path: '/api/test', method: 'POST', offline: 'later' }, /`offline` must be 'queue', got "later"/],
  ]) {
    const err = await rejection(client.request(options));
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, message);
  }
  assert.throws(() => client.onSync('no'), /`onSync` needs a function, got string/);
  const notFunction = await rejection(mp0().createClient(cloudOptions(emulator, { onSync: 1 })));
  assert.match(notFunction.detail, /`onSync` must be a function, got number/);
  const { mp } = sandboxWithBundle(emulator);
  const bad = await rejection(mp.createClient(cloudOptions(emulator, { offlineQueue: { maxItems: 0 } })));
  assert.match(bad.detail, /`offlineQueue.maxItems` must be a whole number from 1 to 1000, got 0/);
});
