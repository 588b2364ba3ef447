// Failure categories that are known and being fixed (issue 17's items). A
// failure matching one is counted and reported apart, so the run stays green
// while saying what is still wrong. Remove an entry once its fix has landed:
// from then on such a failure fails the run (and its regression tests in
// tests/js/fuzz.test.mjs stop being TODO). `make fuzz` names the entries that
// matched nothing in its run: candidates for removal.
//
// Each `match` sees a failure ({ invariant, message }, see check.mjs) and the
// tags of the case it came from (tagsOf in check.mjs). Keep them narrow: a
// failure that only looks like a known one should stay new.
//
// Fixed and removed (main 5574453, 0 matches in 60,000 cases): 17 (1) a
// throwing js-sys import unwinding through wasm; 17 (4) no size limits.

/**
 * @typedef {object} KnownOpen
 * @property {string} id
 * @property {string} item Issue 17's item.
 * @property {string} what
 * @property {(f: import('./check.mjs').Failure, tags: Set<string>) => boolean} match
 */

/** Something in a platform answer (or a mock route's, which createClient's options give) throws when read. */
const answerThrowsOnRead = (tags) =>
  ['answer-throws-on-read', 'mock-throws-on-read', 'answer-valueOf-flip', 'mock-valueOf-flip'].some((t) => tags.has(t)) ||
  (tags.has('op-createClient') && tags.has('throws-on-read'));

/** @type {KnownOpen[]} */
export const KNOWN_OPEN = [
  {
    id: 'signal-listener-throws',
    item: '17 (2)',
    what: "a signal whose addEventListener or removeEventListener throws: request() rejects with the raw error, the started commands (the cloud init among them) never run, the caller never settles",
    match: (f, tags) =>
      (tags.has('signal-add-throws') || tags.has('signal-remove-throws')) &&
      (/EventListener threw/.test(f.message) || f.invariant === 'hang' || (f.invariant === 'still-serves' && /init did not finish/.test(f.message))),
  },
  {
    id: 'response-conversion-throws',
    item: '17 (3)',
    what: "a platform answer whose statusCode, header names, Retry-After or X-WX-OPENID throw on conversion: the report throws in a promise reaction (unhandled) and the request waits for the engine's guard timer",
    match: (f, tags) => f.invariant === 'unhandled' && answerThrowsOnRead(tags) && !/EventListener threw/.test(f.message),
  },
  {
    id: 'response-contract',
    item: '17 (3)',
    what: "a platform answer's statusCode ('200', 200n, an object) and header (a Proxy, non-string values) reach the caller as they came",
    match: (f) => f.invariant === 'contract',
  },
  {
    id: 'lone-surrogates',
    item: '17 (5)',
    what: "the bundle's UTF-8 encoder drops a lone high surrogate (and passes a lone low one): a header value or name is sent changed",
    match: (f) => f.invariant === 'fidelity',
  },
  {
    id: 'createClient-raw-errors',
    item: '17 (6)',
    what: 'createClient rejects with a raw TypeError/Error when an option getter throws or changes between reads (wasmPath, mock.routes, debug, onSync are read again by the shim)',
    match: (f) => f.invariant === 'raw-error' && f.message.startsWith('createClient:'),
  },
  {
    id: 'adapter-callback-throws',
    item: '17 (6)',
    what: "the wx.request / callContainer adapters' success and fail callbacks read fields of what the platform passed: null, undefined or a revoked Proxy throws back into wx, and the request waits for the guard timer",
    match: (f) => f.invariant === 'callback-threw' && /^(request|cloud\.callContainer) (success|fail)/.test(f.message),
  },
  {
    id: 'broken-json-success',
    item: '17 (6)',
    what: 'a 200 whose content-type says JSON and whose body is not JSON (truncated) resolves as a success; it should be a service error',
    match: (f) => f.invariant === 'broken-json-resolved',
  },
];
