// Second hostile review of issue 21 item 2 (after 065dd9f), through the built bundle in the sandbox against
// the emulator: each test shows a defect, and failed before its fix (see tests/review_21_round2.rs for the engine's side).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cloudOptions, sandboxWithBundle, sleep, startEmulator, until, waitFor } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

const RULES = [{ path: '/api/order/list', ttlMs: 60_000, staleMs: 600_000, tags: ['orders'] }];
const OPTIONS = { cache: { rules: RULES } };
/** Each test its own user (the emulator's orders and subscriptions are per user). */
let nextUser = 240;
const list = (userId) => ({ path: '/api/order/list', data: { userId, page: 1, pageSize: 3 } });
const gets = () => emulator.count('/api/order/list');
const titles = (event) => event.response.data.data.list.map((/** @type {any} */ o) => o.title);

// The watched list is revalidated when the socket opens (an ETag: a conditional GET). The socket drops and
// reconnects while that GET is out: the watcher is deferred until the GET ends. It ends with a 304, and the
// engine's 304 path (revalidation.rs) never re-arms the watch timer: the watcher stays marked dirty with no
// timer, and every later mark finds it dirty already and arms nothing. From then on no push reaches the
// page: another device's order is pushed, acted on (pushedInvalidations counts it), and never fetched.
test('after a reconnect during a revalidation that ends in a 304, the next push still reaches the watcher', async (t) => {
  const user = nextUser++;
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const a = await mp.createClient(cloudOptions(emulator, OPTIONS));
  t.after(() => a.destroy());
  const socket = a.socket({ path: `/live?userId=${user}`, minDelayMs: 20, maxDelayMs: 40 });
  await waitFor('the socket open', () => socket.state === 'open');
  /** @type {any[]} */
  const heard = [];
  a.watch(list(user), (/** @type {any} */ event) => heard.push(event));
  await waitFor('the first value', () => heard.length === 1);

  // The next list GET takes a second at the service.
  emulator.inject({ kind: 'delay', delayMs: 1000, path: '/api/order/list', count: 1 });
  const asked = gets();
  const notModified = emulator.stats().notModified;
  emulator.ws.drop();
  await waitFor('the socket down', () => socket.state !== 'open');
  await waitFor('reconnected', () => socket.state === 'open');
  await waitFor('the revalidation out', () => gets() === asked + 1);
  // Down and up again while it is out.
  emulator.ws.drop();
  await waitFor('the socket down again', () => socket.state !== 'open');
  await waitFor('reconnected again', () => socket.state === 'open');
  await waitFor('the 304', () => emulator.stats().notModified === notModified + 1, 3000);
  await sleep(200);
  assert.equal(heard.length, 1, 'a 304 tells no one');

  // Another device of the user creates an order; the service pushes it.
  const other = sandboxWithBundle(emulator);
  t.after(() => other.sandbox.dispose());
  const b = await other.mp.createClient(cloudOptions(emulator, OPTIONS));
  t.after(() => b.destroy());
  const pushes = a.cacheStats().pushedInvalidations;
  await b.request({ path: '/api/order/create', method: 'POST', data: { userId: user, title: '重连之后的订单' } });
  await waitFor('the push acted on', () => a.cacheStats().pushedInvalidations === pushes + 1);
  const reached = await until(() => heard.length === 2, 1500);
  assert.ok(
    reached,
    `the push was acted on (the list dropped: ${a.cacheStats().entries} entries), yet the watcher never heard ` +
      `the order: GETs after the 304: ${gets() - asked - 1}`,
  );
  assert.equal(titles(heard[1])[0], '重连之后的订单');
});

// destroy() now unwatches every watcher first. Unwatching the last watcher of a query abandons the fetch made
// for it alone: its `end` empties the shim's fetches, and `dispatch`'s finally calls freeIfDone, which frees
// the engine (destroyed is already true) in the middle of destroy(). destroy() then calls
// `engine.persistDue()` on the freed engine: it throws, and the save that was due (a push dropped the list)
// never happens, so the next launch restores the list the service invalidated.
test('destroy() while a watcher\'s own fetch is out neither throws nor skips the save that is due', async (t) => {
  const user = nextUser++;
  const storage = new Map();
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage });
  t.after(() => sandbox.dispose());
  const a = await mp.createClient(cloudOptions(emulator, { cache: { rules: RULES, persist: true } }));
  const socket = a.socket({ path: `/live?userId=${user}` });
  await waitFor('the socket open', () => socket.state === 'open');
  /** @type {any[]} */
  const heard = [];
  a.watch(list(user), (/** @type {any} */ event) => heard.push(event));
  await waitFor('the first value', () => heard.length === 1);
  await waitFor('the list saved', () => String(storage.get('mp-request:cache') || '').includes('/api/order/list'), 3000);
  // The service says the list changed; the watcher's refetch takes a while.
  emulator.inject({ kind: 'delay', delayMs: 1000, path: '/api/order/list', count: 1 });
  const asked = gets();
  emulator.ws.publish(user, { $mp: 1, type: 'invalidate', paths: ['/api/order/list'] });
  await waitFor('the refetch out', () => gets() === asked + 1);
  assert.equal(a.cacheStats().entries, 0, 'the list dropped, its save due');
  let thrown;
  try {
    a.destroy();
  } catch (error) {
    thrown = error;
  }
  await sleep(50); // wx.setStorage answers asynchronously
  assert.equal(thrown, undefined, `destroy() threw: ${thrown && (thrown.stack || thrown)}`);
  assert.ok(
    !String(storage.get('mp-request:cache') || '').includes('/api/order/list'),
    'the save that was due was skipped: storage still holds the list the service invalidated',
  );
});
