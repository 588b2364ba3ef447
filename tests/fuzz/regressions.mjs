// Named regression cases: minimal reproducers of what the fuzzer found, as
// cases (see generate.mjs). Each runs as its own test in tests/js/fuzz.test.mjs.
/** @type {Array<{ name: string, item: string, case: Omit<import('./generate.mjs').Case, 'seed' | 'index'> }>} */
export const REGRESSIONS = [];
