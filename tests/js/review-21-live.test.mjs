// Review of issue 21 item 2 (invalidations pushed over the managed socket): the defects a hostile review
// found, each a test (they failed before the fixes), through the built bundle in the sandbox against the emulator.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cloudOptions, packageRoot, sandboxWithBundle, sleep, startEmulator, until, waitFor } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

const RULES = [{ path: '/api/order/list', ttlMs: 60_000, staleMs: 600_000, tags: ['orders'] }];
const OPTIONS = { cache: { rules: RULES } };
/** Each test its own user (the emulator's orders and subscriptions are per user). */
let nextUser = 140;
const list = (userId) => ({ path: '/api/order/list', data: { userId, page: 1, pageSize: 3 } });
const gets = () => emulator.count('/api/order/list');
const titles = (event) => event.response.data.data.list.map((/** @type {any} */ o) => o.title);
const INVALIDATE = { $mp: 1, type: 'invalidate', paths: ['/api/order/list'] };

/** A device of `userId` (its own sandbox, or `launch`'s): a client whose socket hears that user's changes, open. */
async function device(t, userId, options = OPTIONS, launch = sandboxWithBundle(emulator)) {
  const { mp, sandbox } = launch;
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, options));
  t.after(() => client.destroy());
  const socket = client.socket({ path: `/live?userId=${userId}` });
  await waitFor('the socket open', () => socket.state === 'open');
  return { client, socket, sandbox };
}

/** Watches the user's list; resolves once its first value is in. */
async function watching(client, userId) {
  /** @type {any[]} */
  const heard = [];
  client.watch(list(userId), (/** @type {any} */ event) => heard.push(event));
  await waitFor('the first value', () => heard.length === 1);
  return heard;
}

// The emulator publishes after it sent the answer: an order created whose answer is then lost
// (`after: true`) is never pushed, and the retry (same Idempotency-Key) is a replay, which does not
// publish either. The change ran once, and the user's other devices never hear of it.
test("an order whose first answer was lost still reaches the user's other devices", async (t) => {
  const user = nextUser++;
  const a = await device(t, user);
  const heard = await watching(a.client, user);
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const b = await mp.createClient(cloudOptions(emulator, { ...OPTIONS, retry: { limit: 3, baseMs: 1, capMs: 2 } }));
  t.after(() => b.destroy());
  emulator.inject({ kind: 'reset', after: true, path: '/api/order/create', count: 1 });
  const res = await b.request({ path: '/api/order/create', method: 'POST', data: { userId: user, title: '答复丢失的订单' }, idempotent: 'auto' });
  assert.equal(res.attempts, 2, 'the first answer was lost, the retry replayed it');
  assert.equal(emulator.handled('/api/order/create') >= 1, true);
  const reached = await until(() => heard.length === 2, 1500);
  assert.ok(
    reached,
    `the order exists at the service, yet A's watcher never heard it (pushed: ${JSON.stringify(emulator.ws.published().filter((p) => p.userId === user))})`,
  );
  assert.equal(titles(heard[1])[0], '答复丢失的订单');
});

// A pushed invalidation changes the cache but schedules no save (docs/cache.md: "After the cache changes, a
// snapshot is saved one second later"): the snapshot taken before the push still holds the list, destroy()
// and the app going to the background save only what is due, so the next launch serves the list the
// service said had changed, from the cache, without asking.
test('an invalidation pushed before a relaunch is not undone by the persisted cache', async (t) => {
  const user = nextUser++;
  const storage = new Map();
  const root = packageRoot();
  const persisting = { cache: { rules: RULES, persist: true } };
  const a = await device(t, user, persisting, sandboxWithBundle(emulator, { storage, root }));
  await a.client.request(list(user));
  await waitFor('the list saved', () => storage.has('mp-request:cache') && storage.get('mp-request:cache').includes('/api/order/list'));
  emulator.ws.publish(user, INVALIDATE);
  await waitFor('the push acted on', () => a.client.cacheStats().pushedInvalidations === 1);
  assert.equal(a.client.cacheStats().entries, 0, 'dropped in memory');
  a.client.destroy(); // saves what is due
  a.sandbox.dispose();
  await sleep(20); // wx.setStorage answers asynchronously

  const { mp, sandbox } = sandboxWithBundle(emulator, { storage, root });
  t.after(() => sandbox.dispose());
  const relaunched = await mp.createClient(cloudOptions(emulator, persisting));
  t.after(() => relaunched.destroy());
  const before = gets();
  const again = await relaunched.request(list(user));
  assert.equal(
    again.fromCache,
    false,
    `the relaunch served the list the service invalidated from storage (GETs at the server: ${gets() - before})`,
  );
});

// docs/cache.md: "`destroy()` drops every watcher." The shim forgets its listeners, but the engine keeps
// the watches and the coalescing timer a push armed: when the engine outlives destroy() (a request still
// in flight), the timer fires and a GET for a watcher nobody has goes out after destroy().
test('a push just before destroy() makes no GET after it', async (t) => {
  const user = nextUser++;
  const a = await device(t, user);
  await watching(a.client, user);
  emulator.inject({ kind: 'delay', delayMs: 400, path: '/api/home/init', count: 1 });
  const slow = a.client.request({ path: '/api/home/init' }).catch(() => undefined);
  emulator.ws.publish(user, INVALIDATE);
  await waitFor('the push acted on', () => a.client.cacheStats().pushedInvalidations === 1);
  a.client.destroy();
  const before = gets();
  await slow;
  await sleep(100);
  assert.equal(gets() - before, 0, 'a GET for a destroyed client\'s watcher reached the server');
});
