/** Public entry of the miniprogram build. */
import { createClientWith } from '../client.js';
import { miniprogramRuntime } from '../runtimes/miniprogram.js';

export { RequestError } from '../request-error.js';
export { createAbortController } from '../abort.js';
export { DEFAULT_WASM_PATH } from '../runtimes/miniprogram.js';

/**
 * Creates a client. Rejects with a `RequestError` of kind `invalid` when an
 * option is wrong or the wasm cannot be loaded.
 * @param {import('../../types').ClientOptions} options
 * @returns {Promise<import('../../types').Client>}
 */
export function createClient(options) {
  return createClientWith(miniprogramRuntime, options);
}
