/**
 * Loads the two wasm modules once per bundle: the request engine (`Engine`),
 * which `createClient` needs, and the socket engine (`Sockets`), loaded on
 * the first `client.socket()` from next to it (its glue comes with the
 * sockets' JS, sockets-chunk.js). How the bytes are instantiated is the
 * runtime's business (WXWebAssembly, WebAssembly + fs, fetch); this file only
 * wires each glue to its instance.
 */
// The generated glue (pkg/mp_request_bg.js), aliased by the build and typed by types/glue.d.ts.
import * as glue from 'mp-request-glue';

/** @typedef {import('mp-request-glue').Engine} Engine */
/** @typedef {typeof import('mp-request-glue').Engine} EngineClass */
/** @typedef {typeof import('mp-request-sockets-glue').Sockets} SocketsClass */

/**
 * @typedef {(path: string, imports: Record<string, object>) => Promise<Record<string, any>>} Instantiate
 *   Resolves to the instance's exports.
 */

/** @type {Promise<EngineClass> | null} */
let loadingEngine = null;
/** @type {Promise<SocketsClass> | null} */
let loadingSockets = null;

/**
 * @template T
 * @param {Instantiate} instantiate
 * @param {string} path
 * @param {string} glueModule The module name the wasm imports its glue from.
 * @param {any} moduleGlue
 * @param {() => T} exported
 * @param {() => void} forget Called when the load failed: the next call tries again.
 * @returns {Promise<T>}
 */
function load(instantiate, path, glueModule, moduleGlue, exported, forget) {
  const loading = instantiate(path, { [glueModule]: moduleGlue }).then((exports) => {
    moduleGlue.__wbg_set_wasm(exports);
    if (typeof exports.__wbindgen_start === 'function') exports.__wbindgen_start();
    return exported();
  });
  // A failed load (wrong path) must not stick.
  loading.catch(forget);
  return loading;
}

/**
 * @param {Instantiate} instantiate
 * @param {string} path Where the runtime finds the request engine's wasm.
 * @returns {Promise<EngineClass>}
 */
export function loadEngine(instantiate, path) {
  if (!loadingEngine) {
    loadingEngine = load(instantiate, path, './mp_request_bg.js', glue, () => glue.Engine, () => {
      loadingEngine = null;
    });
  }
  return loadingEngine;
}

/**
 * @param {Instantiate} instantiate
 * @param {string} enginePath The request engine's wasm: the socket engine's is next to it (`socketsPath`).
 * @param {typeof import('mp-request-sockets-glue')} socketsGlue Its glue (`sockets-chunk.js`).
 * @returns {Promise<SocketsClass>}
 */
export function loadSockets(instantiate, enginePath, socketsGlue) {
  if (!loadingSockets) {
    loadingSockets = load(instantiate, socketsPath(enginePath), './mp_request_sockets_bg.js', socketsGlue, () => socketsGlue.Sockets, () => {
      loadingSockets = null;
    });
  }
  return loadingSockets;
}

/**
 * Where the socket engine's wasm is, given the request engine's: the same
 * folder and name with `_sockets` before `.wasm` (`mp_request.wasm.br` →
 * `mp_request_sockets.wasm.br`).
 * @param {string} enginePath
 */
export function socketsPath(enginePath) {
  const at = enginePath.lastIndexOf('.wasm');
  return at < 0 ? `${enginePath}_sockets` : `${enginePath.slice(0, at)}_sockets${enginePath.slice(at)}`;
}
