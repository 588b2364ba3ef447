/**
 * The mini-program runtime: wasm through `WXWebAssembly.instantiate(path)`
 * (a path inside the code package, no URL, no bytes), calls through `wx`.
 */
import { createCloudAdapter } from '../adapters/cloud.js';
import { createWxRequestAdapter } from '../adapters/wx-request.js';

/** Where `createClient` looks for the wasm unless `wasmPath` says otherwise. */
export const DEFAULT_WASM_PATH = '/utils/mp-request/mp_request.wasm.br';

/** @type {import('../client.js').Runtime} */
export const miniprogramRuntime = {
  defaultWasmPath: DEFAULT_WASM_PATH,
  instantiate(path, imports) {
    if (typeof WXWebAssembly === 'undefined') {
      return Promise.reject(new Error('WXWebAssembly is unavailable (base library 2.13.0 or later is required)'));
    }
    return WXWebAssembly.instantiate(path, /** @type {any} */ (imports)).then(exportsOf);
  },
  platform() {
    const cloud = typeof wx !== 'undefined' ? wx.cloud : undefined;
    return { hasCloud: Boolean(cloud && typeof cloud.callContainer === 'function') };
  },
  adapters(cloudConfig) {
    return { cloud: createCloudAdapter(wx, cloudConfig), http: createWxRequestAdapter(wx) };
  },
};

/**
 * Devices resolve `{ instance, module }`; the typings say `Instance`. Accept
 * both, by shape: `WXWebAssembly.Instance` may be undefined (iOS), so no
 * `instanceof`.
 * @param {any} result
 * @returns {Record<string, any>}
 */
export function exportsOf(result) {
  const instance = result && result.instance && result.instance.exports ? result.instance : result;
  if (!instance || !instance.exports) throw new Error('WXWebAssembly.instantiate resolved without exports');
  return instance.exports;
}
