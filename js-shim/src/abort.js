/**
 * An AbortController for runtimes without one (mini-program devices): the
 * part of the interface `client.request({ signal })` uses.
 */

/**
 * @returns {{ signal: import('../types').AbortSignalLike, abort(reason?: unknown): void }}
 */
export function createAbortController() {
  /** @type {Set<() => void>} */
  const listeners = new Set();
  const signal = {
    aborted: false,
    /** @type {unknown} */
    reason: undefined,
    /** @param {string} type @param {() => void} listener */
    addEventListener(type, listener) {
      if (type === 'abort') listeners.add(listener);
    },
    /** @param {string} type @param {() => void} listener */
    removeEventListener(type, listener) {
      if (type === 'abort') listeners.delete(listener);
    },
  };
  return {
    signal,
    abort(reason) {
      if (signal.aborted) return;
      signal.aborted = true;
      signal.reason = reason;
      for (const listener of [...listeners]) listener();
    },
  };
}
