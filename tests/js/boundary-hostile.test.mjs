// Hostile values at the wasm boundary: every js-sys call that can run the
// caller's code (Proxy traps, iterators, getters) is caught, so the wasm
// shadow stack pointer is back where it was after each one; what a request may
// carry is bounded before it is copied into wasm memory.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithExports as withExports, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/** Hostile values, made in the sandbox's realm: [name, expression]. */
const REVOKED = '(() => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; })()';
const REVOKED_ARRAY = '(() => { const r = Proxy.revocable([], {}); r.revoke(); return r.proxy; })()';
const THROWING_INDEX = 'new Proxy(["x"], { get(t, k) { if (k === "0") throw new Error("item"); return t[k]; } })';
const THROWING_LENGTH = 'new Proxy(["x"], { get(t, k) { if (k === "length") throw new Error("len"); return t[k]; } })';

/** [what is called, with which hostile value] → every call must reject `invalid`. */
const HOSTILE_CALLS = [
  ['request header', `client.request({ path: '/api/test', header: ${REVOKED} })`],
  ['request cache', `client.request({ path: '/api/test', cache: ${REVOKED} })`],
  ['request retry', `client.request({ path: '/api/test', retry: ${REVOKED} })`],
  ['request cache.tags (revoked)', `client.request({ path: '/api/test', cache: { tags: ${REVOKED_ARRAY} } })`],
  ['request cache.tags (item)', `client.request({ path: '/api/test', cache: { tags: ${THROWING_INDEX} } })`],
  ['request cache.tags (length)', `client.request({ path: '/api/test', cache: { tags: ${THROWING_LENGTH} } })`],
  ['request options', `client.request(${REVOKED})`],
  ['setUser', `(async () => client.setUser(${REVOKED}))()`],
  ['invalidate', `(async () => client.invalidate(${REVOKED}))()`],
  ['socket', `(async () => client.socket(${REVOKED}))()`],
  ['createClient mock', `mp.createClient({ ...base, mock: ${REVOKED} })`],
  ['createClient mock.routes (item)', `mp.createClient({ ...base, mock: { routes: ${THROWING_INDEX} } })`],
  ['createClient cache.rules', `mp.createClient({ ...base, cache: { rules: ${THROWING_LENGTH} } })`],
  ['createClient cache.invalidations', `mp.createClient({ ...base, cache: { invalidations: ${REVOKED_ARRAY} } })`],
  ['createClient stats.patterns', `mp.createClient({ ...base, stats: { patterns: ${THROWING_INDEX} } })`],
  ['createClient header', `mp.createClient({ ...base, header: ${REVOKED} })`],
];

test('each hostile value is refused as invalid and gives the wasm stack back', async () => {
  const { sandbox, mp, stackPointer } = withExports(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  Object.assign(sandbox.context, { client, mp, base: cloudOptions(emulator) });
  const start = stackPointer();
  for (const [name, call] of HOSTILE_CALLS) {
    const err = await rejection(sandbox.evaluate(call));
    assert.ok(mp.RequestError.is(err), `${name}: a RequestError, got ${err}`);
    assert.equal(err.kind, 'invalid', `${name}: ${err.detail}`);
    assert.equal(stackPointer(), start, `${name}: the shadow stack pointer is back`);
  }
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
  client.destroy();
});

test('thousands of hostile calls leave every client of the realm serving', async () => {
  // 1 MB of shadow stack, 176 bytes and more lost per call before the fix:
  // far fewer calls than these used to break every client of the realm.
  const { sandbox, mp, stackPointer } = withExports(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  const other = await mp.createClient(cloudOptions(emulator));
  Object.assign(sandbox.context, { client });
  const start = stackPointer();
  await sandbox.evaluate(`(async () => {
    const revoked = ${REVOKED};
    for (let i = 0; i < 8000; i += 1) {
      await client.request({ path: '/api/test', header: revoked }).catch(() => {});
    }
  })()`);
  assert.equal(stackPointer(), start);
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
  assert.equal((await other.request({ path: '/api/test' })).statusCode, 200);
  assert.equal(emulator.count(), 2, 'only the two normal requests reached the server');
  client.destroy();
  other.destroy();
});

/** [what the request carries, the detail the `invalid` error must contain] */
const TOO_LARGE = [
  ['65 headers', '({ path: "/api/test", header: Object.fromEntries(Array.from({ length: 65 }, (_, i) => ["X-" + i, "v"])) })', '`header` has headers: 65 or more; at most 64'],
  ['a 20 MB header', '({ path: "/api/test", header: { "X-Big": "v".repeat(20 * 1024 * 1024) } })', 'at most 16384'],
  ['a 20 MB header name', '({ path: "/api/test", header: { ["X".repeat(20 * 1024 * 1024)]: "v" } })', 'at most 16384'],
  ['a 20 MB path', '({ path: "/" + "a".repeat(20 * 1024 * 1024) })', '`path` makes the path with its query bytes long: 20971521 or more; at most 16384'],
  ['a path of 5000 bytes before its query', '({ path: "/" + "a".repeat(5000) + "?q=1" })', '`path` is bytes long: 5001 or more; at most 4096'],
  ['20 MB of GET data', '({ path: "/api/test", data: { q: "a".repeat(20 * 1024 * 1024) } })', 'more than its query can hold'],
  ['GET data past the query limit', '({ path: "/api/test", data: { q: "a".repeat(20000) } })', '`data` makes the path with its query bytes long: 20012 or more; at most 16384'],
  ['a 2 MB text body', '({ path: "/api/test", method: "POST", data: "a".repeat(2 * 1024 * 1024) })', 'at most 1048576'],
  ['a 2 MB JSON body', '({ path: "/api/test", method: "POST", data: { a: "a".repeat(2 * 1024 * 1024) } })', 'at most 1048576'],
  ['2000 cache tags', '({ path: "/api/test", cache: { tags: Array.from({ length: 2000 }, (_, i) => "t" + i) } })', 'at most 1000 items'],
];

test('what a request carries is bounded before it is copied into wasm memory', async () => {
  const { sandbox, mp, memoryBytes } = withExports(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  sandbox.context.client = client;
  const before = memoryBytes();
  for (const [name, options, expected] of TOO_LARGE) {
    const err = await rejection(sandbox.evaluate(`client.request(${options})`));
    assert.ok(mp.RequestError.is(err), `${name}: a RequestError`);
    assert.equal(err.kind, 'invalid', name);
    assert.ok(err.detail.includes(expected), `${name}: ${JSON.stringify(err.detail)} should contain ${JSON.stringify(expected)}`);
  }
  // The 1 MB body limit may grow memory by a few MB, never by the 20 MB values refused.
  assert.ok(memoryBytes() - before < 8 * 1024 * 1024, `memory grew by ${memoryBytes() - before} bytes`);
  assert.equal(emulator.count(), 0, 'nothing was sent');
  // Within the limits, the same shapes are sent.
  const fits = await client.request({ path: '/api/test', header: { 'X-Big': 'v'.repeat(8 * 1024) }, data: { q: 'a'.repeat(8000) } });
  assert.equal(fits.statusCode, 200);
  client.destroy();
});

test('a user id longer than any openid is refused, not cut', async () => {
  const { mp } = withExports(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  assert.throws(() => client.setUser('u'.repeat(300)), (err) => mp.RequestError.is(err) && /at most 256/.test(err.detail));
  client.setUser('u'.repeat(256));
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
  client.destroy();
});
