// Scenario f, cold start, in a fresh process each time:
//   node benches/cold-start.mjs <subject>
// From "nothing loaded" to "a client ready to request": load the library,
// (for mp-request) read, compile and instantiate the wasm, create a client.
// Node's own start-up (its module loaders included) is not counted. Prints one
// JSON line, in milliseconds.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { create as createMiniprogramClient } from './subjects/mp-request.mjs';
import { ROOT } from './subjects/paths.mjs';

const require = createRequire(import.meta.url);
const subject = process.argv[2];

const starts = {
  /** The Node build: wasm read from disk next to the bundle. */
  async 'mp-request'() {
    const { createClient } = require(join(ROOT, 'dist', 'node', 'index.js'));
    await createClient({ baseUrl: 'http://127.0.0.1:9', cache: { rules: [{ path: '/api/*', ttlMs: 60_000 }] } });
  },
  /** The mini-program bundle, with the two globals it needs (the bench's own module is loaded before the clock). */
  async 'mp-request-miniprogram'() {
    await createMiniprogramClient({ backend: () => Promise.resolve({}) });
  },
  async tanstack() {
    const { QueryClient } = await import('@tanstack/query-core');
    new QueryClient().mount();
  },
  async alova() {
    const { createAlova } = await import('alova');
    createAlova({ requestAdapter: () => ({ response: () => Promise.resolve({}), headers: () => Promise.resolve({}), abort() {} }), cacheLogger: false });
  },
  async 'axios-cache'() {
    const { default: Axios } = await import('axios');
    const { setupCache } = await import('axios-cache-interceptor');
    setupCache(Axios.create());
  },
};

if (!(subject in starts)) throw new Error(`unknown subject ${subject}; known: ${Object.keys(starts).join(', ')}`);
// Node's own start-up: the CommonJS and ESM loaders initialise on first use,
// whichever library comes first. Warm both, for every library alike.
require('node:os');
await import('node:os');
const t0 = performance.now();
await starts[subject]();
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ subject, ms })}\n`);
process.exit(0);
