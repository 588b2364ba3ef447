/** The Node runtime: wasm read from disk next to the bundle, HTTP over fetch. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFetchAdapter } from '../adapters/fetch.js';
import { webSocketTask } from './web-socket.js';

/** @type {import('../client.js').Runtime} */
export const nodeRuntime = {
  build: 'node',
  defaultWasmPath: join(__dirname, 'mp_request.wasm'),
  // Read and compiled synchronously, as wasm-bindgen's own Node target does:
  // for a module this size that is faster than the asynchronous path (a cold
  // start of about 9 ms lost 1-2 ms to it). Still async, so a failure rejects.
  async instantiate(path, imports) {
    const module = new WebAssembly.Module(readFileSync(path));
    return new WebAssembly.Instance(module, /** @type {any} */ (imports)).exports;
  },
  platform: () => ({ hasCloud: false, device: 'node' }),
  adapters: () => ({ http: createFetchAdapter() }),
  watchNetwork: () => () => {},
  // The sockets' JS, next to index.js: required on the first client.socket() (see sockets-chunk.js).
  socketsChunk: () =>
    /** @type {typeof import('../sockets-chunk.js')} */ (
      // A literal path, so that WeChat's compiler keeps the file in the package; it exists once built.
      // @ts-ignore
      require('./mp_request_sockets.js')
    ),
  socketTransports: (adapters, chunk) => ({
    http: async (target) => {
      if (typeof WebSocket !== 'function') throw new Error('this Node has no WebSocket (Node 22 or later has)');
      return webSocketTask(/** @type {string} */ (target.url), target.header);
    },
    mock: () => chunk.mockSocketTask(),
  }),
};
