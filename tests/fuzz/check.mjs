// The invariants every case must keep, and the tags that say what a case
// threw at the bundle (a failure is matched to KNOWN_OPEN by its invariant
// and its case's tags).
import { types } from 'node:util';

/** The kinds a RequestError may have (README, "Errors"). */
export const KINDS = ['network', 'timeout', 'service', 'init', 'http', 'unauthorized', 'rate_limited', 'offline', 'cancelled', 'invalid'];

/** What a wasm trap looks like once it reaches JS, raw or wrapped in a RequestError's detail. */
const TRAP = /unreachable|memory access out of bounds|RuntimeError|null function or function signature mismatch|call stack exhausted/i;

/**
 * @typedef {object} Failure
 * @property {string} invariant A stable name: raw-error, bad-kind, wasm-trap, contract, broken-json-resolved,
 *   oversize-accepted (a request over any sane size was sent), fidelity, hang, uncaught, unhandled, callback-threw, still-serves, memory, stack (the
 *   wasm stack pointer moved), unwound (a JS exception went through wasm frames).
 * @property {string} message
 * @property {number} [index] The case.
 */

/** @param {unknown} error @returns {boolean} a wasm trap, from any realm */
export function isTrap(error) {
  return TRAP.test(describe(error));
}

/** @param {unknown} value @returns {string} */
export function describe(value) {
  try {
    if (value && typeof value === 'object') {
      const v = /** @type {any} */ (value);
      return `${v.name || 'object'}: ${String(v.message ?? v.errMsg ?? '')}`.slice(0, 300);
    }
    return String(value).slice(0, 300);
  } catch {
    return 'something that cannot be described';
  }
}

/** A string with lone surrogates made well-formed (U+FFFD), as WHATWG encoders write it. */
const wellFormed = (s) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/**
 * A rejection or a throw: a RequestError of a known kind, never a raw error or a trap.
 * @param {any} mp the bundle's exports (RequestError.is checks by brand, across realms)
 * @param {unknown} error
 * @returns {Failure[]}
 */
export function checkError(mp, error) {
  let isRequestError = false;
  try {
    isRequestError = !types.isProxy(error) && mp.RequestError.is(error);
  } catch {
    // A revoked Proxy thrown as it was.
  }
  if (!isRequestError) {
    const text = describe(error);
    return [{ invariant: TRAP.test(text) ? 'wasm-trap' : 'raw-error', message: `not a RequestError: ${text}` }];
  }
  const e = /** @type {any} */ (error);
  if (TRAP.test(`${e.detail} ${e.message}`)) return [{ invariant: 'wasm-trap', message: `${e.kind}: ${e.detail}`.slice(0, 300) }];
  if (!KINDS.includes(e.kind)) return [{ invariant: 'bad-kind', message: `RequestError of kind ${String(e.kind)}` }];
  return [];
}

/**
 * A response as the contract says: statusCode a finite number, header a plain object of strings.
 * @param {any} res
 * @returns {Failure[]}
 */
export function checkResponse(res) {
  const bad = (message) => [{ invariant: 'contract', message }];
  if (res === null || typeof res !== 'object') return bad(`resolved with ${typeof res}, not a response`);
  if (typeof res.statusCode !== 'number' || !Number.isFinite(res.statusCode)) return bad(`statusCode ${describe(res.statusCode)} (${typeof res.statusCode})`);
  const h = res.header;
  if (h === null || typeof h !== 'object' || Array.isArray(h) || types.isProxy(h)) return bad(`header is ${types.isProxy(h) ? 'a Proxy' : describe(h)}`);
  const proto = Object.getPrototypeOf(h);
  if (proto !== null && Object.getPrototypeOf(proto) !== null) return bad('header is not a plain object');
  for (const key of Reflect.ownKeys(h)) {
    const d = Object.getOwnPropertyDescriptor(h, key);
    if (typeof key !== 'string' || !d || !('value' in d) || typeof d.value !== 'string') {
      return bad(`header ${String(key)} is ${d && 'value' in d ? typeof d.value : 'an accessor'}, not a string`);
    }
  }
  return [];
}

/**
 * What a case threw at the bundle, as tags: the hostile values in its
 * arguments (plain names) and in the platform's answers (`answer-`),
 * the mock handler (`mock-`) and storage (`storage-`).
 * @param {import('./generate.mjs').Case} c
 * @returns {Set<string>}
 */
export function tagsOf(c) {
  const tags = new Set([`op-${c.op}`, `lane-${c.lane}`]);
  walk(c.args, '', tags, []);
  if (c.op === 'socket') walk(c.send, '', tags, []);
  const plan = c.plan;
  if (plan) {
    for (const a of plan.answers) {
      tags.add(`answer-via-${a.via}`);
      if (a.res === null || (a.res && a.res.$ === 'undefined')) tags.add('answer-null');
      walk(a.res, 'answer-', tags, []);
    }
    if (plan.mock && (c.client === 'mock' || c.lane === 'scratch')) {
      tags.add(`mock-${plan.mock.mode}`);
      if (plan.mock.v === null || (plan.mock.v && plan.mock.v.$ === 'undefined')) tags.add('mock-null');
      walk(plan.mock.v, 'mock-', tags, []);
    }
    for (const v of Object.values(plan.storage || {})) {
      tags.add('storage-garbage');
      walk(v, 'storage-', tags, []);
    }
    if (plan.brokenJson) tags.add('broken-json');
    if (plan.storageWrites) tags.add('storage-writes-throw');
  }
  if (c.offline) tags.add('offline');
  if (c.hidden) tags.add('hidden');
  const reads = ['revoked', 'proxy-throw', 'bad-array', 'throw-get', 'valueOf-throw', 'toJSON-throw', 'fn-throws'];
  for (const prefix of ['', 'answer-', 'mock-', 'storage-']) {
    if (reads.some((t) => tags.has(prefix + t))) tags.add(`${prefix}throws-on-read`);
  }
  return tags;
}

/** Adds the tags of a value spec found at key path `at`. */
function walk(spec, prefix, tags, at) {
  if (typeof spec === 'string') {
    if (/[\uD800-\uDFFF]/.test(spec) && wellFormed(spec) !== spec) tags.add(`${prefix}lone-surrogate`);
    return;
  }
  if (spec === null || typeof spec !== 'object') return;
  if (Array.isArray(spec)) {
    spec.forEach((s, i) => walk(s, prefix, tags, [...at, i]));
    return;
  }
  const add = (t) => tags.add(prefix + t);
  const where = at[0];
  switch (spec.$) {
    case undefined:
      for (const [k, v] of Object.entries(spec)) walk(v, prefix, tags, [...at, k]);
      return;
    case 'proxy':
      add(`proxy-${spec.mode}`);
      // A Proxy needs an object: realm.js wraps `{}` instead of a primitive target.
      if (spec.target !== null && typeof spec.target === 'object' && !['repeat', 'num', 'bigint', 'symbol', 'undefined'].includes(spec.target.$)) {
        walk(spec.target, prefix, tags, at);
      }
      return;
    case 'repeat':
      if (/[\uD800-\uDFFF]/.test(spec.s)) add('lone-surrogate');
      if (spec.n * String(spec.s).length >= 1_000_000) {
        add('huge');
        if (where === 'header' || where === 'path') add(`huge-${where}`);
        if (where === 'data') add('huge-data');
      }
      return;
    case 'many':
      if (spec.n >= 1000) add('many');
      if (where === 'header' && at.length === 1 && spec.n >= 10_000) add('huge-header');
      walk(spec.v, prefix, tags, at);
      return;
    case 'signal':
      if (spec.add === 'throw') add('signal-add-throws');
      if (spec.remove === 'throw') add('signal-remove-throws');
      if (spec.add === 'missing' || spec.remove === 'missing') add('signal-missing');
      return;
    case 'fn':
      if (spec.throws) add('fn-throws');
      walk(spec.ret, prefix, tags, at);
      return;
    case 'valueOf':
      add(`valueOf-${spec.mode}`);
      return;
    case 'toJSON':
      add(`toJSON-${spec.mode}`);
      return;
    case 'obj':
      if ('sym' in spec) add('symbol-key');
      if ('proto' in spec) add('proto-key');
      for (const [k, v] of spec.e || []) walk(v, prefix, tags, [...at, k]);
      return;
    case 'badArray':
      add('bad-array');
      return;
    case 'deep':
      if (spec.n >= 1000) add('deep');
      return;
    case 'promise':
      add('promise');
      // What an answer or a handler resolves to counts; a promise the app passes as data is never awaited.
      if (prefix !== '') walk(spec.v, prefix, tags, at);
      return;
    default:
      add(spec.$);
      for (const v of Object.values(spec)) if (v && typeof v === 'object') walk(v, prefix, tags, at);
  }
}

/**
 * Headers and path with lone surrogates, as given (when they are plain strings
 * in the spec), against what the platform received first: the same text, or
 * with lone surrogates as U+FFFD (as WHATWG encoders write them).
 * @param {any} args the request options spec
 * @param {Array<{ path?: string, url?: string, header?: Record<string, unknown> }>} sent what the platform saw
 * @returns {Failure[]}
 */
export function checkFidelity(args, sent) {
  // The request's own first call: not one a `reenter` value made on its own.
  const first = sent.find((call) => !String(call.path ?? call.url ?? '').includes('/fuzz/reenter'));
  if (!args || typeof args !== 'object' || '$' in args || !first) return [];
  const failures = [];
  const path = args.path;
  const target = String(first.path ?? first.url ?? '');
  if (typeof path === 'string' && /[\uD800-\uDFFF]/.test(path) && !target.includes(path) && !target.includes(wellFormed(path))) {
    failures.push({ invariant: 'fidelity', message: `path ${JSON.stringify(path)} was sent as ${JSON.stringify(target.slice(0, 200))}` });
  }
  const header = args.header;
  if (header && typeof header === 'object' && !('$' in header) && first.header) {
    for (const [name, value] of Object.entries(header)) {
      if (typeof value !== 'string' || !/[\uD800-\uDFFF]/.test(value + name)) continue;
      const key = Object.keys(first.header).find((k) => k.toLowerCase() === name.toLowerCase() || k.toLowerCase() === wellFormed(name).toLowerCase());
      const got = key === undefined ? undefined : first.header[key];
      if (got !== value && got !== wellFormed(value)) {
        failures.push({ invariant: 'fidelity', message: `header ${JSON.stringify(name)}: ${JSON.stringify(value)} was sent as ${key === undefined ? 'nothing' : JSON.stringify(got)}` });
      }
    }
  }
  return failures;
}

/** Sizes no request may be sent with (well above any sane limit): path with query, headers in all, header count. */
const SENT_LIMITS = { path: 1_000_000, headerBytes: 1_000_000, headerCount: 10_000 };

/**
 * What the platform got stays within sizes a request may have: megabytes of
 * path, query or headers are refused as invalid before they are copied or sent.
 * @param {Array<{ api: string, path?: unknown, url?: unknown, header?: unknown }>} sent
 * @returns {Failure[]}
 */
export function checkSentSizes(sent) {
  for (const call of sent) {
    const target = typeof call.url === 'string' ? call.url : typeof call.path === 'string' ? call.path : '';
    let count = 0;
    let bytes = 0;
    if (call.header && typeof call.header === 'object') {
      for (const [k, v] of Object.entries(call.header)) {
        count += 1;
        bytes += k.length + (typeof v === 'string' ? v.length : 0);
      }
    }
    const over = target.length > SENT_LIMITS.path ? `a path of ${target.length} characters`
      : bytes > SENT_LIMITS.headerBytes ? `${bytes} characters of headers`
      : count > SENT_LIMITS.headerCount ? `${count} headers`
      : undefined;
    if (over) return [{ invariant: 'oversize-accepted', message: `${call.api} got ${over}: not refused as invalid` }];
  }
  return [];
}
