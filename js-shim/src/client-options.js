/**
 * `createClient`'s options, read once. The engine validates the copy and
 * the shim uses the same copy (`wasmPath`, `debug`, `onSync`, `header`, the
 * mock routes): a getter that throws or changes its answer between two
 * readings cannot make what was validated differ from what is used, and
 * whatever the reading throws becomes an `invalid` error naming the option.
 */
import { describe } from './report.js';
import { invalidError } from './request-error.js';

/**
 * A copy of the options' own string keys, with `mock` and its routes copied
 * too (the mock adapter reads them at every request). What is no object is
 * returned as it is: the engine names it.
 * @param {unknown} options
 * @returns {unknown}
 */
export function snapshotOptions(options) {
  if (!isRecord(options, 'options')) return options;
  const copy = copyOwn(options, 'options', '');
  if (isRecord(copy.mock, 'mock')) {
    const mock = copyOwn(copy.mock, 'mock', 'mock.');
    if (isArray(mock.routes, 'mock.routes')) mock.routes = copyRoutes(mock.routes);
    copy.mock = mock;
  }
  return copy;
}

/**
 * `wasmPath` is checked here because the engine that validates everything
 * else cannot exist before the wasm is loaded.
 * @param {unknown} options A snapshot.
 * @param {string} fallback
 * @returns {string}
 */
export function readWasmPath(options, fallback) {
  // Not a snapshot when the options are no plain object (an array, a Proxy of one): read with care.
  const value = options !== null && typeof options === 'object' ? read(() => /** @type {any} */ (options).wasmPath, 'wasmPath') : undefined;
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value === '') {
    throw invalidError(`\`wasmPath\` must be a non-empty string, got ${typeof value}`);
  }
  return value;
}

/** The most mock routes copied (the engine refuses more). */
const MAX_ROUTES_COPIED = 1000;

/**
 * @param {any[]} routes
 * @returns {unknown[]}
 */
function copyRoutes(routes) {
  /** @type {unknown[]} */
  const out = [];
  const length = read(() => routes.length, 'mock.routes');
  // Past the engine's limit on list options (core::limits::MAX_LIST_ITEMS):
  // not copied (a length of 2 ** 32 - 1 would loop for minutes); the engine names it.
  if (!(length >= 0 && length <= MAX_ROUTES_COPIED)) return routes;
  for (let i = 0; i < length; i += 1) {
    const name = `mock.routes[${i}]`;
    const route = read(() => routes[i], name);
    out.push(isRecord(route, name) ? copyOwn(route, name, `${name}.`) : route);
  }
  return out;
}

/**
 * The string-keyed properties of `value`, each read once. Its own keys go
 * in as own properties (`__proto__` too), so the engine sees the same keys
 * (it names unknown own ones); inherited ones (options made with
 * `Object.create(defaults)`, a route's class methods) go in the copy's
 * prototype, where the engine and the shim read them as before.
 * @param {object} value
 * @param {string} name For errors.
 * @param {string} prefix Put before a key's name in errors.
 * @returns {Record<string, any>}
 */
function copyOwn(value, name, prefix) {
  const keys = read(() => Reflect.ownKeys(value), name, 'its keys threw');
  /** @type {Record<string, any>} */
  const copy = Object.create(inherited(value, new Set(keys), name, prefix));
  for (const key of keys) {
    if (typeof key !== 'string') continue;
    const v = read(() => /** @type {any} */ (value)[key], `${prefix}${key}`);
    Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/**
 * The string-keyed properties `value` inherits (not shadowed by `own`), read
 * once through `value`, up to the root prototype (Object.prototype of any
 * realm), leaving out `constructor`.
 * @param {object} value @param {Set<string | symbol>} own @param {string} name @param {string} prefix
 * @returns {Record<string, any>}
 */
function inherited(value, own, name, prefix) {
  /** @type {Record<string, any>} */
  const out = {};
  const seen = new Set(own);
  let proto = read(() => Object.getPrototypeOf(value), name, 'its prototype threw');
  while (proto !== null && read(() => Object.getPrototypeOf(proto), name, 'its prototype threw') !== null) {
    const from = proto;
    for (const key of read(() => Reflect.ownKeys(from), name, 'its keys threw')) {
      if (typeof key !== 'string' || key === 'constructor' || seen.has(key)) continue;
      seen.add(key);
      out[key] = read(() => /** @type {any} */ (value)[key], `${prefix}${key}`);
    }
    proto = read(() => Object.getPrototypeOf(from), name, 'its prototype threw');
  }
  return out;
}

/**
 * An object that is no array (a revoked Proxy throws even here).
 * @param {unknown} value @param {string} name
 * @returns {value is Record<string, any>}
 */
function isRecord(value, name) {
  return value !== null && typeof value === 'object' && !isArray(value, name);
}

/** @param {unknown} value @param {string} name @returns {value is any[]} */
function isArray(value, name) {
  return read(() => Array.isArray(value), name, 'it threw');
}

/**
 * `get()`, or an `invalid` error naming `name` with what it threw.
 * @template T
 * @param {() => T} get @param {string} name
 * @returns {T}
 */
function read(get, name, how = 'its getter threw') {
  try {
    return get();
  } catch (error) {
    throw invalidError(`\`${name}\` could not be read (${how}: ${describe(error)})`, error);
  }
}
