// Invalidations a service pushes over the managed socket (issue 21, item 2), through the built bundle in
// the sandbox against the emulator: a change made by one client reaches another client's watcher of the
// same user within a second, with one GET; a burst of frames is one refetch; frames of mp-request's that
// this version does not know are counted and never handed to the app's listeners; and a socket that drops
// and reconnects repairs what it missed by asking the watched queries again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import vm from 'node:vm';
import { after, before, test } from 'node:test';
import { cloudOptions, plain, repo, sandboxWithBundle, sleep, startEmulator, waitFor } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

const OPTIONS = { cache: { rules: [{ path: '/api/order/list', ttlMs: 60_000, tags: ['orders'] }] } };
/** Each test its own user: the emulator's orders and subscriptions are per user. */
let nextUser = 40;
const list = (userId) => ({ path: '/api/order/list', data: { userId, page: 1, pageSize: 3 } });
const gets = () => emulator.count('/api/order/list');
const titles = (event) => event.response.data.data.list.map((/** @type {any} */ o) => o.title);
const INVALIDATE = { $mp: 1, type: 'invalidate', paths: ['/api/order/list'] };

/** A device of `userId`: a client whose socket hears that user's changes, open. */
async function device(t, userId, socketOptions = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, OPTIONS));
  t.after(() => client.destroy());
  const socket = client.socket({ path: `/live?userId=${userId}`, ...socketOptions });
  /** @type {any[]} */
  const messages = [];
  socket.on('message', (/** @type {any} */ e) => messages.push(e.data));
  await waitFor('the socket open', () => socket.state === 'open');
  return { client, socket, messages, sandbox };
}

/** Watches the user's list; resolves once its first value is in. */
async function watching(client, userId) {
  /** @type {any[]} */
  const heard = [];
  client.watch(list(userId), (/** @type {any} */ event) => heard.push(event));
  await waitFor('the first value', () => heard.length === 1);
  return heard;
}

test("B's new order reaches A's watcher of the same user within a second, with one GET", async (t) => {
  const user = nextUser++;
  const a = await device(t, user);
  const heard = await watching(a.client, user);
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const b = await mp.createClient(cloudOptions(emulator, OPTIONS));
  t.after(() => b.destroy());
  const before = gets();
  await b.request({ path: '/api/order/create', method: 'POST', data: { userId: user, title: '来自 B 的订单' } });
  await waitFor("A's watcher hears the new list", () => heard.length === 2, 1000);
  assert.equal(heard[1].error, undefined);
  assert.equal(titles(heard[1])[0], '来自 B 的订单');
  await sleep(200);
  assert.equal(gets() - before, 1, 'exactly one GET at the server');
  assert.equal(heard.length, 2);
  assert.deepEqual(
    emulator.ws.published().filter((p) => p.userId === user).map((p) => p.sockets),
    [1],
    "pushed once, to A's socket"
  );
  assert.deepEqual(a.messages, [], 'the frame is not the app\'s message');
  assert.equal(a.client.cacheStats().pushedInvalidations, 1);
});

test('a burst of 50 invalidation frames is one refetch', async (t) => {
  const user = nextUser++;
  const a = await device(t, user);
  const heard = await watching(a.client, user);
  const before = gets();
  for (let i = 0; i < 50; i++) emulator.ws.publish(user, INVALIDATE);
  await waitFor('the refetch', () => heard.length === 2);
  await sleep(200);
  assert.equal(gets() - before, 1, '50 frames, one GET');
  assert.equal(heard.length, 2, 'heard once: the entry was dropped, and fetched again whole');
  assert.equal(a.client.cacheStats().pushedInvalidations, 50);
  assert.deepEqual(a.messages, []);
});

test("frames of mp-request's it does not know are counted, never the app's messages; the app's own still arrive", async (t) => {
  const user = nextUser++;
  const a = await device(t, user);
  const heard = await watching(a.client, user);
  const before = gets();
  emulator.ws.publish(user, { $mp: 2, type: 'invalidate', paths: ['/api/order/list'] });
  emulator.ws.publish(user, { $mp: 1, type: 'subscribe', topics: ['orders'] });
  emulator.ws.publish(user, { $mp: 1, type: 'invalidate', paths: ['api/order/list'] });
  // Larger than a control frame may be, but begun as mp-request's frames are: still not the app's.
  emulator.ws.publish(user, { $mp: 1, type: 'invalidate', tags: ['orders'], note: 'x'.repeat(2000) });
  // The app's frames, even ones that look alike, reach its listeners as they were sent.
  emulator.ws.publish(user, { type: 'invalidate', paths: ['/api/order/list'] });
  emulator.ws.publish(user, { chat: 'hi', mp: 1 });
  await waitFor('the app frames', () => a.messages.length === 2);
  assert.deepEqual(a.messages.map((m) => JSON.parse(m)), [{ type: 'invalidate', paths: ['/api/order/list'] }, { chat: 'hi', mp: 1 }]);
  const stats = a.client.cacheStats();
  assert.equal(stats.ignoredFrames, 3);
  assert.equal(stats.pushedInvalidations, 1, 'the long one, by tag');
  await waitFor('its refetch', () => heard.length === 2);
  assert.equal(gets() - before, 1);
});

test('a socket that drops and reconnects asks the watched list again, repairing the invalidation it missed', async (t) => {
  const user = nextUser++;
  const a = await device(t, user, { minDelayMs: 300, maxDelayMs: 400 });
  const heard = await watching(a.client, user);
  emulator.ws.drop();
  await waitFor('the socket down', () => emulator.ws.open() === 0 && a.socket.state !== 'open');
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const b = await mp.createClient(cloudOptions(emulator, OPTIONS));
  t.after(() => b.destroy());
  await b.request({ path: '/api/order/create', method: 'POST', data: { userId: user, title: '掉线时的订单' } });
  assert.equal(emulator.ws.published().at(-1)?.sockets, 0, 'the frame reached nobody');
  assert.equal(heard.length, 1);
  await waitFor('reconnected', () => a.socket.state === 'open');
  await waitFor('the list asked again', () => heard.length === 2);
  assert.equal(titles(heard[1])[0], '掉线时的订单');
  assert.equal(a.client.cacheStats().pushedInvalidations, 0, 'repaired without the frame');
});

test("the guide's service of a few lines pushes what the client acts on: another device's order reaches a watcher", async (t) => {
  const guide = readFileSync(join(repo, 'docs/CLOUD_CONTAINER_USAGE.md'), 'utf8');
  const code = /```js service\n([\s\S]*?)\n```/.exec(guide)?.[1];
  assert.ok(code, 'the guide shows a service');
  assert.match(code, /server\.listen\(80\);$/);
  const module = { exports: {} };
  // On a free port, and the server handed back for the test.
  vm.runInThisContext(`(function (require, module) {\n${code.replace('server.listen(80);', 'server.listen(0); module.exports = server;')}\n})`)(
    createRequire(import.meta.url),
    module,
  );
  const server = /** @type {import('node:http').Server} */ (module.exports);
  t.after(() => server.close());
  await new Promise((resolve) => (server.listening ? resolve(undefined) : server.once('listening', resolve)));
  const baseUrl = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`;
  // Two phones of one user, straight to the service (no gateway here: they name the openid it would add).
  const phone = async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    t.after(() => sandbox.dispose());
    const client = await mp.createClient({ baseUrl, header: { 'x-wx-openid': 'o-guide' }, cache: { rules: [{ path: '/api/order/list', ttlMs: 60_000 }] } });
    t.after(() => client.destroy());
    return client;
  };
  const a = await phone();
  const b = await phone();
  const socket = a.socket({ route: 'http', path: '/', header: { 'x-wx-openid': 'o-guide' } });
  await waitFor('the socket open', () => socket.state === 'open');
  /** @type {any[]} */
  const heard = [];
  a.watch({ path: '/api/order/list' }, (/** @type {any} */ e) => heard.push(e));
  await waitFor('the empty list', () => heard.length === 1);
  assert.deepEqual(plain(heard[0].response.data.data.list), []);
  await b.request({ path: '/api/order/create', method: 'POST', data: {} });
  await waitFor("A's watcher hears the order", () => heard.length === 2, 1000);
  assert.deepEqual(plain(heard[1].response.data.data.list), [{ id: 'o1', openid: 'o-guide' }]);
  assert.equal(a.cacheStats().pushedInvalidations, 1);
});
