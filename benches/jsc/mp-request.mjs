// mp-request in the JavaScriptCore shell, as a mini-program ships it: the
// built bundle's index.js (CommonJS), wrapped in a `module`/`exports`
// function by engine.mjs and loaded with the shell's `load()`, and the .wasm
// read with `readFile(path, 'binary')` by the `WXWebAssembly` stand-in of
// mp-request-core.mjs (the same stand-ins as in Node).
import { checkCorrectness, createSubject, installMiniprogramGlobals } from '../subjects/mp-request-core.mjs';

/** Where the bundle is: set by scenario-main.mjs from its arguments. */
const paths = () => /** @type {{ bundleDir: string, wrappedIndex: string }} */ (/** @type {any} */ (globalThis).__benchPaths);

/** @param {string} path */
const readWasm = (path) => {
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/\.br$/, '');
  return /** @type {any} */ (globalThis).readFile(`${paths().bundleDir}/${name}`, 'binary');
};

/** Loads the bundle (once per process, as a mini-program's require does). */
export function load() {
  const g = /** @type {any} */ (globalThis);
  if (!g.__mpRequest) g.load(paths().wrappedIndex);
  return g.__mpRequest;
}

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend, maxEntries }) {
  installMiniprogramGlobals({ backend, readWasm });
  return createSubject({ createClient: load().createClient, maxEntries });
}

/** The cold start: load the bundle, read and instantiate the wasm, make a client. */
export async function coldStart() {
  installMiniprogramGlobals({ backend: () => Promise.resolve({}), readWasm });
  await createSubject({ createClient: load().createClient });
}

/** The correctness run of mp-request-core.mjs in this engine. */
export async function correctness() {
  const setBackend = (backend) => installMiniprogramGlobals({ backend, readWasm });
  setBackend(() => Promise.reject(new Error('no backend yet')));
  const { createClient, createAbortController } = load();
  return checkCorrectness({ createClient, createAbortController, setBackend, later: (fn) => setTimeout(fn, 0) });
}
