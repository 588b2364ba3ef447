// Scenario f in the JavaScriptCore shell, in a fresh process each time:
//   jsc --useJIT=false prelude.js cold.js -- '<json>'   ({ subject, libFile, paths })
// From "nothing loaded" to "a client ready to request": `load()` the
// library's file (read, parse, run), for mp-request read and instantiate the
// wasm, make a client. The shell's own start-up and this driver are not
// counted. The peers' files are their entries bundled by esbuild (engine.mjs);
// mp-request's is the shipped index.js in a module/exports wrapper.
import { now } from '../harness.mjs';
import { coldStart as mpRequest } from './mp-request.mjs';

const g = /** @type {any} */ (globalThis);

/** @type {Record<string, (libFile: string) => void | Promise<void>>} */
const starts = {
  'mp-request': () => mpRequest(),
  tanstack(libFile) {
    g.load(libFile);
    new g.__benchLib.QueryClient().mount();
  },
  alova(libFile) {
    g.load(libFile);
    const adapter = () => ({ response: () => Promise.resolve({}), headers: () => Promise.resolve({}), abort() {} });
    g.__benchLib.createAlova({ requestAdapter: adapter, cacheLogger: false });
  },
  'axios-cache'(libFile) {
    g.load(libFile);
    g.__benchLib.setupCache(g.__benchLib.axios.create());
  },
};

const args = JSON.parse(g.arguments[0]);
g.__benchPaths = args.paths;
const start = starts[args.subject];
(async () => {
  if (!start) throw new Error(`unknown subject ${args.subject}; known: ${Object.keys(starts).join(', ')}`);
  const t0 = now();
  await start(args.libFile);
  return now() - t0;
})().then(
  (ms) => {
    g.print(JSON.stringify({ engine: 'jsc', subject: args.subject, ms }));
    g.quit(0);
  },
  (error) => {
    g.print(JSON.stringify({ engine: 'jsc', subject: args.subject, error: String(error && error.stack ? `${error}\n${error.stack}` : error) }));
    g.quit(1);
  },
);
