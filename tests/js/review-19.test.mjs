// Review 19 (hostile review of the fast path for requests with options): a
// request the engine would refuse, or whose options the engine would read
// differently, never takes the fast path nor another request's cached answer.
// Options are made in the sandbox's realm (as the app makes them).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

async function client() {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const c = await mp.createClient(cloudOptions(emulator, { cache: { rules: [{ path: '/api/test', ttlMs: 60_000 }] } }));
  sandbox.context.client = c;
  sandbox.context.mp = mp;
  /** @param {string} code */
  const run = (code) => sandbox.evaluate(`client.request(${code})`);
  return { c, mp, sandbox, run, done: () => (c.destroy(), sandbox.dispose()) };
}

describe('review 19: the fast path agrees with the engine', () => {
  test('an unknown option whose value is undefined is refused as the engine refuses it, also when the same request is cached', async () => {
    const { run, done } = await client();
    await run(`{ path: '/api/test' }`);
    const err = await rejection(run(`{ path: '/api/test', chache: undefined }`));
    assert.equal(err.kind, 'invalid');
    assert.match(err.message + err.detail, /chache/);
    const other = await rejection(run(`{ path: '/api/test', cache: { ttlMs: 1000 }, priorty: undefined }`));
    assert.equal(other.kind, 'invalid');
    done();
  });

  test('options the engine reads but for-in does not list (non-enumerable, on a prototype) are obeyed', async () => {
    const { run, done } = await client();
    await run(`{ path: '/api/test' }`);
    // cache: false, not enumerable: the request reaches the server.
    const hidden = await run(`Object.defineProperty({ path: '/api/test' }, 'cache', { value: false })`);
    assert.equal(hidden.fromCache, false);
    // An options class whose getter says cache: false.
    const klass = await run(`new (class { constructor() { this.path = '/api/test'; } get cache() { return false; } })()`);
    assert.equal(klass.fromCache, false);
    // An aborted signal on the prototype: cancelled, not served.
    const cancelled = await rejection(
      run(`(() => { const a = mp.createAbortController(); a.abort(); return Object.create({ signal: a.signal }, { path: { value: '/api/test', enumerable: true } }); })()`),
    );
    assert.equal(cancelled.kind, 'cancelled');
    const hiddenSignal = await rejection(
      run(`(() => { const a = mp.createAbortController(); a.abort(); return Object.defineProperty({ path: '/api/test' }, 'signal', { value: a.signal }); })()`),
    );
    assert.equal(hiddenSignal.kind, 'cancelled');
    assert.equal(emulator.count('/api/test'), 3);
    done();
  });

  test('a path with a NUL never takes the cached answer of a request whose text it forges', async () => {
    const { run, done } = await client();
    const first = await run(`{ path: '/api/test', method: 'GET', header: { 'X-A': '1' } }`);
    assert.equal(first.statusCode, 200);
    // path '/api/test\\0GET', no method, data {"X-A":"1"}: "/api/test\\0GET\\0\\0" + data's JSON, as the first one's text.
    const forged = await rejection(run(`{ path: '/api/test\\u0000GET', method: '', data: { 'X-A': '1' } }`));
    assert.equal(forged.kind, 'invalid');
    done();
  });

  test('a header named like an option never stands for that option: header {cache: false} and cache: false are two requests', async () => {
    const { run, done } = await client();
    const first = await run(`{ path: '/api/test', header: { cache: false } }`);
    assert.equal(first.fromCache, false);
    assert.equal((await run(`{ path: '/api/test', header: { cache: false } }`)).fromCache, true);
    const noCache = await run(`{ path: '/api/test', cache: false }`);
    assert.equal(noCache.fromCache, false, 'cache: false is never served from the cache');
    assert.equal(emulator.requests().at(-1).headers.cache, undefined, 'and sends no header');
    assert.equal(emulator.count('/api/test'), 2);
    done();
  });
});
