/** The Node runtime: wasm read from disk next to the bundle, HTTP over fetch. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFetchAdapter } from '../adapters/fetch.js';
import { mockSocketTask } from '../socket.js';
import { webSocketTask } from './web-socket.js';

/** @type {import('../client.js').Runtime} */
export const nodeRuntime = {
  defaultWasmPath: join(__dirname, 'mp_request.wasm'),
  async instantiate(path, imports) {
    const { instance } = await WebAssembly.instantiate(await readFile(path), /** @type {any} */ (imports));
    return instance.exports;
  },
  platform: () => ({ hasCloud: false, device: 'node' }),
  adapters: () => ({ http: createFetchAdapter() }),
  watchNetwork: () => () => {},
  socketTransports: () => ({
    http: async (target) => {
      if (typeof WebSocket !== 'function') throw new Error('this Node has no WebSocket (Node 22 or later has)');
      return webSocketTask(/** @type {string} */ (target.url));
    },
    mock: () => mockSocketTask(),
  }),
};
