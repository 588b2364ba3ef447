// A repeat that crosses by handle (a fresh value, or a join of the fetch in
// flight) behaves as the same request started: what the engine would refuse
// at start is refused, never answered from another request's handle. Through
// the built bundle in the sandbox, against the emulator; options are made in
// the sandbox's realm, so that they take the fast path (see fast-options.test.mjs).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { localClient, rejection, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const RULES = { rules: [{ path: '/api/test', ttlMs: 60_000 }] };

async function client(extra = {}) {
  return localClient(emulator, { cache: RULES, ...extra });
}

describe('a request the engine refuses is refused by handle too', () => {
  test("method: '' while the same request without a method is in flight: invalid, as start says", async () => {
    const { c, done } = await client();
    // Started alone, it is invalid.
    const alone = await rejection(c.request({ path: '/api/test', method: '' }));
    assert.equal(alone.kind, 'invalid');
    assert.match(alone.message + alone.detail, /method/);
    emulator.inject({ kind: 'delay', delayMs: 80, path: '/api/test' });
    const first = c.request({ path: '/api/test' });
    const joined = await rejection(c.request({ path: '/api/test', method: '' }));
    assert.equal(joined.kind, 'invalid', 'not a caller of the GET in flight');
    assert.equal((await first).statusCode, 200);
    // Cached now: still invalid, not a fresh value.
    const cached = await rejection(c.request({ path: '/api/test', method: '' }));
    assert.equal(cached.kind, 'invalid', 'not the GET\'s cached value');
    assert.equal(emulator.count('/api/test'), 1);
    done();
  });
});

describe('a hit by handle answers with its own request\'s route reason', () => {
  test("route: 'cloud' on an entry stored by a request without it: its own reason on every repeat", async () => {
    const { c, done } = await client();
    const stored = await c.request({ path: '/api/test' });
    const defaultReason = stored.routeReason;
    for (let i = 0; i < 3; i += 1) {
      const explicit = await c.request({ path: '/api/test', route: 'cloud' });
      assert.equal(explicit.fromCache, true);
      assert.equal(explicit.routeReason, "route: 'cloud' requested", `repeat ${i}`);
      const plain = await c.request({ path: '/api/test' });
      assert.equal(plain.fromCache, true);
      assert.equal(plain.routeReason, defaultReason, `repeat ${i}`);
    }
    assert.notEqual(defaultReason, "route: 'cloud' requested");
    assert.equal(emulator.count('/api/test'), 1);
    done();
  });
});
