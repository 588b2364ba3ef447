/**
 * Loads the wasm module once per bundle and hands out its `Engine` class.
 * How the bytes are instantiated is the runtime's business (WXWebAssembly,
 * WebAssembly + fs, fetch); this file only wires the glue to the instance.
 */
// The generated glue (pkg/mp_request_bg.js), aliased by the build and typed by types/glue.d.ts.
import * as glue from 'mp-request-glue';

/** @typedef {import('mp-request-glue').Engine} Engine */
/** @typedef {typeof import('mp-request-glue').Engine} EngineClass */

/** The module name the wasm imports its glue from. */
const GLUE_MODULE = './mp_request_bg.js';

/** @type {Promise<EngineClass> | null} */
let loading = null;

/**
 * @param {(path: string, imports: Record<string, object>) => Promise<Record<string, any>>} instantiate
 *   Resolves to the instance's exports.
 * @param {string} path Where the runtime finds the wasm.
 * @returns {Promise<EngineClass>}
 */
export function loadEngine(instantiate, path) {
  if (!loading) {
    loading = instantiate(path, { [GLUE_MODULE]: glue }).then((exports) => {
      glue.__wbg_set_wasm(exports);
      if (typeof exports.__wbindgen_start === 'function') exports.__wbindgen_start();
      return glue.Engine;
    });
    // A failed load (wrong path) must not stick: the next createClient retries.
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}
