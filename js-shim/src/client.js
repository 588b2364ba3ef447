/**
 * The public client: it hands every request to the Rust engine and executes
 * the commands it answers with. No decision is made here.
 */
import { loadEngine } from './engine.js';
import { RequestError, invalidError, toRequestError } from './request-error.js';

/**
 * @typedef {object} Outcome What an adapter reports for one attempt.
 * @property {boolean} ok True when the backend answered (any status).
 * @property {number} [statusCode]
 * @property {unknown} [data]
 * @property {Record<string, string>} [header]
 * @property {string} [callID]
 * @property {string} [errMsg]
 * @property {number} [errCode]
 * @property {number} [errno]
 */

/**
 * @typedef {object} SendCommand
 * @property {'send'} type
 * @property {number} id
 * @property {'cloud' | 'http'} route
 * @property {string} reason
 * @property {string} method
 * @property {number} attempt
 * @property {number} timeoutMs
 * @property {string} [url]
 */

/**
 * @typedef {{ send(command: SendCommand, options: import('../types').RequestOptions): Promise<Outcome> }} Adapter
 */

/**
 * @typedef {object} Runtime What differs between the mini-program, Node and the browser.
 * @property {string} defaultWasmPath
 * @property {(path: string, imports: Record<string, object>) => Promise<Record<string, any>>} instantiate
 * @property {() => { hasCloud: boolean }} platform
 * @property {(cloudConfig: CloudConfig) => { cloud?: Adapter, http?: Adapter }} adapters
 */

/**
 * @typedef {object} CloudConfig
 * @property {string} [env]
 * @property {string} [service]
 * @property {string} [resourceAppid]
 * @property {string} [resourceEnv]
 */

/**
 * @param {Runtime} runtime
 * @param {import('../types').ClientOptions} options
 * @returns {Promise<import('../types').Client>}
 */
export async function createClientWith(runtime, options) {
  const wasmPath = readWasmPath(options, runtime.defaultWasmPath);
  let Engine;
  try {
    Engine = await loadEngine(runtime.instantiate, wasmPath);
  } catch (cause) {
    throw invalidError(
      `\`wasmPath\` ${JSON.stringify(wasmPath)} could not be loaded (${describe(cause)}); copy the .wasm.br next to index.js or set wasmPath`,
      cause,
    );
  }
  /** @type {import('./engine.js').Engine} */
  let engine;
  try {
    engine = new Engine(options, runtime.platform());
  } catch (thrown) {
    throw toRequestError(thrown);
  }
  const adapters = runtime.adapters(engine.cloudConfig());
  const debug = Boolean(options && /** @type {any} */ (options).debug);
  const now = () => Date.now();
  // The engine is freed once destroyed and idle: requests in flight finish first.
  let destroyed = false;
  let active = 0;
  const freeIfDone = () => {
    if (destroyed && active === 0) engine.free();
  };

  /**
   * @param {import('../types').RequestOptions} requestOptions
   * @returns {Promise<import('../types').Response>}
   */
  async function request(requestOptions) {
    if (destroyed) throw invalidError('`client` was destroyed; create a new one with createClient');
    let command;
    try {
      command = engine.start(requestOptions, now());
    } catch (thrown) {
      throw toRequestError(thrown);
    }
    active += 1;
    try {
      return await run(command, requestOptions);
    } finally {
      active -= 1;
      freeIfDone();
    }
  }

  /**
   * Executes commands until the engine settles the request.
   * @param {any} command
   * @param {import('../types').RequestOptions} requestOptions
   * @returns {Promise<import('../types').Response>}
   */
  async function run(command, requestOptions) {
    /** @type {Outcome} */
    let last = { ok: false };
    for (;;) {
      if (command.type === 'send') {
        if (debug) log(`#${command.id} ${command.method} ${requestOptions.path} → ${command.route} (${command.reason}), attempt ${command.attempt}, timeout ${command.timeoutMs} ms`);
        last = await attempt(adapters[/** @type {'cloud' | 'http'} */ (command.route)], command, requestOptions);
        command = last.ok
          ? engine.onResponse(command.id, Number(last.statusCode), now())
          : engine.onFailure(command.id, last.errMsg, last.errCode, last.errno, now());
      } else if (command.type === 'resolve') {
        if (debug) log(`#${command.id} ${last.statusCode} via ${command.route} in ${command.elapsedMs} ms, ${command.attempts} attempt(s)`);
        return {
          data: last.data,
          statusCode: /** @type {number} */ (last.statusCode),
          header: last.header || {},
          route: command.route,
          attempts: command.attempts,
          fromCache: false,
          callID: last.callID,
          elapsedMs: command.elapsedMs,
        };
      } else {
        if (debug) log(`#${command.id} failed: ${command.error.kind} (${command.error.detail})`);
        throw new RequestError(command.error, last.ok ? undefined : last);
      }
    }
  }

  return {
    request,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      freeIfDone();
    },
  };
}

/**
 * Runs one attempt; an adapter that throws is reported as a failed attempt so
 * the engine still settles the request.
 * @param {Adapter | undefined} adapter
 * @param {SendCommand} command
 * @param {import('../types').RequestOptions} options
 * @returns {Promise<Outcome>}
 */
async function attempt(adapter, command, options) {
  if (!adapter) return { ok: false, errMsg: `${command.route}: no adapter in this runtime` };
  try {
    return await adapter.send(command, options);
  } catch (error) {
    return { ok: false, errMsg: `${command.route}:fail ${describe(error)}` };
  }
}

/**
 * `wasmPath` is read here because the engine that validates everything else
 * cannot exist before the wasm is loaded.
 * @param {unknown} options
 * @param {string} fallback
 * @returns {string}
 */
function readWasmPath(options, fallback) {
  const value = options !== null && typeof options === 'object' ? /** @type {any} */ (options).wasmPath : undefined;
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value === '') {
    throw invalidError(`\`wasmPath\` must be a non-empty string, got ${typeof value}`);
  }
  return value;
}

/** @param {unknown} error */
function describe(error) {
  if (error && typeof error === 'object') {
    const e = /** @type {any} */ (error);
    return String(e.errMsg || e.message || e);
  }
  return String(error);
}

/** @param {string} line */
function log(line) {
  console.log(`[mp-request] ${line}`);
}
