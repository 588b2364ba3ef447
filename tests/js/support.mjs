// Shared set-up for the Node tests: the built bundle copied into a mini-program
// package, the emulator, and sandboxes that load the bundle.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../emulator/cloud-run-emulator.mjs';
import { createSandbox } from '../../sandbox/miniprogram-sandbox.mjs';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const bundleDir = join(repo, 'dist/miniprogram/mp-request');
/** The mini-program build of the npm package: what 构建 npm puts in miniprogram_npm/mp-request/. */
export const npmBundleDir = join(repo, 'dist/miniprogram_npm/mp-request');
export const SERVICE = 'golang-lfwy';

/** A mini-program package root with the bundle at /utils/mp-request/ (as the README says to copy it). */
export function packageRoot() {
  const root = mkdtempSync(join(tmpdir(), 'mp-request-pkg-'));
  cpSync(bundleDir, join(root, 'utils/mp-request'), { recursive: true });
  return root;
}

/**
 * The example mini-program (examples/miniprogram) as the devtools run it after `make demo` or 构建 npm:
 * its tree, the package's mini-program build in miniprogram_npm/mp-request/, and `appJs` in place of its
 * app.js when given.
 * @param {string} [appJs]
 */
export function exampleRoot(appJs) {
  const root = mkdtempSync(join(tmpdir(), 'mp-request-example-'));
  // Not what npm install left in a developer's copy (node_modules/), nor an older build's copy.
  const skip = ['miniprogram_npm', 'node_modules', 'utils/mp-request'].map((dir) => join(repo, 'examples/miniprogram/miniprogram', dir));
  cpSync(join(repo, 'examples/miniprogram/miniprogram'), root, { recursive: true, filter: (from) => !skip.includes(from) });
  cpSync(npmBundleDir, join(root, 'miniprogram_npm/mp-request'), { recursive: true });
  if (appJs) writeFileSync(join(root, 'app.js'), appJs);
  return root;
}

export { startEmulator, createSandbox };

/**
 * A sandbox with the bundle loaded; `mp` is the bundle's exports as the
 * mini-program sees them.
 * @param {Awaited<ReturnType<typeof startEmulator>>} emulator
 * @param {Parameters<typeof createSandbox>[0] extends infer O ? Partial<O> : never} [options]
 */
export function sandboxWithBundle(emulator, options = {}) {
  const sandbox = createSandbox({ root: options.root || packageRoot(), emulator, ...options });
  const mp = sandbox.require('./utils/mp-request/index.js');
  return { sandbox, mp };
}

/**
 * `sandboxWithBundle`, keeping the wasm instance's exports for inspection:
 * `stackPointer()` (wasm-bindgen's own export: adding 0 answers the shadow
 * stack pointer) and `memoryBytes()`.
 * @param {Awaited<ReturnType<typeof startEmulator>>} emulator
 */
export function sandboxWithExports(emulator) {
  const sandbox = createSandbox({ root: packageRoot(), emulator });
  const held = {};
  const { WXWebAssembly } = sandbox.context;
  const instantiate = WXWebAssembly.instantiate.bind(WXWebAssembly);
  WXWebAssembly.instantiate = (path, imports) =>
    instantiate(path, imports).then((result) => {
      // The request engine's: the socket engine is a module of its own.
      if (!path.includes('_sockets')) held.exports = (result.instance || result).exports;
      return result;
    });
  const mp = sandbox.require('./utils/mp-request/index.js');
  const stackPointer = () => held.exports.__wbindgen_add_to_stack_pointer(0);
  const memoryBytes = () => held.exports.memory.buffer.byteLength;
  return { sandbox, mp, stackPointer, memoryBytes };
}

/**
 * `value` made again in the sandbox's realm, as a page's own objects are: the
 * fast path takes plain objects of the realm the bundle runs in. Objects with
 * getters, and objects of other kinds (a signal), are kept as they are.
 * @param {{ evaluate(code: string): any }} sandbox
 * @param {any} value
 * @returns {any}
 */
export function local(sandbox, value) {
  if (value === null || typeof value !== 'object') return value;
  if (Object.values(Object.getOwnPropertyDescriptors(value)).some((d) => d.get)) return value;
  if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy = sandbox.evaluate(Array.isArray(value) ? '[]' : '({})');
  for (const key of Object.keys(value)) copy[key] = local(sandbox, value[key]);
  return copy;
}

/**
 * A cloud client in a fresh sandbox whose `request` makes its options in the
 * sandbox's realm (see `local`), so they take the fast path as a page's do.
 * @param {Awaited<ReturnType<typeof startEmulator>>} emulator
 * @param {object} options client options besides the cloud's
 */
export async function localClient(emulator, options) {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const made = await mp.createClient(cloudOptions(emulator, options));
  const c = Object.assign(Object.create(made), { request: (/** @type {any} */ o) => made.request(local(sandbox, o)) });
  return { c, mp, sandbox, done: () => (made.destroy(), sandbox.dispose()) };
}

/** Cloud client options for the emulator's env and the seed's service. */
export function cloudOptions(emulator, extra = {}) {
  return { env: emulator.env, service: SERVICE, ...extra };
}

/** Resolves to the rejection reason; fails if the promise resolves. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a resolution');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Values from the sandbox's realm, as this realm's (deepEqual compares prototypes). */
export const plain = (value) => JSON.parse(JSON.stringify(value));

/** Polls `check` every 10 ms; throws naming `what` when it is still false after `ms`. */
export async function waitFor(what, check, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Socket timings for tests (the defaults are tested natively). */
export const FAST_SOCKET = { minDelayMs: 20, maxDelayMs: 100, connectTimeoutMs: 2000, heartbeatIntervalMs: 100, heartbeatTimeoutMs: 400 };

/** Polls `done` every 10 ms for up to `ms`; resolves to its last answer. */
export async function until(done, ms = 3000) {
  for (let waited = 0; waited < ms && !done(); waited += 10) await sleep(10);
  return done();
}
