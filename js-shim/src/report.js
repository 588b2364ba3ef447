/**
 * How the shim tells a developer what went wrong: the text of anything
 * thrown, and console lines. Neither ever throws: they run where a throw
 * would land in a timer or in the platform's callbacks (a value may be a
 * Proxy or have a toString that throws; an app may wrap the console).
 */

/**
 * Anything thrown or handed over as a failure, as text for a developer.
 * @param {unknown} error
 * @returns {string}
 */
export function describe(error) {
  try {
    if (error && typeof error === 'object') {
      const e = /** @type {any} */ (error);
      return String(e.errMsg || e.message || e);
    }
    return String(error);
  } catch {
    return 'something that cannot be described';
  }
}

/**
 * One console line, prefixed `[mp-request]`.
 * @param {'log' | 'warn' | 'error'} level
 * @param {string} line
 * @param {unknown[]} more Passed along as they are (an error's stack).
 */
export function say(level, line, ...more) {
  try {
    console[level](`[mp-request] ${line}`, ...more);
  } catch {
    // A console that throws has nowhere to report to.
  }
}
