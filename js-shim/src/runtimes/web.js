/** The browser runtime (web admin): wasm fetched next to the module, HTTP over fetch. */
import { createFetchAdapter } from '../adapters/fetch.js';

/** @type {import('../client.js').Runtime} */
export const webRuntime = {
  defaultWasmPath: new URL('./mp_request.wasm', import.meta.url).href,
  async instantiate(path, imports) {
    const { instance } = await WebAssembly.instantiateStreaming(fetch(path), /** @type {any} */ (imports));
    return instance.exports;
  },
  platform: () => ({ hasCloud: false, device: 'browser' }),
  adapters: () => ({ http: createFetchAdapter() }),
  watchNetwork(onChange) {
    const online = () => onChange(true);
    const offline = () => onChange(false);
    addEventListener('online', online);
    addEventListener('offline', offline);
    if (typeof navigator !== 'undefined' && navigator.onLine === false) onChange(false);
    return () => {
      removeEventListener('online', online);
      removeEventListener('offline', offline);
    };
  },
};
