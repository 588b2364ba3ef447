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
// Fixed and removed, with the fuzzer's reproducer of each in regressions.mjs:
// - main 5574453 (0 matches in 60,000 cases): 17 (1) a throwing js-sys import
//   unwinding through wasm (js-import-throws-through-wasm); 17 (4) no size
//   limits (no-size-limits).
// - main 3afb0c8 (0 matches in 130,000 cases): 17 (2) signal-listener-throws;
//   17 (3) response-conversion-throws, response-contract; 17 (5)
//   lone-surrogates; 17 (6) createClient-raw-errors, adapter-callback-throws,
//   broken-json-success.
//
// An entry looks like this (see git history for the ones above):
//   { id: 'broken-json-success', item: '17 (6)', what: 'a 200 that says JSON with a broken body resolves',
//     match: (f, tags) => f.invariant === 'broken-json-resolved' }

/**
 * @typedef {object} KnownOpen
 * @property {string} id
 * @property {string} item Issue 17's item.
 * @property {string} what
 * @property {(f: import('./check.mjs').Failure, tags: Set<string>) => boolean} match
 */

/** @type {KnownOpen[]} */
export const KNOWN_OPEN = [];
