// Revalidation (issue 21, item 3) through the built bundle in the sandbox, against the emulator, whose GET
// APIs send an ETag and answer a matching If-None-Match with 304: a stale entry's refresh asks whether it
// changed, the 304 keeps the stored body (none crosses the wire) and counts as a revalidation.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, sandboxWithBundle, sleep, startEmulator, waitFor } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const SHORT = { cache: { rules: [{ path: '/api/service/*', ttlMs: 100, staleMs: 60_000 }] } };

test('a stale entry is revalidated with its ETag: a 304 keeps the stored body and counts as a revalidation', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, SHORT));
  t.after(() => client.destroy());
  const first = await client.request({ path: '/api/service/list' });
  assert.equal(first.fromCache, false);
  await sleep(150);
  // Stale: served at once; the background refresh asks with the ETag the first answer carried.
  const stale = await client.request({ path: '/api/service/list' });
  assert.deepEqual([stale.fromCache, stale.stale], [true, true]);
  await waitFor('the revalidation', () => client.cacheStats().revalidations === 1);
  const [miss, refresh] = emulator.requests().filter((r) => r.path === '/api/service/list');
  assert.equal(miss.headers['if-none-match'], undefined);
  assert.match(refresh.headers['if-none-match'], /^"[0-9a-f]{16}"$/);
  assert.equal(refresh.status, 304, 'no body crossed the wire');
  assert.equal(emulator.stats().notModified, 1);
  // Fresh again, with the same body.
  const fresh = await client.request({ path: '/api/service/list' });
  assert.deepEqual([fresh.fromCache, fresh.stale], [true, false]);
  assert.deepEqual(fresh.data, first.data);
  const row = client.stats().rows.find((r) => r.pattern === '/api/service/list');
  assert.equal(row.revalidated, 1);
  assert.equal(emulator.count('/api/service/list'), 2);
});

test('a changed resource is fetched whole: a new ETag, a new body', async (t) => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  t.after(() => sandbox.dispose());
  const client = await mp.createClient(cloudOptions(emulator, { cache: { rules: [{ path: '/api/home/*', ttlMs: 100, staleMs: 60_000 }] } }));
  t.after(() => client.destroy());
  // /api/home/init carries the server's time: every answer is a new one.
  const first = await client.request({ path: '/api/home/init' });
  await sleep(150);
  await client.request({ path: '/api/home/init' });
  await waitFor('the refresh', () => emulator.count('/api/home/init') === 2);
  await sleep(50);
  const [, refresh] = emulator.requests().filter((r) => r.path === '/api/home/init');
  assert.ok(refresh.headers['if-none-match'], 'asked with the ETag');
  assert.equal(refresh.status, 200);
  assert.equal(client.cacheStats().revalidations, 0);
  const fresh = await client.request({ path: '/api/home/init' });
  assert.notEqual(fresh.data.data.serverTime, first.data.data.serverTime);
});
