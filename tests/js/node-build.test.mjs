// The Node build of the same shim: same engine, HTTP route over fetch.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rejection, repo, startEmulator } from './support.mjs';

const require = createRequire(import.meta.url);
let emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

test('Node build: GET over fetch against baseUrl, errors from the same core', async () => {
  const { createClient, RequestError } = require(join(repo, 'dist/node/index.js'));
  const client = await createClient({ baseUrl: emulator.url, locale: 'en' });
  const res = await client.request({ path: '/api/order/list', data: { userId: 2, page: 1, pageSize: 2 } });
  assert.equal(res.route, 'http');
  assert.equal(res.data.data.list.length, 2);
  emulator.inject({ kind: 'hang', path: '/api/test' });
  const err = await rejection(client.request({ path: '/api/test', timeoutMs: 50, retry: false }));
  assert.ok(err instanceof RequestError);
  assert.deepEqual([err.kind, err.message], ['timeout', 'Request timed out, please check your network']);
  const bad = await rejection(client.request({ path: 'nope' }));
  assert.equal(bad.kind, 'invalid');
  assert.equal(emulator.count(), 2);
});
