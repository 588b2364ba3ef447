// The persisted cache: restored at start (across an app relaunch, even
// offline), saved as it changes, bounded, and never trusted blindly.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, packageRoot, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const KEY = 'mp-request:cache';
const CACHE = { persist: true, rules: [{ path: '/api/*', ttlMs: 60_000, staleMs: 600_000 }] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An app launch: a sandbox over `storage` (shared between launches) and a client. */
async function launch(storage, { offline = false, cache = CACHE, root = packageRoot() } = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, { storage, root });
  if (offline) sandbox.controls.setNetworkType('none');
  const client = await mp.createClient(cloudOptions(emulator, { cache, debug: true }));
  await sleep(5); // getNetworkType answers asynchronously
  return { client, sandbox };
}

test('entries survive a relaunch: the last good home page, even offline', async () => {
  const storage = new Map();
  const root = packageRoot();
  const first = await launch(storage, { root });
  const home = await first.client.request({ path: '/api/home/init' });
  first.client.destroy(); // saves what is due (wx.setStorage: asynchronous)
  await sleep(10);
  assert.ok(storage.has(KEY));

  const second = await launch(storage, { offline: true, root });
  assert.ok(second.sandbox.logs.some((l) => l.line.includes('cache: 1 entries restored')));
  const again = await second.client.request({ path: '/api/home/init' });
  assert.equal(again.fromCache, true);
  assert.equal(JSON.stringify(again.data), JSON.stringify(home.data));
  assert.equal(emulator.count('/api/home/init'), 1);
  const other = await second.client.request({ path: '/api/service/list' }).catch((e) => e);
  assert.equal(other.kind, 'offline', 'what was never cached still needs the network');
});

test('changes are saved a moment later without a destroy, versioned', async () => {
  const storage = new Map();
  const { client } = await launch(storage);
  // A backend that says whom it served (WeChat adds nothing to responses): the partition is learnt.
  await client.request({ path: '/api/me', cache: false });
  await client.request({ path: '/api/home/init' });
  assert.equal(storage.has(KEY), false, 'not at once: changes are batched');
  await sleep(1200);
  const saved = JSON.parse(storage.get(KEY));
  assert.deepEqual([saved.format, saved.version, saved.policy, saved.entries.length], ['mp-request/cache', 1, 1, 1]);
  assert.equal(saved.entries[0].path, '/api/home/init');
  assert.equal(saved.user, 'o-user-1', 'the partition learnt from the backend is kept');
});

test('what is saved is bounded in bytes, most recent first', async () => {
  const storage = new Map();
  const { client } = await launch(storage, { cache: { ...CACHE, persistMaxBytes: 1200 } });
  await client.request({ path: '/api/service/list' });
  await client.request({ path: '/api/home/init' });
  await client.request({ path: '/api/order/list', data: { userId: 1, pageSize: 5 } });
  assert.equal(client.cacheStats().entries, 3);
  client.destroy();
  await sleep(10);
  const saved = JSON.parse(storage.get(KEY));
  const paths = saved.entries.map((e) => e.path);
  assert.ok(saved.entries.length >= 1 && saved.entries.length < 3, `bounded: ${paths}`);
  assert.ok(saved.entries.reduce((n, e) => n + e.size, 0) <= 1200);
  assert.equal(paths[0], '/api/order/list', 'the most recent first');
});

const CORRUPT = [
  ['a string', 'garbage', /not a snapshot object \(string\)/],
  ['an array', [1, 2], /not a snapshot object \(array\)/],
  ['another library', { format: 'other-cache', entries: [] }, /another format/],
  ['another version', { format: 'mp-request/cache', version: 99, entries: [] }, /another version/],
  ['from another policy', { format: 'mp-request/cache', version: 1, policy: 2, entries: [] }, /written under policy version 2, this is 1/],
  ['from before policy versions', { format: 'mp-request/cache', version: 1, entries: [] }, /written without a policy version \(this is 1\)/],
  ['entries not a list', { format: 'mp-request/cache', version: 1, policy: 1, entries: {} }, /entries is not an array/],
  ['a damaged entry', { format: 'mp-request/cache', version: 1, policy: 1, entries: [{ key: 'k', path: '/x', scope: '', tags: [], freshUntil: 'soon', staleUntil: 1, size: 1, value: { statusCode: 200 } }] }, /entry 0: freshUntil is not a number/],
  ['a value that is not a response', { format: 'mp-request/cache', version: 1, policy: 1, entries: [{ key: 'k', path: '/x', scope: '', tags: [], freshUntil: 1, staleUntil: 1, size: 1, value: 'x' }] }, /entry 0: value is not a response/],
];

for (const [what, value, reason] of CORRUPT) {
  test(`a stored value that is ${what} is discarded with a debug log, never a crash`, async () => {
    const storage = new Map([[KEY, JSON.stringify(value)]]);
    const { client, sandbox } = await launch(storage);
    const discarded = sandbox.logs.find((l) => l.line.includes('cache: stored value discarded'));
    assert.ok(discarded, 'logged');
    assert.match(discarded.line, reason);
    const res = await client.request({ path: '/api/home/init' });
    assert.equal(res.fromCache, false);
    assert.equal(emulator.count('/api/home/init'), 1);
    client.destroy();
    await sleep(10);
    assert.equal(JSON.parse(storage.get(KEY)).format, 'mp-request/cache', 'replaced by a good snapshot');
  });
}
