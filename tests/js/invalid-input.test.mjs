// Bad input gets a RequestError of kind `invalid` naming what was wrong, never
// a wasm trap, and the client keeps serving afterwards.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/** [what the mini-program passes (evaluated in the sandbox), the text the detail must contain] */
const BAD_REQUESTS = [
  ['undefined', '`options` must be an object, got undefined'],
  ['null', '`options` must be an object, got null'],
  ['"/api/test"', '`options` must be an object, got string'],
  ['[]', '`options` must be an object, got array'],
  ['({})', '`path` is required'],
  ['({ path: 42 })', '`path` must be a string, got number'],
  ['({ path: "api/test" })', "`path` must be a string starting with '/'"],
  ['({ path: "//evil.example/x" })', "`path` must not start with '//'"],
  ['({ path: "/a b" })', '`path` contains'],
  ['({ path: "/x", method: "FETCH" })', '`method` must be one of'],
  ['({ path: "/x", method: 1 })', '`method` must be a string, got number'],
  ['(() => { const d = {}; d.self = d; return { path: "/x", method: "POST", data: d }; })()', '`data` cannot be sent as JSON'],
  ['({ path: "/x", method: "POST", data: { n: 1n } })', '`data` cannot be sent as JSON'],
  ['({ path: "/x", data: () => 1 })', '`data` cannot be sent as JSON: got function'],
  ['({ path: "/x", header: "Accept: json" })', '`header` must be an object'],
  ['({ path: "/x", header: { "X-A": { b: 1 } } })', '`header.X-A` must be a string, got object'],
  ['({ path: "/x", header: { "Bad Name": "1" } })', '`header` has an invalid name'],
  ['({ path: "/x", header: { "X-A": "a\\r\\nInjected: 1" } })', '`header.X-A` must not contain CR, LF or NUL'],
  ['({ path: "/x", timeoutMs: "1000" })', '`timeoutMs` must be a number, got string'],
  ['({ path: "/x", timeoutMs: -1 })', '`timeoutMs` must be a number of milliseconds from 1 to 60000'],
  ['({ path: "/x", timeoutMs: NaN })', '`timeoutMs` must be a number of milliseconds'],
  ['({ path: "/x", pth: "/y" })', 'unknown option "pth"'],
  ['({ get path() { throw new Error("boom"); } })', '`path` could not be read (its getter threw)'],
  ['new Proxy({}, { ownKeys() { throw new Error("no"); } })', '`options` could not be read'],
];

test('each kind of bad request option is named in a RequestError of kind invalid', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  sandbox.context.client = client;
  for (const [expr, expected] of BAD_REQUESTS) {
    const err = await rejection(sandbox.evaluate(`client.request(${expr})`));
    assert.ok(mp.RequestError.is(err), `${expr}: a RequestError`);
    assert.ok(err instanceof mp.RequestError, `${expr}: instanceof in its realm`);
    assert.equal(err.kind, 'invalid', expr);
    assert.equal(err.retryable, false, expr);
    assert.ok(err.detail.includes(expected), `${expr}: ${JSON.stringify(err.detail)} should contain ${JSON.stringify(expected)}`);
    assert.ok(err.message.startsWith('请求参数无效：'), err.message);
  }
  assert.equal(emulator.count(), 0, 'nothing was sent');
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
});

test('toJSON that calls back into the client cannot wedge the engine', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  sandbox.context.client = client;
  const inner = [];
  sandbox.context.inner = inner;
  const res = await sandbox.evaluate(`client.request({ path: '/api/test', method: 'POST',
    data: { toJSON() { inner.push(client.request({ path: '/api/test' })); return { ok: 1 }; } } })`);
  assert.equal(res.statusCode, 200);
  assert.equal((await inner[0]).statusCode, 200, 'the nested call also went through');
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
});

const BAD_CLIENTS = [
  ['undefined', '`options` must be an object, got undefined'],
  ['42', '`options` must be an object, got number'],
  ['({})', '`env` or `baseUrl` is required'],
  ['({ env: "prod" })', '`service` is required with `env`'],
  ['({ env: "", service: "s" })', '`env` must not be empty'],
  ['({ env: 1, service: "s" })', '`env` must be a string, got number'],
  ['({ baseUrl: "ftp://x" })', '`baseUrl` must be an http(s) URL'],
  ['({ baseUrl: "http://x", timeoutMs: 0 })', '`timeoutMs` must be a number of milliseconds'],
  ['({ baseUrl: "http://x", locale: "fr" })', "`locale` must be 'zh-CN' or 'en'"],
  ['({ baseUrl: "http://x", wasmPath: 7 })', '`wasmPath` must be a non-empty string'],
  ['({ baseUrl: "http://x", servce: "s" })', 'unknown option "servce"'],
];

test('bad client options reject createClient with the option named', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  sandbox.context.mp = mp;
  for (const [expr, expected] of BAD_CLIENTS) {
    const err = await rejection(sandbox.evaluate(`mp.createClient(${expr})`));
    assert.equal(err.kind, 'invalid', expr);
    assert.ok(err.detail.includes(expected), `${expr}: ${JSON.stringify(err.detail)} should contain ${JSON.stringify(expected)}`);
  }
});

test('after 1,000 bad calls of every kind the same client still serves', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator, { profile: 'ios' });
  const client = await mp.createClient(cloudOptions(emulator));
  sandbox.context.client = client;
  sandbox.evaluate(`globalThis.bad = [${BAD_REQUESTS.map(([expr]) => expr).join(',\n')}]`);
  const kinds = await sandbox.evaluate(`(async () => {
    const kinds = new Set();
    for (let i = 0; i < 1000; i += 1) {
      try { await client.request(bad[i % bad.length]); kinds.add('resolved!'); } catch (e) { kinds.add(e.kind); }
    }
    return [...kinds];
  })()`);
  assert.deepEqual(Array.from(kinds), ['invalid']);
  const res = await client.request({ path: '/api/home/init' });
  assert.equal(res.statusCode, 200);
  assert.equal(emulator.count(), 1, 'only the good request reached the server');
});
