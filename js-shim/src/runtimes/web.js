/** The browser runtime (web admin): wasm fetched next to the module, HTTP over fetch. */
import { createFetchAdapter } from '../adapters/fetch.js';
import * as socketsChunk from '../sockets-chunk.js';
import { webSocketTask } from './web-socket.js';

/** @type {import('../client.js').Runtime} */
export const webRuntime = {
  build: 'web',
  defaultWasmPath: new URL('./mp_request.wasm', import.meta.url).href,
  async instantiate(path, imports) {
    const { instance } = await WebAssembly.instantiateStreaming(fetch(path), /** @type {any} */ (imports));
    return instance.exports;
  },
  platform: () => ({ hasCloud: false, device: 'browser' }),
  adapters: () => ({ http: createFetchAdapter() }),
  storage: {
    load(key) {
      try {
        const text = localStorage.getItem(key);
        return text === null ? undefined : JSON.parse(text);
      } catch {
        return '\u0000unreadable';
      }
    },
    save(key, value) {
      try {
        localStorage.setItem(key, JSON.stringify(value));
      } catch (error) {
        console.warn(`[mp-request] cache not saved: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    saveNow(key, value) {
      localStorage.setItem(key, JSON.stringify(value));
    },
  },
  // Bundled: a browser is not where start-up is counted in milliseconds.
  socketsChunk: () => socketsChunk,
  socketTransports: (adapters, chunk) => ({
    http: async (target) => webSocketTask(/** @type {string} */ (target.url)),
    mock: () => chunk.mockSocketTask(),
  }),
  watchLifecycle(onHide, onShow) {
    const listener = () => (document.visibilityState === 'hidden' ? onHide() : onShow());
    document.addEventListener('visibilitychange', listener);
    return () => document.removeEventListener('visibilitychange', listener);
  },
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
