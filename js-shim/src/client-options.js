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
  const value = options !== null && typeof options === 'object' ? /** @type {any} */ (options).wasmPath : undefined;
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value === '') {
    throw invalidError(`\`wasmPath\` must be a non-empty string, got ${typeof value}`);
  }
  return value;
}

/**
 * @param {any[]} routes
 * @returns {unknown[]}
 */
function copyRoutes(routes) {
  /** @type {unknown[]} */
  const out = [];
  const length = read(() => routes.length, 'mock.routes');
  for (let i = 0; i < length; i += 1) {
    const name = `mock.routes[${i}]`;
    const route = read(() => routes[i], name);
    out.push(isRecord(route, name) ? copyOwn(route, name, `${name}.`) : route);
  }
  return out;
}

/**
 * The own string-keyed properties of `value`, each read once. Keys go in
 * as own properties (`__proto__` too), so the engine sees the same keys.
 * @param {object} value
 * @param {string} name For errors.
 * @param {string} prefix Put before a key's name in errors.
 * @returns {Record<string, any>}
 */
function copyOwn(value, name, prefix) {
  const keys = read(() => Reflect.ownKeys(value), name, 'its keys threw');
  /** @type {Record<string, any>} */
  const copy = {};
  for (const key of keys) {
    if (typeof key !== 'string') continue;
    const v = read(() => /** @type {any} */ (value)[key], `${prefix}${key}`);
    Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return copy;
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
