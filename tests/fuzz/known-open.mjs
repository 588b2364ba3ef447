// Failure categories that are known and being fixed (issue 17's items). A
// failure matching one is counted and reported apart, so the run stays green
// while saying what is still wrong. Remove an entry once its fix has landed:
// from then on such a failure fails the run. `make fuzz` says which entries
// matched nothing (candidates for removal).
//
// Each `match` sees a failure ({ invariant, message }) and its case's tags
// (see tagsOf in check.mjs).

/**
 * @typedef {object} KnownOpen
 * @property {string} id
 * @property {string} item Where it is tracked.
 * @property {string} what
 * @property {(f: import('./check.mjs').Failure, tags: Set<string>) => boolean} match
 */

/** @type {KnownOpen[]} */
export const KNOWN_OPEN = [];
