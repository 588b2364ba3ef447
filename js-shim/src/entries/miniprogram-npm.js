/**
 * Public entry of the mini-program build in the npm package (its `miniprogram` folder, which 构建 npm
 * copies to miniprogram_npm/mp-request/): the miniprogram entry with the wasm looked for there.
 */
import { createClientWith } from '../client.js';
import { miniprogramRuntime, NPM_WASM_PATH } from '../runtimes/miniprogram.js';

export { RequestError } from '../request-error.js';
export { createAbortController } from '../abort.js';
export { NPM_WASM_PATH as DEFAULT_WASM_PATH };

/** @type {import('../client.js').Runtime} */
const runtime = { ...miniprogramRuntime, defaultWasmPath: NPM_WASM_PATH };

/**
 * Creates a client. Rejects with a `RequestError` of kind `invalid` when an
 * option is wrong or the wasm cannot be loaded.
 * @param {import('../../types').ClientOptions} options
 * @returns {Promise<import('../../types').Client>}
 */
export function createClient(options) {
  return createClientWith(runtime, options);
}
