/**
 * Plain request options, read once. The fast path hands the engine fresh
 * copies of what it read here (never the caller's objects, which a getter
 * could change between two reads), and a text that stands for all of it:
 * the key under which the shim remembers the engine's handle for the
 * request's cache entry. Same text, same options: the engine's verdict on
 * them (valid, cacheable, which key) holds for every request with that text.
 * Anything unusual (a getter that throws, a prototype of its own, a signal,
 * nested values where primitives belong) is `undefined`: the engine then
 * reads the caller's object itself and names what is wrong.
 */

const hasOwn = Object.prototype.hasOwnProperty;

/** Options besides path, method, data and header that may be copied here: primitive values. */
const PRIMITIVE_OPTIONS = ['timeoutMs', 'route', 'priority', 'idempotent', 'idempotencyKey', 'offline'];

/**
 * A string, a finite number or a boolean: what JSON writes exactly, so that
 * the text of a copy tells every copy apart.
 * @param {unknown} value @returns {value is string | number | boolean}
 */
const primitive = (value) => {
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && isFinite(/** @type {number} */ (value)));
};

/**
 * A plain object's own enumerable members as a fresh object, when every one
 * is primitive; otherwise undefined.
 * @param {any} value
 * @returns {Record<string, string | number | boolean> | undefined}
 */
export function flatRecord(value) {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  /** @type {Record<string, string | number | boolean>} */
  const copy = {};
  for (const name in value) {
    if (!hasOwn.call(value, name)) return undefined;
    const member = value[name];
    if (!primitive(member)) return undefined;
    copy[name] = member;
  }
  return copy;
}

/**
 * The options besides path, method, data and header, copied: primitives, and
 * `cache` as false, a string or a flat object. Undefined when any other key
 * (a signal, a retry object, an unknown key) or value is there.
 * @param {any} options
 * @returns {Record<string, unknown> | undefined}
 */
export function restOptions(options) {
  /** @type {Record<string, unknown>} */
  const copy = {};
  for (const name in options) {
    if (name === 'path' || name === 'method' || name === 'data' || name === 'header') continue;
    if (!hasOwn.call(options, name)) return undefined;
    const value = options[name];
    // An unknown key is refused by the engine whatever its value.
    if (value === undefined && (name === 'cache' || PRIMITIVE_OPTIONS.indexOf(name) >= 0)) continue;
    if (name === 'cache') {
      const cache = primitive(value) ? value : flatRecord(value);
      if (cache === undefined) return undefined;
      copy.cache = cache;
    } else if (PRIMITIVE_OPTIONS.indexOf(name) >= 0 && primitive(value)) {
      copy[name] = value;
    } else {
      return undefined;
    }
  }
  return copy;
}
