// Case generators. A case is plain JSON: which lane runs it, which call it
// makes, the arguments as a value spec (built inside the sandbox by realm.js),
// and the plan the fault-injecting platform follows. Being data, a case prints
// as its own reproducer and a named regression case is just a case.
//
// Value specs: JSON values stand for themselves (a plain object without a `$`
// key is an object of its entries); `{ $: kind, ... }` is something JSON
// cannot say: undefined, NaN, a bigint, a function, a 20 MB string, a Proxy,
// a revoked Proxy, an array whose iterator throws, a signal whose listener
// methods throw... (see `build` in realm.js).
import { caseRng } from './rng.mjs';

/** @typedef {import('./rng.mjs').Rng} Rng */
/** @typedef {any} Spec A value spec. */

/**
 * @typedef {object} Case
 * @property {number | string} seed
 * @property {number} index
 * @property {'fast' | 'scratch' | 'slow' | 'emulator'} lane
 *   fast: long-lived clients on the fault-injecting platform; scratch: a new client per case;
 *   slow: the platform never answers (the engine's own timer must settle it); emulator: the real loopback server.
 * @property {'request' | 'setUser' | 'invalidate' | 'socket' | 'dropPending' | 'onSync' | 'createClient' | 'watch'} op
 * @property {'cloud' | 'http' | 'mock'} [client]
 * @property {Spec} args
 * @property {Plan} [plan]
 * @property {boolean} [offline] The network is down during the call.
 * @property {boolean} [hidden] The app is in the background during the call (and comes back after it).
 * @property {object} [fault] Emulator lane: a fault rule for the emulator.
 * @property {boolean} [faultServed] Set by the runner: the rule affected at least one call.
 * @property {boolean} [faultAlone] Set by the runner: no parked case of the lane could meet the fault instead.
 * @property {Spec} [send] socket: what is sent through it (a mock socket echoes it back).
 * @property {Spec} [listener] watch: the listener given.
 * @property {boolean} [wait] watch: unsubscribed after a tick rather than at once.
 * @property {boolean} [linger] socket: sent once open, and closed after the echo.
 */

/**
 * @typedef {object} Plan What the platform does with the case's calls.
 * @property {Answer[]} answers One per network call, in order.
 * @property {'normal' | 'same'} rest After them: answer normally, or repeat the last.
 * @property {{ mode: 'return' | 'throw' | 'reject' | 'never', v?: Spec }} [mock] What the mock route's handler does.
 * @property {Record<string, Spec | 'throw'>} [storage] What getStorageSync returns per key.
 * @property {'throw'} [storageWrites]
 * @property {boolean} [brokenJson] Every answer is a 200 that says JSON and holds broken text: it must not resolve.
 */

/** @typedef {{ via: 'success' | 'fail' | 'both' | 'twice' | 'throw' | 'never' | 'late', timing?: 'sync' | 'micro' | 'macro', ms?: number, res?: Spec }} Answer */

export const QUEUE_KEY = 'mp-request:queue';
export const PERSIST_KEY = 'mp-request:cache';

const U = { $: 'undefined' };
const num = (v) => ({ $: 'num', v });

// ---- leaves -------------------------------------------------------------

const LONE = ['\uD800', '\uDC00', 'a\uD800b', '\uDC00\uD800x', 'x\uDBFF', '\uDFFF\uDFFF'];

/** @param {Rng} r @returns {Spec} a string, mostly short; sometimes long, rarely 2–20 MB */
function str(r) {
  return r.weighted([
    [30, () => r.pick(['', 'x', 'fuzz', 'a b', '测试', 'é', '😀', '0', 'true', '__proto__', 'constructor'])],
    [15, () => r.pick(LONE)],
    [10, () => r.pick(['a\r\nInjected: 1', 'a\u0000b', '\t', '\u2028', '%zz', '../..'])],
    [8, () => ({ $: 'repeat', s: r.pick(['a', 'é', '\uD800', '😀', '%']), n: r.logInt(1000, 200_000) })],
    [0.04, () => ({ $: 'repeat', s: 'a', n: r.logInt(2_000_000, 20_000_000) })],
  ])();
}

/** @param {Rng} r @returns {Spec} */
function number(r) {
  return r.pick([0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53 + 1, 4294967296, num('NaN'), num('Infinity'), num('-Infinity'), num('-0'), { $: 'bigint', v: '200' }]);
}

/** @param {Rng} r @returns {Spec} a value of the wrong kind for almost any position */
function primitive(r) {
  return r.weighted([
    [4, () => U],
    [4, () => null],
    [3, () => r.pick([true, false])],
    [6, () => number(r)],
    [6, () => str(r)],
    [2, () => ({ $: 'symbol', v: 'fuzz' })],
    [2, () => ({ $: 'fn', ret: U })],
  ])();
}

/** @param {Rng} r @param {Spec} around @returns {Spec} a structure that is odd, big, deep or cyclic */
function structure(r, around) {
  return r.weighted([
    [3, () => ({})],
    [3, () => []],
    [2, () => ({ $: 'deep', n: r.logInt(10, 20_000), kind: r.pick(['obj', 'arr']), leaf: 1 })],
    [2, () => ({ $: 'cycle', e: [['a', 1]] })],
    [2, () => ({ $: 'many', n: r.logInt(1, 5000), key: r.pick(['X-H', 'k', 'tag']), v: r.pick(['v', 1, true]) })],
    [2, () => ({ $: 'list', n: r.logInt(1, 100_000), v: r.pick(['t', 1, null, {}]) })],
    [1, () => ({ $: 'buffer', n: r.logInt(0, 200_000) })],
    [1, () => ({ $: 'typed', n: r.logInt(0, 1000) })],
    [1, () => ({ $: r.pick(['date', 'map', 'regexp']) })],
    [1, () => ({ $: 'obj', nullProto: true, e: [['a', 'b']] })],
    [2, () => ({ $: 'obj', e: entriesOf(around), sym: 'symbol-keyed' })],
    [2, () => ({ $: 'obj', e: entriesOf(around), proto: r.pick([{ polluted: true }, 'x', null]) })],
    [2, () => ({ $: 'toJSON', mode: r.pick(['throw', 'self', 'undefined']) })],
    [2, () => ({ $: 'valueOf', mode: r.pick(['throw', 'flip']) })],
    [1, () => ({ $: 'promise', mode: r.pick(['reject', 'resolve']), v: around === undefined ? 1 : around })],
    [2, () => ({ $: 'reenter', call: r.pick(['request', 'setUser', 'invalidate', 'stats', 'cacheStats', 'pending']), via: r.pick(['getter', 'toJSON']), target: around === undefined ? {} : around })],
  ])();
}

/** The entries of an object spec (plain or `obj`), for wrapping it. */
function entriesOf(spec) {
  if (spec && typeof spec === 'object' && !Array.isArray(spec) && !('$' in spec)) return Object.entries(spec);
  return [];
}

const TRAPS = ['get', 'ownKeys', 'getPrototypeOf', 'has', 'getOwnPropertyDescriptor', 'all'];

/** @param {Rng} r @param {Spec} around @returns {Spec} a Proxy (throwing, or answering differently between reads), revoked or not */
function proxied(r, around) {
  const target = around !== null && typeof around === 'object' ? around : r.pick([{}, { a: 'b' }, ['x']]);
  return r.weighted([
    [4, () => ({ $: 'revoked', arr: Array.isArray(around) || r.chance(0.3) })],
    [4, () => ({ $: 'proxy', target, trap: r.pick(TRAPS), mode: 'throw' })],
    [4, () => ({ $: 'proxy', target, trap: r.pick(TRAPS), mode: 'flip' })],
    [2, () => ({ $: 'throwGet', e: entriesOf(around), key: r.pick([...entriesOf(around).map(([k]) => k), 'path', 'then', 'length', 'statusCode']) })],
    [2, () => ({ $: 'badArray', items: Array.isArray(around) ? around : ['x'], mode: r.pick(['iterator', 'index', 'length']) })],
  ])();
}

/** @param {Rng} r @returns {Spec} an AbortSignal look-alike, maybe with throwing listener methods */
function signal(r) {
  return {
    $: 'signal',
    aborted: r.chance(0.15),
    add: r.weighted([[6, 'ok'], [2, 'throw'], [1, 'missing']]),
    remove: r.weighted([[6, 'ok'], [2, 'throw'], [1, 'missing']]),
    ...(r.chance(0.3) ? { abortInMs: r.int(0, 5) } : {}),
  };
}

/** @param {Rng} r @param {Spec} around the valid value at this position @returns {Spec} */
export function hostile(r, around) {
  return r.weighted([
    [22, () => primitive(r)],
    [22, () => structure(r, around)],
    [30, () => proxied(r, around)],
    [4, () => signal(r)],
  ])();
}

// ---- valid-looking templates -------------------------------------------

/** @param {Rng} r @returns {Spec} */
function path(r) {
  const base = r.pick(['/fuzz/a', '/fuzz/cached/x', '/fuzz/order/123', '/fuzz/q?x=1', '/fuzz/测试', '/fuzz/a%20b']);
  return r.weighted([
    [20, () => base],
    [3, () => `${base}/${r.pick(LONE)}`],
    [2, () => ({ $: 'repeat', pre: '/fuzz/', s: r.pick(['a', 'é/', '%41']), n: r.logInt(100, 200_000) })],
    [0.02, () => ({ $: 'repeat', pre: '/fuzz/', s: 'a', n: r.logInt(2_000_000, 20_000_000) })],
  ])();
}

/** @param {Rng} r @returns {Spec} */
function headerValue(r) {
  return r.weighted([
    [10, () => r.pick(['v', 'application/json', 'Bearer t', '', '1'])],
    [2, () => r.pick([1, 12345678901234567, true, 1.5])],
    [3, () => r.pick(LONE)],
    [1, () => ({ $: 'repeat', s: 'h', n: r.logInt(1000, 500_000) })],
    [0.02, () => ({ $: 'repeat', s: 'h', n: r.logInt(2_000_000, 20_000_000) })],
  ])();
}

/** @param {Rng} r @returns {Spec} */
function header(r) {
  return r.weighted([
    [6, () => ({ 'X-Fuzz': headerValue(r) })],
    [2, () => ({ 'content-type': r.pick(['application/json', 'application/x-www-form-urlencoded', 'text/plain']), 'X-Fuzz': headerValue(r) })],
    [0.3, () => ({ $: 'many', n: r.logInt(10, 20_000), key: 'X-H', v: 'v' })],
    [1, () => ({ [`X-${r.pick(LONE)}`]: 'v' })],
  ])();
}

/** @param {Rng} r @returns {Spec} */
function data(r) {
  return r.weighted([
    [6, () => ({ a: 1, s: r.pick(['x', 'é', ...LONE]), n: r.pick([1, num('NaN'), num('-0')]) })],
    [2, () => [1, 'two', { three: 3 }]],
    [2, () => str(r)],
    [1, () => ({ $: 'buffer', n: r.logInt(1, 200_000) })],
    [1, () => ({ big: { $: 'repeat', s: 'd', n: r.logInt(1000, 2_000_000) } })],
    [0.02, () => ({ big: { $: 'repeat', s: 'd', n: r.logInt(2_000_000, 20_000_000) } })],
  ])();
}

/** @param {Rng} r @returns {Spec} request options, valid unless a mutation makes them otherwise */
function requestTemplate(r, { slow = false } = {}) {
  /** @type {Record<string, Spec>} */
  const o = { path: path(r) };
  if (r.chance(0.4)) o.method = r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'post']);
  if (r.chance(0.4)) o.data = data(r);
  if (r.chance(0.4)) o.header = header(r);
  if (slow) return o;
  // Valid numbers stay small: a case must settle in milliseconds unless the platform never answers.
  if (r.chance(0.15)) o.timeoutMs = r.int(1, 2000);
  if (r.chance(0.15)) o.retry = r.chance(0.3) ? false : { limit: r.int(0, 2), baseMs: r.int(1, 20), capMs: r.int(1, 50), deadlineMs: r.int(100, 1500) };
  if (r.chance(0.1)) o.idempotent = r.pick([true, false, 'auto']);
  if (r.chance(0.05)) o.idempotencyKey = r.pick(['k-1', 'abc', '\uD800']);
  if (r.chance(0.1)) o.priority = r.pick(['high', 'normal', 'low']);
  if (r.chance(0.08)) {
    o.method = 'POST';
    o.offline = 'queue';
  }
  if (r.chance(0.15)) o.cache = r.pick([false, 'reload', { ttlMs: r.int(1, 60_000), staleMs: r.int(0, 1000), tags: ['t1', 't2'], private: r.chance(0.5) }]);
  if (r.chance(0.1)) o.signal = signal(r);
  if (r.chance(0.05)) o.route = r.pick(['cloud', 'http', 'mock']);
  return o;
}

/** @param {Rng} r @returns {Spec} client options, valid unless a mutation makes them otherwise */
function clientTemplate(r) {
  /** @type {Record<string, Spec>} */
  const o = {};
  const kind = r.pick(['cloud', 'http', 'both', 'mock']);
  if (kind === 'cloud' || kind === 'both') Object.assign(o, { env: 'fuzz-env', service: 'fuzz-svc' });
  if (kind === 'http' || kind === 'both') o.baseUrl = 'https://fuzz.example';
  if (kind === 'mock' || r.chance(0.2)) {
    o.mode = kind === 'mock' ? 'mock' : r.pick(['auto', 'cloud', 'http']);
    o.mock = {
      enabled: r.pick([true, 'auto', false]),
      routes: [
        { path: '/fuzz/*', response: { statusCode: 200, data: { ok: true } } },
        { method: 'POST', path: '/fuzz/order/:id', handler: { $: 'fn', ret: { statusCode: 201, data: { id: 1 } } } },
        { path: '/fuzz/down', error: r.pick(['network', 'timeout', 'service']), delayMs: r.int(0, 5) },
      ],
      ...(r.chance(0.3) ? { passthrough: true } : {}),
    };
  }
  o.timeoutMs = r.int(20, 300);
  o.retry = r.chance(0.3) ? false : { limit: r.int(0, 2), baseMs: r.int(1, 10), capMs: r.int(1, 20), deadlineMs: r.int(100, 1000) };
  if (r.chance(0.3)) o.retryBudget = r.pick([false, true, { capacity: r.int(1, 1000), retryCost: r.int(1, 10) }]);
  if (r.chance(0.3)) o.breaker = r.pick([false, true, { windowMs: 1000, minCalls: r.int(1, 20), failureRatio: 0.5, openMs: 100 }]);
  if (r.chance(0.2)) o.maxConcurrent = r.int(1, 100);
  if (r.chance(0.2)) o.offlineQueue = { maxItems: r.int(1, 1000), maxBytes: r.int(1024, 1_024_000) };
  if (r.chance(0.2)) o.locale = r.pick(['en', 'zh-CN']);
  if (r.chance(0.2)) o.seed = r.int(0, 2 ** 32 - 1);
  if (r.chance(0.5)) {
    o.cache = {
      maxEntries: r.int(1, 500),
      rules: [{ path: '/fuzz/cached/*', ttlMs: r.int(1, 60_000), staleMs: r.int(0, 1000), tags: ['t1'] }],
      invalidations: [{ method: 'POST', path: '/fuzz/order/:id', prefixes: ['/fuzz/cached/'], tags: ['t1'] }],
      ...(r.chance(0.5) ? { persist: true, persistMaxBytes: r.int(1024, 100_000) } : {}),
    };
  }
  if (r.chance(0.3)) o.stats = { patterns: ['/fuzz/order/:id', '/fuzz/*'], maxPatterns: r.int(1, 1000) };
  if (r.chance(0.1)) o.debug = true;
  if (r.chance(0.2)) o.onSync = { $: 'fn', ret: U };
  if (r.chance(0.2)) o.header = r.chance(0.5) ? { 'X-App': 'a' } : { $: 'fn', ret: { 'X-App': 'a' } };
  if (r.chance(0.1)) o.wasmPath = '/utils/mp-request/mp_request.wasm.br';
  if (r.chance(0.2)) o.report = { path: '/fuzz/report', everyMs: r.int(1000, 60_000), ...(r.chance(0.5) ? { sample: r.pick([0, 0.5, 1]) } : {}) };
  if (r.chance(0.1)) o.realtimeLog = r.pick([true, false]);
  return o;
}

/** Frames of mp-request's (`docs/live.md`), good and bad, as a service might push them. */
const PUSHED = [
  '{"$mp":1,"type":"invalidate","paths":["/fuzz/cached/"]}',
  '{"$mp":1,"type":"invalidate","tags":["t1"],"paths":["/fuzz/"]}',
  '{"$mp":2,"type":"invalidate","paths":["/"]}',
  '{"$mp":1,"type":"nope"}',
  '{"$mp":1,"type":"invalidate","paths":[1,"\\uD800"]}',
  '{"$mp":1,"type":"invalidate","tags":["a\\nb"]}',
  `{"$mp":1,"type":"invalidate","tags":["t1"],"pad":"${'x'.repeat(17_000)}"}`,
  '{"$mp":1,"$mp":1,"type":"invalidate","tags":["t1"]}',
];

/** @param {Rng} r @returns {Spec} */
function socketTemplate(r) {
  /** @type {Record<string, Spec>} */
  const o = { route: r.pick(['mock', 'cloud', 'http']) };
  if (r.chance(0.5)) o.service = 'ws';
  if (r.chance(0.5)) o.path = r.pick(['/', '/chat', '/\uD800']);
  for (const key of ['minDelayMs', 'maxDelayMs', 'connectTimeoutMs', 'minUptimeMs', 'heartbeatIntervalMs', 'heartbeatTimeoutMs', 'outboxMaxMessages', 'outboxMaxBytes']) {
    if (r.chance(0.1)) o[key] = r.int(1, 100_000);
  }
  if (r.chance(0.1)) o.factor = 1.5;
  if (r.chance(0.1)) o.maxAttempts = r.int(0, 10);
  if (r.chance(0.2)) o.acked = r.chance(0.5);
  if (r.chance(0.2)) o.heartbeat = r.chance(0.5);
  if (r.chance(0.2)) o.header = r.chance(0.5) ? { 'X-Token': 't' } : { 'X-Room': 'r', 'x-token': 't' };
  return o;
}

// ---- mutation -----------------------------------------------------------

/**
 * Every position in a template where a value sits: the root, each key of a
 * plain object and each element of an array, plus a new key on each object.
 * @returns {Array<string | number>[]}
 */
function positions(spec, at = [], out = [[]]) {
  if (spec && typeof spec === 'object' && (Array.isArray(spec) || !('$' in spec))) {
    for (const [k, v] of Object.entries(spec)) {
      const p = [...at, Array.isArray(spec) ? Number(k) : k];
      out.push(p);
      positions(v, p, out);
    }
    if (!Array.isArray(spec)) out.push([...at, NEW_KEY]);
  }
  return out;
}

const NEW_KEY = '\u0000new';

/** Replaces the value at `pos` (a path from `positions`) with a hostile one. */
function mutate(r, spec, pos) {
  if (pos.length === 0) return hostile(r, spec);
  const copy = Array.isArray(spec) ? spec.slice() : { ...spec };
  const [head, ...rest] = pos;
  if (head === NEW_KEY) {
    // An unknown key, or a key JSON would not write (a Symbol, an own `__proto__`).
    return r.weighted([
      [2, () => ({ ...copy, [r.pick(['pth', 'extra', 'constructor'])]: primitive(r) })],
      [1, () => ({ $: 'obj', e: Object.entries(copy), sym: primitive(r) })],
      [1, () => ({ $: 'obj', e: Object.entries(copy), proto: r.pick([{ path: '/evil' }, null, 'x']) })],
    ])();
  }
  copy[head] = rest.length === 0 ? hostile(r, spec[head]) : mutate(r, spec[head], rest);
  return copy;
}

/** @param {Rng} r @param {Spec} template @param {number} pMutate */
function maybeMutated(r, template, pMutate) {
  let spec = template;
  if (r.chance(pMutate)) {
    const times = r.chance(0.15) ? 2 : 1;
    for (let i = 0; i < times; i += 1) spec = mutate(r, spec, r.pick(positions(spec)));
  }
  return spec;
}

// ---- platform plans ---------------------------------------------------------

/** @param {Rng} r @returns {Spec} a success answer's `res`, mostly odd */
function successRes(r) {
  return r.weighted([
    [6, () => ({
      statusCode: r.weighted([[6, () => r.pick([200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 503])], [4, () => r.pick([0, 999, -1, 1e9, '200', '503', null, U, num('NaN'), num('Infinity'), { $: 'bigint', v: '200' }, { $: 'valueOf', mode: 'throw' }, { $: 'valueOf', mode: 'flip' }])]])(),
      header: r.weighted([
        [4, () => ({ 'content-type': 'application/json' })],
        [1, () => r.pick(['content-type: application/json', null, U, 42, []])],
        [2, () => proxied(r, { 'content-type': 'application/json' })],
        [2, () => ({ 'Retry-After': r.pick(['1', '-1', 'soon', num('NaN'), { $: 'valueOf', mode: 'throw' }, { $: 'symbol', v: 's' }, null, 1e308]) })],
        [2, () => ({ 'X-WX-OPENID': r.pick(['o-1', '', '\uD800', { $: 'valueOf', mode: 'throw' }, { $: 'symbol', v: 's' }, 42, null, { $: 'repeat', s: 'o', n: 100_000 }]) })],
        [2, () => ({ 'content-type': 'application/json', 'X-N': r.pick([12, true, null, { a: 1 }, U]) })],
        [1, () => ({ $: 'many', n: r.logInt(10, 5000), key: 'X-R', v: 'v' })],
      ])(),
      data: r.weighted([[4, () => ({ ok: true })], [2, () => r.pick(['text', '', 'not json{', '{"a":1,', null, U])], [1, () => structure(r, { ok: true })], [1, () => proxied(r, { ok: true })]])(),
      ...(r.chance(0.2) ? { callID: primitive(r) } : {}),
    })],
    [2, () => r.pick([null, U, 'ok', 0, { $: 'revoked' }])],
    [1, () => proxied(r, { statusCode: 200, header: {}, data: {} })],
  ])();
}

/** @param {Rng} r @returns {Spec} a failure answer's `res` */
function failRes(r) {
  return r.weighted([
    [5, () => ({ errMsg: r.pick(['request:fail timeout', 'cloud.callContainer:fail errCode: 102002', 'request:fail', '\uD800', 42]), ...(r.chance(0.7) ? { errCode: r.pick([102002, 102005, -606001, -606002, -501000, 40097, -601034, num('NaN'), '5', { $: 'valueOf', mode: 'throw' }]) } : {}), ...(r.chance(0.4) ? { errno: r.pick([5, 600001, 600002, 600003, 600007, -1, num('Infinity')]) } : {}) })],
    [2, () => r.pick([null, U, 'fail', 0, { $: 'revoked' }])],
    [1, () => proxied(r, { errMsg: 'request:fail', errno: 600001 })],
  ])();
}

/** @param {Rng} r @returns {Answer} an answer that comes (the slow lane has the ones that never do) */
function answer(r) {
  const timing = r.pick(['sync', 'micro', 'macro']);
  return r.weighted([
    [12, () => ({ via: 'success', timing, res: successRes(r) })],
    [5, () => ({ via: 'fail', timing, res: failRes(r) })],
    [1, () => ({ via: 'both', timing, res: successRes(r) })],
    [1, () => ({ via: 'twice', timing, res: successRes(r) })],
    [1, () => ({ via: 'throw', res: r.pick([{ $: 'obj', e: [['message', 'boom']] }, null, { $: 'revoked' }, 'string']) })],
    [1, () => ({ via: 'late', ms: r.int(0, 20), res: successRes(r) })],
  ])();
}

/** @param {Rng} r @returns {Plan} */
function platformPlan(r) {
  if (r.chance(0.4)) return { answers: [], rest: 'normal' };
  if (r.chance(0.05)) {
    // A 200 that says JSON and holds broken text: not a success, on any route.
    const res = { statusCode: 200, header: { 'content-type': 'application/json; charset=utf-8' }, data: r.pick(['{"ok":tru', '<html>502 Bad Gateway</html>', '{"a":[1,2', 'undefined']) };
    return { answers: [{ via: 'success', timing: 'micro', res }], rest: 'same', mock: { mode: 'return', v: res }, brokenJson: true };
  }
  const answers = Array.from({ length: r.int(1, 3) }, () => answer(r));
  return { answers, rest: r.chance(0.2) ? 'same' : 'normal', mock: mockPlan(r) };
}

/** @param {Rng} r what the mock route's handler does */
function mockPlan(r) {
  return r.weighted([
    [6, () => ({ mode: 'return', v: successRes(r) })],
    [1, () => ({ mode: 'throw', v: r.pick([{ $: 'obj', e: [['message', 'boom']] }, null, { $: 'revoked' }, { $: 'throwGet', e: [], key: 'message' }]) })],
    [1, () => ({ mode: 'reject', v: null })],
    [1, () => ({ mode: 'return', v: { $: 'promise', mode: 'resolve', v: successRes(r) } })],
  ])();
}

/** @param {Rng} r @returns {Spec} what storage holds for the cache or the queue: garbage, or almost what mp-request wrote */
function storedGarbage(r, key) {
  const entry = { key: 'GET /fuzz/cached/x', path: '/fuzz/cached/x', scope: '', tags: ['t1'], freshUntil: 9e15, staleUntil: 9e15, size: 10, value: { statusCode: 200, header: {}, data: { ok: true } } };
  const mutation = { id: 1, method: 'POST', path: '/fuzz/order/1', header: {}, dataJson: '{"a":1}', idempotencyKey: 'k'.repeat(32), queuedAt: 1, attempts: 0 };
  const valid = key === PERSIST_KEY
    ? { format: 'mp-request/cache', version: 1, policy: 1, savedAt: 1, entries: [entry] }
    : { format: 'mp-request/queue', version: 1, policy: 1, nextId: 2, items: [mutation] };
  return r.weighted([
    [3, () => hostile(r, valid)],
    [6, () => mutate(r, valid, r.pick(positions(valid)))],
    [1, () => JSON.stringify(valid).slice(0, r.int(0, 40))],
  ])();
}

// ---- cases ----------------------------------------------------------------

/**
 * The case `index` of the run seeded `seed`.
 * @param {number | string} seed @param {number} index @returns {Case}
 */
export function generateCase(seed, index) {
  const r = caseRng(seed, index);
  const lane = r.weighted([[88, 'fast'], [5, 'scratch'], [3, 'slow'], [4, 'emulator']]);
  const base = { seed, index, lane };
  if (lane === 'scratch') {
    /** @type {Plan} */
    const plan = { answers: [], rest: 'normal' };
    if (r.chance(0.4)) plan.storage = { [r.pick([PERSIST_KEY, QUEUE_KEY])]: r.chance(0.1) ? 'throw' : storedGarbage(r, r.pick([PERSIST_KEY, QUEUE_KEY])) };
    if (plan.storage && r.chance(0.5)) {
      const [key] = Object.keys(plan.storage);
      plan.storage = { [PERSIST_KEY]: storedGarbage(r, PERSIST_KEY), [QUEUE_KEY]: storedGarbage(r, QUEUE_KEY), [key]: plan.storage[key] };
    }
    if (r.chance(0.05)) plan.storageWrites = 'throw';
    return { ...base, op: 'createClient', args: maybeMutated(r, clientTemplate(r), 0.8), plan };
  }
  if (lane === 'slow') {
    const client = r.pick(['cloud', 'http', 'mock']);
    const plan = r.chance(0.7)
      ? { answers: [{ via: 'never' }], rest: 'same', mock: { mode: 'never' } }
      : { answers: [{ via: 'late', ms: r.int(1100, 1400), res: successRes(r) }], rest: 'same', mock: { mode: 'never' } };
    return { ...base, op: 'request', client, args: maybeMutated(r, requestTemplate(r, { slow: true }), 0.3), plan };
  }
  if (lane === 'emulator') {
    const args = maybeMutated(r, { ...requestTemplate(r), path: r.pick(['/api/test', '/api/home/init', '/api/order/list', '/api/test?q=1']) }, 0.6);
    const fault = r.chance(0.3) ? r.pick([{ kind: 'status', status: r.pick([429, 500, 503]) }, { kind: 'malformed', count: 10 }, { kind: 'reset' }, { kind: 'delay', delayMs: r.int(1, 30) }]) : undefined;
    return { ...base, op: 'request', client: 'cloud', args, ...(fault ? { fault } : {}) };
  }
  const op = r.weighted([[80, 'request'], [4, 'setUser'], [4, 'invalidate'], [4, 'socket'], [3, 'dropPending'], [3, 'onSync'], [3, 'watch']]);
  const client = r.pick(['cloud', 'http', 'mock']);
  switch (op) {
    case 'request': {
      const plan = platformPlan(r);
      const state = r.weighted([[92, {}], [5, { offline: true }], [3, { hidden: true }]]);
      return { ...base, op, client, args: maybeMutated(r, requestTemplate(r), 0.7), plan, ...state };
    }
    case 'setUser':
      return { ...base, op, client, args: r.chance(0.5) ? r.pick(['u-1', 'u-2', null, '', '\uD800']) : hostile(r, 'u-1') };
    case 'invalidate':
      return { ...base, op, client, args: maybeMutated(r, r.pick(['/fuzz/', '/fuzz/cached/x', { tag: 't1' }]), 0.7) };
    case 'socket': {
      // A mock socket echoes what it is sent: frames of mp-request's come back as a service's pushes
      // (sent once it is open, and closed once the echo had time to arrive).
      const pushed = r.chance(0.3);
      const args = pushed ? { route: 'mock', path: r.pick(['/', '/live']) } : maybeMutated(r, socketTemplate(r), 0.7);
      return { ...base, op, client, args, send: pushed ? r.pick(PUSHED) : r.chance(0.5) ? hostile(r, 'hello') : 'hello', linger: pushed };
    }
    case 'watch': {
      const query = { path: r.pick(['/fuzz/cached/x', '/fuzz/cached/y', '/fuzz/a']), ...(r.chance(0.3) ? { cache: { ttlMs: r.int(1, 60_000), private: r.chance(0.3) } } : {}) };
      return { ...base, op, client, args: maybeMutated(r, query, 0.5), plan: platformPlan(r), listener: r.chance(0.9) ? { $: 'fn', ret: U } : hostile(r, undefined), wait: r.chance(0.5) };
    }
    case 'dropPending':
      return { ...base, op, client, args: r.chance(0.5) ? r.pick([U, 'u-1', null]) : hostile(r, 'u-1') };
    default:
      return { ...base, op: 'onSync', client, args: r.chance(0.3) ? { $: 'fn', ret: U } : hostile(r, undefined) };
  }
}
