/**
 * Public entry of the mini-program build in the npm package (its `miniprogram` folder, which 构建 npm
 * copies to miniprogram_npm/mp-request/): the miniprogram entry with the wasm looked for there.
 */
import { createClientWith } from '../client.js';
import { miniprogramRuntime } from '../runtimes/miniprogram.js';

export { RequestError } from '../request-error.js';
export { createAbortController } from '../abort.js';

/**
 * Where 构建 npm puts the package when the package.json is in the mini-program root. `WXWebAssembly` takes
 * only absolute package paths and a module cannot learn its own path, so each build carries its default;
 * elsewhere (a subpackage's miniprogram_npm), pass `wasmPath`.
 */
export const DEFAULT_WASM_PATH = '/miniprogram_npm/mp-request/mp_request.wasm.br';

/** @type {import('../client.js').Runtime} */
const runtime = { ...miniprogramRuntime, defaultWasmPath: DEFAULT_WASM_PATH };

/**
 * Creates a client. Rejects with a `RequestError` of kind `invalid` when an
 * option is wrong or the wasm cannot be loaded.
 * @param {import('../../types').ClientOptions} options
 * @returns {Promise<import('../../types').Client>}
 */
export function createClient(options) {
  return createClientWith(runtime, options);
}
