// mp-request in Node (V8), as a mini-program ships it: the built bundle
// (dist/miniprogram), required as CommonJS, with the `wx` and `WXWebAssembly`
// of mp-request-core.mjs (the same stand-ins the JavaScriptCore runs use).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { checkCorrectness, createSubject, installMiniprogramGlobals } from './mp-request-core.mjs';
import { ROOT } from './paths.mjs';

// MP_REQUEST_BUNDLE points at another build (a before/after comparison).
export const BUNDLE = process.env.MP_REQUEST_BUNDLE || join(ROOT, 'dist', 'miniprogram', 'mp-request');

/** The module's bytes for the path the library asked for (the .wasm next to index.js). */
const readWasm = (path) => readFileSync(join(BUNDLE, basename(path).replace(/\.br$/, '')));
const load = () => createRequire(import.meta.url)(join(BUNDLE, 'index.js'));

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend, maxEntries }) {
  installMiniprogramGlobals({ backend, readWasm });
  return createSubject({ createClient: load().createClient, maxEntries });
}

/** The correctness run of mp-request-core.mjs in this engine. */
export async function correctness() {
  const setBackend = (backend) => installMiniprogramGlobals({ backend, readWasm });
  setBackend(() => Promise.reject(new Error('no backend yet')));
  const { createClient, createAbortController } = load();
  return checkCorrectness({ createClient, createAbortController, setBackend, later: (fn) => setImmediate(fn) });
}
