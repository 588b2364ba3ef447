// Watched queries (issue 21, item 1) through the built bundle in the sandbox, against the emulator:
// the value at once and on every change, one GET however many watch, invalidations coalesced, nothing
// refetched while the app is hidden, errors with the last value, and an unsubscribe that stops it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, sandboxWithBundle, sleep, startEmulator, waitFor } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const OPTIONS = {
  cache: {
    rules: [{ path: '/api/order/list', ttlMs: 60_000, tags: ['orders'] }],
    invalidations: [{ method: 'POST', path: '/api/order/create', prefixes: ['/api/order/list'] }],
  },
};
const LIST = { path: '/api/order/list', data: { userId: 7, page: 1, pageSize: 3 } };
const gets = () => emulator.count('/api/order/list');
const titles = (event) => event.response.data.data.list.map((o) => o.title);

test('a watched list: its value at once, again after a mutation, with one GET each time and for two watchers', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, OPTIONS));
  t.after(() => client.destroy());
  const a = [];
  const b = [];
  const stopA = client.watch(LIST, (event) => a.push(event));
  client.watch(LIST, (event) => b.push(event));
  await waitFor('the first value', () => a.length === 1 && b.length === 1);
  assert.equal(gets(), 1, 'two watchers, one fetch');
  assert.equal(a[0].error, undefined);
  assert.equal(a[0].response.data.data.list.length, 3);
  // A new order for the user: the mutation's invalidation refetches the list once, and both hear it.
  await client.request({ path: '/api/order/create', method: 'POST', data: { userId: 7, title: '新订单 A' } });
  await waitFor('the new list', () => a.length === 2 && b.length === 2, 2000);
  assert.equal(titles(a[1])[0], '新订单 A');
  assert.equal(gets(), 2);
  // Unsubscribed: a hears nothing more.
  stopA();
  client.invalidate('/api/order/');
  await waitFor('b hears the refetch', () => b.length === 3);
  assert.equal(a.length, 2);
});

test('a burst of invalidations is one refetch, none while the app is hidden, and an error keeps the last value', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, { ...OPTIONS, retry: false }));
  t.after(() => client.destroy());
  const heard = [];
  client.watch(LIST, (event) => heard.push(event));
  await waitFor('the first value', () => heard.length === 1);
  for (let i = 0; i < 50; i++) client.invalidate({ tag: 'orders' });
  await waitFor('one refetch', () => heard.length === 2);
  await sleep(150);
  assert.equal(gets(), 2, '50 invalidations, one GET');
  // Hidden: nothing is refetched until the app shows.
  sandbox.controls.appHide();
  client.invalidate('/api/order/');
  await sleep(200);
  assert.equal(gets(), 2);
  emulator.inject({ kind: 'status', status: 404, count: 1, path: '/api/order/list' });
  sandbox.controls.appShow();
  await waitFor('the failure', () => heard.length === 3);
  assert.equal(heard[2].error.kind, 'http');
  assert.deepEqual(heard[2].response, heard[1].response, 'the last value stands');
  assert.equal(gets(), 3);
});

test('only a GET the cache keeps can be watched, and a listener is required', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, OPTIONS));
  t.after(() => client.destroy());
  assert.throws(() => client.watch({ path: '/api/home/init' }, () => {}), (e) => e.kind === 'invalid' && /watch/.test(e.detail));
  assert.throws(() => client.watch(LIST), (e) => e.kind === 'invalid' && /listener/.test(e.detail));
  assert.equal(gets(), 0);
});
