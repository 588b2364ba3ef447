// Named regression cases: minimal reproducers of what the fuzzer found (and a
// few that must keep passing), as cases (see generate.mjs). Each runs as its
// own test in tests/js/fuzz.test.mjs, in a fresh process:
//   node tests/fuzz/run.mjs --regression <name>
// `reproduces` names the KNOWN_OPEN entry it shows while that is open; once
// the entry is gone, the case must pass.

/**
 * @typedef {object} Regression
 * @property {string} name
 * @property {string} [reproduces] A KNOWN_OPEN id.
 * @property {Omit<import('./generate.mjs').Case, 'seed' | 'index'>} case
 */

const ok = { answers: [], rest: 'normal' };
/** A plan whose first answer is `res` via success, then normal answers. */
const answer = (res, extra = {}) => ({ answers: [{ via: 'success', timing: 'micro', res }], rest: 'normal', ...extra });

/** @type {Regression[]} */
export const REGRESSIONS = [
  // 17 (1): a throwing js-sys import unwinds through wasm.
  {
    name: 'revoked-proxy-as-request-header',
    reproduces: 'js-import-throws-through-wasm',
    case: { lane: 'fast', op: 'request', client: 'cloud', args: { path: '/fuzz/a', header: { $: 'revoked' } }, plan: ok },
  },
  {
    name: 'revoked-proxy-as-cache-rule-tags',
    reproduces: 'js-import-throws-through-wasm',
    case: { lane: 'scratch', op: 'createClient', args: { env: 'fuzz-env', service: 'fuzz-svc', cache: { rules: [{ path: '/fuzz/cached/*', ttlMs: 1000, tags: { $: 'revoked', arr: true } }] } }, plan: ok },
  },
  {
    name: 'mock-routes-iterator-throws',
    reproduces: 'js-import-throws-through-wasm',
    case: { lane: 'scratch', op: 'createClient', args: { mode: 'mock', mock: { enabled: true, routes: { $: 'badArray', items: [{ path: '/fuzz/*', response: { statusCode: 200 } }], mode: 'iterator' } } }, plan: ok },
  },
  {
    name: 'revoked-proxy-stored-as-offline-queue',
    reproduces: 'js-import-throws-through-wasm',
    case: { lane: 'scratch', op: 'createClient', args: { env: 'fuzz-env', service: 'fuzz-svc' }, plan: { ...ok, storage: { 'mp-request:queue': { $: 'revoked' } } } },
  },
  // 17 (2): a signal whose listener methods throw.
  {
    name: 'signal-addEventListener-throws',
    reproduces: 'signal-listener-throws',
    case: { lane: 'fast', op: 'request', client: 'cloud', args: { path: '/fuzz/a', signal: { $: 'signal', aborted: false, add: 'throw', remove: 'ok' } }, plan: ok },
  },
  {
    name: 'signal-removeEventListener-throws',
    reproduces: 'signal-listener-throws',
    case: { lane: 'fast', op: 'request', client: 'http', args: { path: '/fuzz/a', signal: { $: 'signal', aborted: false, add: 'ok', remove: 'throw' } }, plan: ok },
  },
  // 17 (3): response values that throw on conversion, or pass unchecked.
  {
    name: 'statusCode-valueOf-throws',
    reproduces: 'response-conversion-throws',
    case: { lane: 'fast', op: 'request', client: 'http', args: { path: '/fuzz/a' }, plan: answer({ statusCode: { $: 'valueOf', mode: 'throw' }, header: {}, data: { ok: true } }) },
  },
  {
    name: 'retry-after-valueOf-throws',
    reproduces: 'response-conversion-throws',
    case: { lane: 'fast', op: 'request', client: 'http', args: { path: '/fuzz/a' }, plan: answer({ statusCode: 200, header: { 'Retry-After': { $: 'valueOf', mode: 'throw' } }, data: { ok: true } }) },
  },
  {
    name: 'statusCode-string-and-number-header',
    reproduces: 'response-contract',
    case: { lane: 'fast', op: 'request', client: 'cloud', args: { path: '/fuzz/a' }, plan: answer({ statusCode: '200', header: { 'X-N': 12 }, data: { ok: true } }) },
  },
  // 17 (4): no size limits.
  {
    name: 'header-value-of-2-MB',
    reproduces: 'no-size-limits',
    case: { lane: 'fast', op: 'request', client: 'cloud', args: { path: '/fuzz/a', header: { 'X-Big': { $: 'repeat', s: 'h', n: 2_000_000 } } }, plan: ok },
  },
  {
    name: 'get-query-of-2-MB',
    reproduces: 'no-size-limits',
    case: { lane: 'fast', op: 'request', client: 'cloud', args: { path: '/fuzz/a', data: { q: { $: 'repeat', s: 'd', n: 2_000_000 } } }, plan: ok },
  },
  // 17 (5): lone surrogates.
  {
    name: 'lone-surrogate-in-header-value',
    reproduces: 'lone-surrogates',
    case: { lane: 'fast', op: 'request', client: 'cloud', args: { path: '/fuzz/a', header: { 'X-Fuzz': 'a\uD800b' } }, plan: ok },
  },
  // 17 (6): createClient's raw errors, adapter callbacks, a truncated JSON body.
  {
    name: 'wasmPath-getter-throws',
    reproduces: 'createClient-raw-errors',
    case: { lane: 'scratch', op: 'createClient', args: { $: 'throwGet', e: [['env', 'fuzz-env'], ['service', 'fuzz-svc']], key: 'wasmPath' }, plan: ok },
  },
  {
    // Found by `make fuzz` (seed 1541650044, case 39053): options that are a Proxy of an array are no
    // snapshot, and reading their wasmPath ran the trap outside any guard.
    name: 'options-a-proxy-of-an-array-whose-get-throws',
    reproduces: 'createClient-raw-errors',
    case: { lane: 'scratch', op: 'createClient', args: { $: 'proxy', target: { $: 'list', n: 3, v: 1 }, trap: 'get', mode: 'throw' }, plan: ok },
  },
  {
    name: 'wx-request-success-with-null',
    reproduces: 'adapter-callback-throws',
    case: { lane: 'fast', op: 'request', client: 'http', args: { path: '/fuzz/a' }, plan: answer(null) },
  },
  {
    name: 'truncated-json-200',
    reproduces: 'broken-json-success',
    case: {
      lane: 'fast',
      op: 'request',
      client: 'cloud',
      args: { path: '/fuzz/a' },
      plan: { answers: [{ via: 'success', timing: 'micro', res: { statusCode: 200, header: { 'content-type': 'application/json; charset=utf-8' }, data: '{"ok":tru' } }], rest: 'same', brokenJson: true },
    },
  },
  {
    name: 'emulator-malformed-json-200',
    reproduces: 'broken-json-success',
    case: { lane: 'emulator', op: 'request', client: 'cloud', args: { path: '/api/test' }, fault: { kind: 'malformed', count: 10 } },
  },
  // Must keep passing: the engine's own timer settles what the platform never answers.
  {
    name: 'callContainer-never-answers',
    case: { lane: 'slow', op: 'request', client: 'cloud', args: { path: '/fuzz/a' }, plan: { answers: [{ via: 'never' }], rest: 'same' } },
  },
  {
    name: 'mock-handler-never-settles',
    case: { lane: 'slow', op: 'request', client: 'mock', args: { path: '/fuzz/a' }, plan: { answers: [], rest: 'same', mock: { mode: 'never' } } },
  },
  {
    name: 'success-then-fail-then-success-again',
    case: { lane: 'fast', op: 'request', client: 'cloud', args: { path: '/fuzz/a' }, plan: { answers: [{ via: 'both', timing: 'sync', res: { statusCode: 200, header: {}, data: { ok: true } } }, { via: 'twice', timing: 'macro', res: { statusCode: 200, header: {}, data: { ok: true } } }], rest: 'normal' } },
  },
];
