/**
 * What the platform answered to one attempt, made into facts the engine and
 * the caller can rely on. `wx.request`, `callContainer`, `fetch` or a mock
 * handler may hand over anything: a status that is a string, a BigInt or an
 * object whose valueOf throws, headers behind a Proxy whose traps throw, no
 * object at all. Nothing here throws and nothing here calls the app's code
 * twice: what cannot be read becomes a failed attempt ("malformed
 * response"), which the engine classifies like any other failure.
 */
import { describe } from './report.js';

/** @typedef {import('./client.js').Outcome} Outcome */

/** A status given as text by a platform that should have given a number ('200'): read as that number. */
const STATUS_TEXT = /^[1-5][0-9][0-9]$/;

/**
 * The outcome of an answer (what `success` got, or what a mock route answered).
 * @param {unknown} res
 * @param {string} api Names the failure as the platform would ('request', 'cloud.callContainer', 'mock').
 * @param {{ defaultStatus?: number, fault?: boolean, text?: 'any' | 'json' }} [how] `defaultStatus` when
 *   none is given (mock routes); `fault`: a malformed answer is the app's code's fault (a mock handler),
 *   never retried; `text`: `data` is the body as text, to be parsed here: any body that parses ('any',
 *   as wx.request's default `dataType: 'json'` does; asked for with `dataType: 'text'`), or only a body
 *   whose content type says JSON ('json', the fetch builds). Without it, `data` is a value (a mock's).
 * @returns {Outcome}
 */
export function answered(res, api, how = {}) {
  try {
    if (res === null || typeof res !== 'object') return malformed(api, `got ${shown(res)} instead of an object`, how.fault);
    const r = /** @type {any} */ (res);
    const given = r.statusCode;
    const statusCode = statusOf(given === undefined ? how.defaultStatus : given);
    if (statusCode === undefined) return malformed(api, `status ${shown(given)}`, how.fault);
    const header = headerOf(r.header);
    const callID = r.callID;
    /** @type {Outcome} */
    const outcome = { ok: true, statusCode, data: r.data, header };
    if (typeof outcome.data === 'string' && (how.text === 'any' || (how.text === 'json' && isJson(header)))) decodeInto(outcome);
    if (typeof callID === 'string') outcome.callID = callID;
    return outcome;
  } catch (error) {
    return malformed(api, `it could not be read (${describe(error)})`, how.fault);
  }
}

/**
 * The outcome of a platform failure (what `fail` got): its errMsg, errCode
 * and errno when they are what they should be, never a throw.
 * @param {unknown} err
 * @param {string} api
 * @returns {Outcome}
 */
export function failed(err, api) {
  const none = `${api}:fail the platform gave no reason`;
  try {
    if (err === null || typeof err !== 'object') return { ok: false, errMsg: typeof err === 'string' && err ? err : none };
    const e = /** @type {any} */ (err);
    const errMsg = e.errMsg;
    return { ok: false, errMsg: typeof errMsg === 'string' && errMsg ? errMsg : none, errCode: codeOf(e.errCode), errno: codeOf(e.errno) };
  } catch (error) {
    return { ok: false, errMsg: `${api}:fail its reason could not be read (${describe(error)})` };
  }
}

/**
 * `value[key]` of something the platform handed over (an event, an answer),
 * or undefined: no object, or a getter that throws.
 * @param {unknown} value @param {string} key
 * @returns {any}
 */
export function field(value, key) {
  try {
    return value !== null && typeof value === 'object' ? /** @type {any} */ (value)[key] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {string} api @param {string} why @param {boolean | undefined} fault
 * @returns {Outcome}
 */
function malformed(api, why, fault) {
  return { ok: false, errMsg: `${api}:fail malformed response: ${why}`, fault: fault === true };
}

/**
 * An HTTP status: an integer from 100 to 599, given as a number (or as its
 * three digits); anything else (BigInt, NaN, an object) is none.
 * @param {unknown} value
 * @returns {number | undefined}
 */
function statusOf(value) {
  const n = typeof value === 'string' && STATUS_TEXT.test(value) ? Number(value) : value;
  return typeof n === 'number' && n >= 100 && n <= 599 && n % 1 === 0 ? n : undefined;
}

/**
 * A fresh plain object of the header's own string keys and string values
 * (numbers and booleans written as JS writes them; anything else dropped).
 * A header that is no object, or throws while it is read, is dropped whole.
 * @param {unknown} value
 * @returns {Record<string, string>}
 */
function headerOf(value) {
  /** @type {Record<string, string>} */
  const out = {};
  if (value === null || typeof value !== 'object') return out;
  try {
    if (Array.isArray(value)) return out;
    for (const key of Object.keys(value)) {
      const v = /** @type {any} */ (value)[key];
      if (typeof v === 'string') out[key] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
    }
  } catch {
    return {};
  }
  return out;
}

/**
 * Parses a text body as `wx.request`'s default `dataType: 'json'` does (any
 * body that parses, whatever its content type; otherwise the text), and
 * notes the fact the engine judges: the content type says JSON and the body
 * did not parse (cut off on the way). Asking the platform for text and
 * parsing here is what tells a body that failed to parse from a JSON string.
 * An empty body is no body.
 * @param {Outcome} outcome Its `data` a string.
 */
function decodeInto(outcome) {
  const text = /** @type {string} */ (outcome.data);
  if (text === '') return;
  try {
    outcome.data = JSON.parse(text);
  } catch {
    if (isJson(/** @type {Record<string, string>} */ (outcome.header))) outcome.bodyNotJson = true;
  }
}

/**
 * The content type says JSON (`application/json`, `text/json`, `...+json`), whatever the case.
 * @param {Record<string, string>} header
 */
function isJson(header) {
  for (const key in header) {
    if (key.length === 12 && key.toLowerCase() === 'content-type') {
      const type = header[key].split(';')[0].trim().toLowerCase();
      return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
    }
  }
  return false;
}

/**
 * errCode / errno as the engine reads them (a number, or its digits); anything else dropped.
 * @param {unknown} value
 * @returns {number | undefined}
 */
function codeOf(value) {
  return typeof value === 'number' || typeof value === 'string' ? /** @type {any} */ (value) : undefined;
}

/**
 * A value named for a developer without running any of its code (no
 * toString, no valueOf, no getters).
 * @param {unknown} value
 */
function shown(value) {
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'string':
      return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);
    case 'bigint':
      return `${String(value)}n (a BigInt)`;
    case 'undefined':
      return 'none';
    case 'object':
      return value === null ? 'null' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}
