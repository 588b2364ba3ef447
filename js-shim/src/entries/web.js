/** Public entry of the web build. */
import { createClientWith } from '../client.js';
import { webRuntime } from '../runtimes/web.js';

export { RequestError } from '../request-error.js';
export { createAbortController } from '../abort.js';

/**
 * Creates a client. Rejects with a `RequestError` of kind `invalid` when an
 * option is wrong or the wasm cannot be loaded.
 * @param {import('../../types').ClientOptions} options
 * @returns {Promise<import('../../types').Client>}
 */
export function createClient(options) {
  return createClientWith(webRuntime, options);
}
