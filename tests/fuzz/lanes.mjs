// A lane: one sandbox with the built bundle, its wasm instance's exports (for
// the stack pointer and the memory size), the toolbox from realm.js, and the
// long-lived clients its cases share. Cases run in a lane one after another,
// except the slow lane's, which wait for the engine's own timer side by side.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox } from '../../sandbox/miniprogram-sandbox.mjs';
import { SERVICE, bundleDir } from '../js/support.mjs';

const REALM_SOURCE = readFileSync(new URL('./realm.js', import.meta.url), 'utf8');

/** createSandbox wants an emulator; lanes on the fault-injecting platform never reach it. */
const NOWHERE = { url: 'http://127.0.0.1:9', wsUrl: 'ws://127.0.0.1:9', env: 'fuzz-env' };

/**
 * What every long-lived client shares: fast retries, and no breaker, budget
 * or slot limit to make one case fail the next (cases left waiting for the
 * engine's timer hold their slot meanwhile).
 */
const SHARED = {
  retry: { limit: 2, baseMs: 1, capMs: 4, deadlineMs: 2500 },
  breaker: false,
  retryBudget: false,
  maxConcurrent: 100,
  timeoutMs: 100,
  seed: 17,
  cache: { rules: [{ path: '/fuzz/cached/*', ttlMs: 60_000, tags: ['t1'] }] },
};

/** Client options (value specs) per lane kind; the slow lane's give up quickly and never retry. */
const CLIENTS = {
  fast: {
    cloud: { env: 'fuzz-env', service: 'fuzz-svc', mode: 'cloud', ...SHARED },
    http: { baseUrl: 'https://fuzz.example', mode: 'http', ...SHARED },
    mock: { mode: 'mock', mock: { enabled: true, routes: [{ path: '/*', handler: { $: 'mockHandler' } }] }, ...SHARED },
  },
  slow: {
    cloud: { env: 'fuzz-env', service: 'fuzz-svc', mode: 'cloud', ...SHARED, timeoutMs: 10, retry: false },
    http: { baseUrl: 'https://fuzz.example', mode: 'http', ...SHARED, timeoutMs: 10, retry: false },
    mock: { mode: 'mock', mock: { enabled: true, routes: [{ path: '/*', handler: { $: 'mockHandler' } }] }, ...SHARED, timeoutMs: 10, retry: false },
  },
  scratch: {},
};

/** The built bundle under test: `make build`'s, or another build's (FUZZ_BUNDLE, e.g. an older one). */
const BUNDLE = process.env.FUZZ_BUNDLE || bundleDir;

/** Package roots (copies of the bundle) no live lane uses; copying one costs more than a sandbox. */
const freeRoots = [];
const allRoots = [];

function makeRoot() {
  const root = mkdtempSync(join(tmpdir(), 'mp-request-fuzz-'));
  cpSync(BUNDLE, join(root, 'utils/mp-request'), { recursive: true });
  allRoots.push(root);
  return root;
}

/** Removes the package roots (at the end of a run). */
export function removeRoots() {
  for (const root of allRoots) rmSync(root, { recursive: true, force: true });
}

/** What the engine throws: a plain object of fields (see RequestError), not an Error. */
function isEngineError(value) {
  try {
    return value !== null && typeof value === 'object' && typeof value.kind === 'string' && !('stack' in value);
  } catch {
    return false;
  }
}

/**
 * @typedef {object} LaneHooks How a lane reports what it sees as it happens (the runner knows which case it belongs to).
 * @property {(lane: Lane, call: string, moved: number, threw: { error: unknown } | undefined) => void} wasmFault
 * @property {(lane: Lane, kind: 'uncaught' | 'callback-threw', error: unknown) => void} escaped
 * @property {(lane: Lane, call: { api: string, path?: string, url?: string, method?: string, header?: any }) => void} sent
 * @property {(lane: Lane, promise: Promise<unknown>) => void} nested A call an app's getter made into the client.
 * @property {(lane: Lane, advance: boolean) => { plan: import('./generate.mjs').Plan, attempt: number }} plan
 *   The plan of the case the current work belongs to, and which network call of it this is.
 */

/**
 * Where `serves` sends: always answered normally, whichever case's work the
 * engine happens to send it from (a queued send goes out in another event's turn).
 */
const CHECK_PATH = '/fuzz/check/';
const CHECK = /\/fuzz\/check\//;

/** The plan of a normal platform: every call answered 200 with `{ ok: true }`. */
export const NORMAL = { answers: [], rest: 'normal' };

export class Lane {
  /**
   * @param {'fast' | 'scratch' | 'slow' | 'emulator'} kind
   * @param {{ emulator?: any, hooks: LaneHooks }} options
   */
  constructor(kind, { emulator, hooks }) {
    this.kind = kind;
    /** @type {LaneHooks} */
    this.hooks = hooks;
    /** @type {import('./generate.mjs').Case | undefined} The case this lane ran last (what escapes from it is blamed on it). */
    this.lastCase = undefined;
    this.emulator = kind === 'emulator' ? emulator : undefined;
    /** @type {Record<string, any>} */
    this.clients = {};
    /** Cases of this lane still waiting for their outcome. */
    this.parked = 0;
    /** Set when a failure may have left the engine unusable: the lane is replaced. */
    this.broken = false;
    this.checks = 0;
  }

  async open() {
    // The scratch lane is an iOS device: WXWebAssembly resolves the Instance, no BigInt.
    const profile = this.kind === 'scratch' ? 'ios' : 'android';
    // A package root no other live lane has: a stack trace through the bundle names its lane.
    this.root = freeRoots.pop() || makeRoot();
    const sandbox = createSandbox({ root: this.root, profile, emulator: this.emulator || NOWHERE });
    this.sandbox = sandbox;
    /** @type {any} */
    this.fz = sandbox.evaluate(REALM_SOURCE);
    this.fz.hooks.plan = (advance, path) => (CHECK.test(path) ? { plan: NORMAL, attempt: 0 } : this.hooks.plan(this, advance));
    this.fz.hooks.sent = (call) => this.hooks.sent(this, call);
    this.fz.hooks.callbackThrew = (text) => this.hooks.escaped(this, 'callback-threw', text);
    this.fz.hooks.nested = (promise) => this.hooks.nested(this, promise);
    if (!this.emulator) Object.defineProperty(sandbox.context, 'wx', { value: this.fz.wx, writable: true, configurable: true, enumerable: true });
    // A timer callback that throws is the app's onError on a device; here it is recorded (with the
    // case that set the timer) instead of reaching the host process.
    for (const name of ['setTimeout', 'setInterval']) {
      const original = sandbox.context[name];
      sandbox.context[name] = (fn, ms, ...args) => {
        const guarded = typeof fn === 'function' ? (...a) => {
          try {
            fn(...a);
          } catch (error) {
            this.hooks.escaped(this, 'uncaught', error);
          }
        } : fn;
        return original(guarded, ms, ...args);
      };
    }
    // The instance's exports, kept for the stack pointer and the memory, and
    // handed to the bundle watched, in the shape it was resolved with:
    // `{ instance, module }` on Android, the Instance on iOS.
    const wxwa = sandbox.context.WXWebAssembly;
    const instantiate = wxwa.instantiate;
    wxwa.instantiate = (path, imports) =>
      instantiate.call(wxwa, path, imports).then((result) => {
        const android = Boolean(result && result.instance);
        this.exports = (android ? result.instance : result).exports;
        const instance = { exports: this.watch(this.exports) };
        return android ? { instance, module: result.module } : instance;
      });
    this.mp = sandbox.require('./utils/mp-request/index.js');
    const specs = this.kind === 'emulator' ? { cloud: { env: this.emulator.env, service: SERVICE, ...SHARED } } : CLIENTS[this.kind];
    for (const [name, spec] of Object.entries(specs)) this.clients[name] = await this.mp.createClient(this.fz.build(spec));
    if (!this.exports) await this.standardClient().then((c) => c.destroy());
    this.baseSp = this.sp();
    return this;
  }

  /**
   * The exports with each engine call wrapped: when the outermost one returns
   * or throws, the shadow stack pointer must be where it was when it began,
   * and what it throws must be the engine's own error. A JS exception (from a
   * getter, a Proxy trap, a revoked Proxy...) that unwinds through wasm skips
   * the epilogues that restore the stack pointer and the destructors that
   * release the engine's borrows; a trap is worse. What breaks this is
   * reported with the call's name, as it happens, to `hooks.wasmFault`.
   * @param {Record<string, any>} exports
   */
  watch(exports) {
    const out = {};
    const sp = exports.__wbindgen_add_to_stack_pointer;
    let depth = 0;
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== 'function' || !(name.startsWith('engine_') || name === '__wbg_engine_free')) {
        out[name] = value;
        continue;
      }
      out[name] = (...args) => {
        const before = depth === 0 ? sp(0) : undefined;
        depth += 1;
        let threw;
        try {
          return value(...args);
        } catch (error) {
          threw = { error };
          throw error;
        } finally {
          depth -= 1;
          if (before !== undefined) {
            const moved = sp(0) - before;
            // The engine throws its own errors as plain `{ kind, ... }` objects; anything
            // else unwound through wasm frames, skipping their clean-up.
            const foreign = threw && !isEngineError(threw.error);
            if (moved !== 0 || foreign) this.hooks.wasmFault(this, name, moved, threw);
          }
        }
      };
    }
    return out;
  }

  /** A client as an app makes one (the scratch lane's check that the module still serves). */
  standardClient() {
    return this.mp.createClient(this.fz.build(CLIENTS.fast.cloud));
  }

  /** The wasm shadow stack pointer: outside any wasm call it is always where it started. */
  sp() {
    return this.exports.__wbindgen_add_to_stack_pointer(0);
  }

  memoryBytes() {
    return this.exports.memory.buffer.byteLength;
  }

  /**
   * Whether `client` still serves a normal request (and its read-only methods
   * answer). Undefined when it does, otherwise what went wrong.
   * @param {any} client
   * @returns {Promise<string | undefined>}
   */
  async serves(client) {
    this.checks += 1;
    const path = this.kind === 'emulator' ? '/api/test' : `${CHECK_PATH}${this.checks}`;
    let timer;
    try {
      const res = await Promise.race([
        client.request({ path, cache: false }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
        }),
      ]);
      if (res.statusCode !== 200) return `a normal request got ${res.statusCode}`;
      if (this.kind !== 'emulator' && !(res.data && res.data.ok === true)) return 'a normal request got other data';
      client.stats();
      client.cacheStats();
      client.pending();
      return undefined;
    } catch (error) {
      return `a normal request failed: ${error && error.kind ? `${error.kind} (${error.detail})` : String(error && error.message)}`;
    } finally {
      clearTimeout(timer);
    }
  }

  dispose() {
    for (const client of Object.values(this.clients)) {
      try {
        client.destroy();
      } catch {
        // Already broken: the sandbox goes anyway.
      }
    }
    this.sandbox?.dispose();
    if (this.root) freeRoots.push(this.root);
    this.root = undefined;
  }
}

/**
 * Runs one case's calls in `lane` and records what each one did.
 * @param {Lane} lane
 * @param {import('./generate.mjs').Case} c
 * @param {unknown} args the case's arguments, built in the lane's realm
 * @returns {Promise<Observation[]>}
 */
export async function perform(lane, c, args) {
  /** @type {Observation[]} */
  const seen = [];
  const client = lane.clients[c.client || 'cloud'];
  switch (c.op) {
    case 'request':
      seen.push(await settle('request', () => client.request(args)));
      break;
    case 'setUser':
    case 'invalidate':
    case 'dropPending':
      seen.push(call(c.op, () => client[c.op](args)));
      break;
    case 'onSync': {
      const o = call('onSync', () => client.onSync(args));
      seen.push(o);
      if (o.status === 'returned' && typeof o.value === 'function') seen.push(call('unsubscribe', () => o.value()));
      break;
    }
    case 'watch': {
      const o = call('watch', () => client.watch(args, lane.fz.build(c.listener)));
      seen.push(o);
      if (o.status === 'returned' && typeof o.value === 'function') {
        const stop = o.value;
        // Unsubscribed at once or after a tick (its fetch may be out).
        if (c.wait) await new Promise((r) => setTimeout(r, 0));
        seen.push(call('unwatch', () => stop()));
      }
      break;
    }
    case 'socket': {
      const o = call('socket', () => client.socket(args));
      seen.push(o);
      if (o.status === 'returned' && o.value) {
        const socket = o.value;
        /** @type {unknown[]} */
        const heard = [];
        if (c.linger) socket.on('message', (/** @type {any} */ e) => heard.push(e && e.data));
        if (c.linger) {
          for (let i = 0; i < 50 && socket.state !== 'open'; i++) await new Promise((r) => setTimeout(r, 5));
        }
        seen.push(call('socket.send', () => socket.send(lane.fz.build(c.send))));
        if (c.linger) {
          await new Promise((r) => setTimeout(r, 10));
          seen.push({ what: 'socket messages', status: 'returned', value: heard });
        }
        seen.push(call('socket.close', () => socket.close()));
      }
      break;
    }
    case 'createClient': {
      const made = await settle('createClient', () => lane.mp.createClient(args));
      seen.push(made);
      if (made.status === 'resolved') {
        const fresh = made.value;
        // Whatever it was configured with, its answer is a response or a RequestError.
        seen.push(await settle('request (the new client)', () => fresh.request({ path: '/fuzz/a' })));
        seen.push(call('destroy', () => fresh.destroy()));
      }
      break;
    }
    default:
      throw new Error(`unknown op ${c.op}`);
  }
  return seen;
}

/**
 * @typedef {object} Observation
 * @property {string} what
 * @property {'resolved' | 'rejected' | 'returned' | 'threw'} status
 * @property {unknown} value
 */

/** @returns {Observation} */
function call(what, fn) {
  try {
    return { what, status: 'returned', value: fn() };
  } catch (error) {
    return { what, status: 'threw', value: error };
  }
}

/** @returns {Promise<Observation>} */
async function settle(what, fn) {
  let promise;
  try {
    promise = fn();
  } catch (error) {
    return { what, status: 'threw', value: error };
  }
  try {
    return { what, status: 'resolved', value: await promise };
  } catch (error) {
    return { what, status: 'rejected', value: error };
  }
}
