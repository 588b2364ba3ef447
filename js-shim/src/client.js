/**
 * The public client: it hands every request and every event to the Rust
 * engine and executes the commands it answers with (send, wait, init,
 * resolve, reject). No decision is made here.
 */
import { createCloudAdapter } from './adapters/cloud.js';
import { createMockAdapter } from './adapters/mock.js';
import { readWasmPath, snapshotOptions } from './client-options.js';
import { loadEngine, loadSockets, socketsPath } from './engine.js';
import { flatRecord, restOptions } from './fast-options.js';
import { failed } from './outcome.js';
import { describe, say } from './report.js';
import { RequestError, invalidError, toRequestError } from './request-error.js';

/**
 * Object literals for the engine's frequent commands: one call from wasm
 * each, instead of one per property. They shape; the engine decides.
 */
const COMMAND_SHAPES = {
  /**
   * @param {number} id @param {string} route @param {string} reason @param {number} attempts
   * @param {number} elapsedMs @param {boolean} fromCache @param {boolean} stale @param {unknown} value
   */
  resolve: (id, route, reason, attempts, elapsedMs, fromCache, stale, value) => ({
    type: 'resolve', id, route, reason, attempts, elapsedMs, fromCache, stale, value,
  }),
  /** @param {number} id */
  end: (id) => ({ type: 'end', id }),
  /**
   * @param {number} id @param {string} route @param {string} reason @param {string} method
   * @param {number} attempt @param {number} timeoutMs @param {number | undefined} clampedFrom
   * @param {string | undefined} url @param {{ index: number, params: Record<string, string> } | undefined} mock
   * @param {string} path @param {Record<string, string> | undefined} header @param {string | true | undefined} body
   * @param {number} guardMs
   */
  send: (id, route, reason, method, attempt, timeoutMs, clampedFrom, url, mock, path, header, body, guardMs) => ({
    type: 'send', id, route, reason, method, attempt, timeoutMs, clampedFrom, url, mock, path, header, body, guardMs,
  }),
  /** @param {number} id @param {number} delayMs */
  wait: (id, delayMs) => ({ type: 'wait', id, delayMs }),
};

/**
 * @typedef {object} Outcome What an adapter reports for one attempt, made by
 * `answered` or `failed` (outcome.js): its fields are what they say.
 * @property {boolean} ok True when the backend answered (any valid status).
 * @property {number} [statusCode] An integer from 100 to 599.
 * @property {unknown} [data]
 * @property {Record<string, string>} [header] A fresh plain object of strings.
 * @property {string} [callID]
 * @property {boolean} [bodyNotJson] The content type says JSON but `data` is text (it did not parse).
 * @property {string} [errMsg]
 * @property {number} [errCode]
 * @property {number} [errno]
 * @property {boolean} [fault] The app's code failed (a mock handler threw, no adapter): never retried.
 * @property {boolean} [bodyNotJson] Its content type says JSON and its body did not parse.
 */

/**
 * @typedef {object} SendCommand One attempt, exactly as the engine validated it.
 * @property {'send'} type
 * @property {number} id
 * @property {'cloud' | 'http' | 'mock'} route
 * @property {string} reason
 * @property {string} method
 * @property {number} attempt
 * @property {number} timeoutMs
 * @property {number} [clampedFrom]
 * @property {string} [url] The full URL on the HTTP route.
 * @property {{ index: number, params: Record<string, string> }} [mock]
 * @property {string} path The path with its query (a GET's data is in it).
 * @property {Record<string, string>} [header] Every header to send (the cloud adapter adds X-WX-SERVICE); undefined: none.
 * @property {string | true} [body] The body's text; true: what the shim kept at start (`Fetch.kept`).
 * @property {number} guardMs When the engine gives up waiting for the platform's answer.
 */

/**
 * @typedef {object} Adapter
 * @property {(command: SendCommand, kept: ArrayBuffer | string | undefined, onAbort: (abort: () => void) => void) => Promise<Outcome>} send
 *   `kept`: the body when the command's `body` is true.
 */

/** @typedef {Adapter & { init(): Promise<void>, connect(where: { service: string, path: string }): Promise<any> }} CloudAdapter */

/**
 * @typedef {object} Platform What the runtime knows about where it runs.
 * @property {boolean} hasCloud
 * @property {string} [sdkVersion]
 * @property {string} [device]
 * @property {string} [envVersion]
 * @property {string} [appVersion] The app's version (`miniProgram.version`), for fleet reports.
 */

/**
 * @typedef {object} Runtime What differs between the mini-program, Node and the browser.
 * @property {'miniprogram' | 'web' | 'node'} build Which build this is (fleet reports say it).
 * @property {string} defaultWasmPath
 * @property {(path: string, imports: Record<string, object>) => Promise<Record<string, any>>} instantiate
 * @property {() => Platform} platform
 * @property {(cloudConfig: CloudConfig) => { cloud?: CloudAdapter, http?: Adapter }} adapters The cloud adapter
 *   is the runtime's own (the library's `wx.cloud.Cloud`), unless the app gave an instance (`cloud`).
 * @property {(onChange: (online: boolean) => void) => () => void} watchNetwork Returns an unsubscribe.
 * @property {{ load(key: string): unknown, save(key: string, value: unknown): void, saveNow(key: string, value: unknown): void }} [storage]
 *   Where the cache and the offline queue persist; `saveNow` writes before it returns and throws when it cannot (the queue's writes must be durable before anyone is told "saved").
 * @property {(onHide: () => void, onShow: () => void) => () => void} [watchLifecycle] The app goes to the background and comes back; returns an unsubscribe.
 * @property {() => typeof import('./sockets-chunk.js')} [socketsChunk] The sockets' JS (required on first use where the runtime can).
 * @property {(adapters: Record<string, any>, chunk: typeof import('./sockets-chunk.js')) => import('./socket.js').SocketTransports} [socketTransports] How sockets connect, per route.
 * @property {() => { warn(...args: unknown[]): void } | undefined} [realtimeLog] WeChat's realtime log manager, where the base library has one.
 */

/**
 * @typedef {object} CloudConfig
 * @property {string | null} [env] The environment the cloud route calls (null: the app's instance's own).
 * @property {string} [service]
 * @property {string | null} [resourceAppid]
 */

/**
 * @typedef {object} Caller A `request()` call waiting for its answer.
 * @property {(response: import('../types').Response) => void} resolve
 * @property {(error: RequestError) => void} reject
 * @property {() => void} [unlisten] Removes the abort listener.
 * @property {number} [id] The request's id, once the engine started it.
 * @property {boolean} [abortedEarly] Its signal fired before the engine started it.
 */

/**
 * @typedef {object} Fetch A network request and its retries (shared by callers).
 * @property {ArrayBuffer | string} [kept] The body an attempt's `body: true` stands for: a copy of binary
 *   `data` taken at start, or the JSON the fast path stringified (the engine does not hand it back).
 * @property {Outcome} [last] The last attempt's outcome.
 * @property {number} attempt The attempt whose outcome is awaited (-1: none).
 * @property {number} [sent] Attempts sent so far (for the debug log).
 * @property {ReturnType<typeof setTimeout>} [timer] The one timer the engine asked for.
 * @property {() => void} [abort] Aborts the attempt in flight, where the platform allows.
 */

/**
 * Storage keys of offline queues a live client of this app holds. The queue
 * is one storage key written whole: a second client writing it would erase
 * the first one's writes, so only the first client of an app has a queue.
 * @type {Set<string>}
 */
const heldQueues = new Set();

/**
 * Starts loading the wasm, then makes the client. Kept small: an engine
 * without a JIT makes a function's bytecode on its first call, and the
 * client's function is the shim's largest, so its bytecode is made while
 * the platform compiles the wasm rather than before it starts.
 * @param {Runtime} runtime
 * @param {import('../types').ClientOptions} options
 * @returns {Promise<import('../types').Client>}
 */
export function createClientWith(runtime, options) {
  /** @type {import('../types').ClientOptions} */
  let opts;
  /** @type {string} */
  let wasmPath;
  try {
    // Read once, before anything else: the engine validates what the shim then uses.
    opts = /** @type {import('../types').ClientOptions} */ (snapshotOptions(options));
    wasmPath = readWasmPath(opts, runtime.defaultWasmPath);
  } catch (error) {
    return Promise.reject(error);
  }
  /** @type {Promise<import('./engine.js').EngineClass>} */
  let loading;
  try {
    loading = loadEngine(runtime.instantiate, wasmPath);
  } catch (cause) {
    loading = Promise.reject(cause);
  }
  return makeClient(runtime, opts, wasmPath, loading);
}

/**
 * @param {Runtime} runtime
 * @param {import('../types').ClientOptions} opts The options, read once.
 * @param {string} wasmPath
 * @param {Promise<import('./engine.js').EngineClass>} loading The request engine being loaded.
 * @returns {Promise<import('../types').Client>}
 */
async function makeClient(runtime, opts, wasmPath, loading) {
  let Engine;
  try {
    Engine = await loading;
  } catch (cause) {
    throw invalidError(
      `\`wasmPath\` ${JSON.stringify(wasmPath)} could not be loaded (${describe(cause)}); copy the .wasm.br next to index.js or set wasmPath`,
      cause,
    );
  }
  const seed = Math.floor(Math.random() * 0xffffffff);
  const facts = runtime.platform();
  /** @type {import('./engine.js').Engine} */
  let engine;
  try {
    engine = new Engine(opts, { ...facts, seed }, COMMAND_SHAPES);
  } catch (thrown) {
    throw toRequestError(thrown);
  }
  if (engine.mockInRelease()) {
    say('warn', '⚠️ MOCK DATA IN A RELEASE BUILD: mock.allowInRelease is set, so users may see mock routes instead of your backend.');
  }
  const cloudConfig = engine.cloudConfig();
  /** @type {Record<string, Adapter | undefined>} */
  const adapters = {
    ...runtime.adapters(cloudConfig),
    // The app's own instance (validated by the engine): used as it is, never initialised here.
    ...(opts.cloud ? { cloud: createCloudAdapter(cloudConfig, { given: /** @type {any} */ (opts.cloud) }) } : {}),
    // The snapshot's copy of the routes: the ones the engine validated and indexes.
    mock: createMockAdapter(opts.mock && opts.mock.routes ? opts.mock.routes : []),
  };
  const cloud = /** @type {CloudAdapter | undefined} */ (adapters.cloud);
  const debug = Boolean(opts.debug);
  // WeChat's realtime log (实时日志), where it exists: the engine says which failures it hears.
  /** @type {{ warn(...args: unknown[]): void } | undefined} */
  let realtime;
  try {
    realtime = runtime.realtimeLog ? runtime.realtimeLog() : undefined;
  } catch {
    realtime = undefined;
  }
  const now = () => Date.now();
  /** @type {Map<number, Caller>} */
  const callers = new Map();
  /**
   * Request text → the engine's handle for its cache key, or -1 when it has
   * none (the engine voids handles; at most as many as it keeps).
   * @type {Map<string, number>}
   */
  const handles = new Map();
  const handleCapacity = engine.handleCapacity();
  // Longer paths and data go the slow way, where the engine refuses them before copying them
  // (data by what a GET's query holds, the smaller: a larger body goes the slow way too).
  const { targetBytes: maxPath, queryJson: maxData } = engine.limits();
  /** @type {Map<number, Fetch>} */
  const fetches = new Map();
  // Destroyed: no new requests; the engine is freed once the last one settles.
  // Declared before any watcher is installed: a platform may call back at once.
  let destroyed = false;
  let freed = false;
  /** @type {Set<(event: import('../types').SyncEvent) => void>} */
  const syncListeners = new Set();
  const queueKey = engine.queueKey();
  // The first client of the app holds the offline queue (see `heldQueues`).
  const holdsQueue = Boolean(runtime.storage) && !heldQueues.has(queueKey);
  if (holdsQueue) heldQueues.add(queueKey);
  // Commands being executed: the engine is not freed under them (an `end`
  // may come before a `synced` or `saveQueue` that still needs it).
  // Declared before any watcher is installed: a platform may call back at once.
  let depth = 0;
  /**
   * The shared cloud init's one timer: its attempt's deadline or the pause
   * before its retry. Declared before any watcher is installed, as `depth`.
   * @type {ReturnType<typeof setTimeout> | undefined}
   */
  let initTimer;
  /**
   * The fleet reports' one timer (`report`): the engine arms it again each time it fires.
   * @type {ReturnType<typeof setTimeout> | undefined}
   */
  let reportTimer;
  /**
   * Watched queries (`client.watch`): each listener and the last value it heard.
   * @type {Map<number, { listener: (event: any) => void, last: any }>}
   */
  const watchers = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let watchTimer;
  const freeIfDone = () => {
    if (depth === 0 && destroyed && !freed && callers.size === 0 && fetches.size === 0) {
      freed = true;
      // Whatever it would report has no engine to hear it.
      if (initTimer !== undefined) clearTimeout(initTimer);
      if (reportTimer !== undefined) clearTimeout(reportTimer);
      if (watchTimer !== undefined) clearTimeout(watchTimer);
      engine.free();
      if (sockets) sockets.free();
      if (holdsQueue) heldQueues.delete(queueKey);
    }
  };
  // Given with the options, it hears the replays that start with the client.
  if (opts.onSync !== undefined) {
    if (typeof opts.onSync !== 'function') {
      engine.free();
      if (holdsQueue) heldQueues.delete(queueKey);
      throw invalidError(`\`onSync\` must be a function, got ${typeof opts.onSync}`);
    }
    syncListeners.add(opts.onSync);
  }
  // `header` as a function: called for every attempt (the engine asks with a `headers` command).
  const headerFunction = typeof opts.header === 'function' ? opts.header : undefined;
  /**
   * Socket connects waiting for the shared cloud init: the engine says when
   * it ended (`cloudReady`, `cloudFailed`).
   * @type {Array<{ resolve: () => void, reject: (error: Error) => void }>}
   */
  let cloudWaiters = [];
  // The network's and the app's state, for sockets made later.
  let online = true;
  let hidden = false;
  /**
   * The socket driver, made on the first `client.socket()` from the sockets'
   * JS (a file of its own in the mini-program and Node builds), with the
   * socket engine (a wasm module of its own) loaded behind it.
   * @type {ReturnType<typeof import('./socket.js').createSocketDriver> | undefined}
   */
  let sockets;
  /** The socket driver, made now if need be; throws a RequestError when its JS cannot be loaded. */
  const socketDriver = () => {
    if (sockets) return sockets;
    /** @type {typeof import('./sockets-chunk.js')} */
    let chunk;
    try {
      if (!runtime.socketsChunk) throw new Error('this runtime has no sockets');
      chunk = runtime.socketsChunk();
    } catch (cause) {
      throw invalidError(`the sockets' code \`mp_request_sockets.js\` could not be loaded (${describe(cause)}); copy it next to index.js`, cause);
    }
    /** @type {import('./socket.js').SocketTransports} */
    const transports = runtime.socketTransports ? runtime.socketTransports(adapters, chunk) : {};
    if (cloud) {
      // A cloud socket connects once the engine's shared init (the requests' too) is done.
      transports.cloud = (target, wanted) =>
        cloudReady().then(() => {
          if (wanted && !wanted()) throw new Error('superseded while the cloud init ran');
          return cloud.connect(target);
        });
    }
    sockets = chunk.createSocketDriver({
      engine,
      // The socket engine: a module of its own, loaded on the first `client.socket()`.
      // The locale is read now: the request engine may be freed by the time the module is loaded.
      machines: () => {
        const locale = engine.locale();
        return loadSockets(runtime.instantiate, wasmPath, chunk.glue).then((Sockets) => new Sockets(seed, locale));
      },
      now,
      transports,
      run: socketEvent,
      // What services push to the library over sockets goes to the request engine.
      live: {
        invalidate: (names) => event(() => engine.invalidatePushed(names).slice(1)),
        ignored: () => event(() => (engine.frameIgnored(), [])),
        opened: () => event(() => engine.socketOpened()),
      },
      log: debug ? log : undefined,
      online,
      hidden,
      errors: { invalidError, toRequestError },
    });
    return sockets;
  };
  const stopWatching = runtime.watchNetwork((value) => {
    if (debug) log(`network ${value ? 'online' : 'offline'}`);
    if (freed) return;
    // Back online, queued mutations replay.
    event(() => engine.setOnline(value, now()));
    online = value;
    if (sockets) sockets.setOnline(value);
  });
  const persistKey = runtime.storage ? engine.persistKey() : undefined;
  if (persistKey && runtime.storage) {
    const restored = engine.restore(runtime.storage.load(persistKey), now());
    if (debug) {
      log(restored.discarded ? `cache: stored value discarded (${restored.discarded})` : `cache: ${restored.restored} entries restored`);
    }
  } else if (debug && engine.persistKey()) {
    log('cache: persist is on, but this runtime has no storage');
  }
  /** Writes the queue now; undefined when it is durable, otherwise why not. */
  const saveQueue = () => {
    if (!runtime.storage) return 'this runtime has no storage';
    if (!holdsQueue) return `another client of this app holds the offline queue (${queueKey}): create one client in app.js and share it`;
    try {
      runtime.storage.saveNow(queueKey, engine.queueSnapshot());
      return undefined;
    } catch (error) {
      return describe(error);
    }
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let persistTimer;
  const persistNow = () => {
    if (persistTimer !== undefined) clearTimeout(persistTimer);
    persistTimer = undefined;
    if (freed || !persistKey || !runtime.storage) return;
    // From a timer or the platform's onAppHide: a failed write is reported, never thrown there.
    try {
      runtime.storage.save(persistKey, engine.snapshot(now()));
    } catch (error) {
      say('warn', `cache not saved: ${describe(error)}`);
    }
  };
  const stopWatchingLifecycle = runtime.watchLifecycle
    ? runtime.watchLifecycle(
        () => {
          if (persistTimer !== undefined) persistNow();
          if (freed) return;
          hidden = true;
          if (sockets) sockets.setHidden(true);
          event(() => engine.appHidden(true, now()));
        },
        () => {
          if (freed) return;
          hidden = false;
          if (sockets) sockets.setHidden(false);
          // Requests interrupted in the background are sent again now.
          event(() => engine.appHidden(false, now()));
        },
      )
    : () => {};
  // Fleet reports (`report`): the device's random id is kept in storage, so a device is sampled in or out for good.
  const deviceKey = engine.reportKey();
  if (deviceKey) {
    const stored = runtime.storage ? runtime.storage.load(deviceKey) : undefined;
    const started = engine.startReports(stored, runtime.build, facts.appVersion);
    const device = started[0];
    if (runtime.storage && typeof device === 'string' && device !== stored) {
      try {
        runtime.storage.saveNow(deviceKey, device);
      } catch (error) {
        say('warn', `the device id for reports not saved: ${describe(error)}`);
      }
    }
    if (debug) log(`fleet reports ${started.length > 1 ? 'on' : 'off (sampled out, or mock mode)'} for device ${device}`);
    dispatch(started, 1);
  }

  /**
   * Executes commands one by one. Each is isolated: one that cannot be
   * carried out (an app's callback threw in it) settles its own request and
   * the others still run.
   * @param {ArrayLike<any>} commands
   */
  function dispatch(commands, from = 0) {
    depth += 1;
    try {
      for (let i = from; i < commands.length; i += 1) {
        const c = commands[i];
        try {
          execute(c);
        } catch (error) {
          lost(c && c.id, invalidError(`mp-request could not carry out \`${c && c.type}\` (${describe(error)})`, error), false);
        }
      }
    } finally {
      depth -= 1;
      freeIfDone();
    }
  }

  /**
   * Reports an asynchronous event (timer, platform answer, signal) to the
   * engine, unless the engine is gone by then. Called from timers and the
   * platform's callbacks, so it never throws: an event the engine refuses
   * settles request `id` (when the event is about one).
   * @param {() => ArrayLike<any>} call
   * @param {number} [id]
   */
  function event(call, id) {
    if (freed) return;
    let commands;
    try {
      commands = call();
    } catch (thrown) {
      lost(id, toRequestError(thrown), true);
      return;
    }
    dispatch(commands);
  }

  /**
   * `event` for the sockets: reports a socket event to the engine and
   * executes the socket commands it answers. Never throws (timers and the
   * platform's SocketTask callbacks call it).
   * @param {() => ArrayLike<any>} call
   */
  function socketEvent(call) {
    if (freed) return;
    let commands;
    try {
      commands = call();
    } catch (thrown) {
      say('error', `socket: ${toRequestError(thrown).detail}`);
      return;
    }
    if (sockets) sockets.dispatch(commands);
  }

  /**
   * Request `id` cannot go on: its caller is rejected with `error` and the
   * engine is asked to forget it, so that no later request joins a fetch
   * nobody carries out. Without an id, only reported. Never throws.
   * @param {number | undefined} id
   * @param {RequestError} error
   * @param {boolean} refused The engine refused an event about it (it no longer expects any).
   */
  function lost(id, error, refused) {
    say('error', `${typeof id === 'number' ? `#${id}: ` : ''}${error.detail}`);
    if (typeof id !== 'number' || freed) return;
    settle(id, (r) => r.reject(error));
    let commands;
    try {
      commands = engine.cancel(id, now());
    } catch {
      commands = [];
    }
    dispatch(commands);
    // The engine had already forgotten it: drop the shim's record too (its timer would only ask again).
    const f = fetches.get(id);
    if (f && refused && commands.length === 0) {
      if (f.timer !== undefined) clearTimeout(f.timer);
      fetches.delete(id);
      freeIfDone();
    }
  }

  /**
   * The shim's record of fetch `id` (replays have one from their first command).
   * @param {number} id
   * @returns {Fetch}
   */
  function fetchOf(id) {
    let f = fetches.get(id);
    if (!f) {
      f = { attempt: -1 };
      fetches.set(id, f);
    }
    return f;
  }

  /**
   * Tells every `onSync` listener; one that throws does not stop the others.
   * @param {import('../types').SyncEvent} report
   */
  function tellSync(report) {
    for (const listener of [...syncListeners]) {
      try {
        listener(report);
      } catch (error) {
        say('error', 'an onSync listener threw', error);
      }
    }
  }

  /**
   * Arms fetch `id`'s one timer (the engine's deadline for whatever it waits
   * for), replacing the one it had.
   * @param {Fetch} f @param {number} id @param {number} delayMs
   */
  function arm(f, id, delayMs) {
    if (f.timer !== undefined) clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      f.timer = undefined;
      event(() => engine.onTimer(id, now()), id);
    }, delayMs);
  }

  /** @param {any} c */
  function execute(c) {
    switch (c.type) {
      case 'send':
        return send(c);
      case 'wait': {
        const r = fetches.get(c.id);
        if (!r) return;
        if (debug) log(r.sent ? `#${c.id} retrying in ${c.delayMs} ms` : `#${c.id} waits for a slot or the cloud init (at most ${c.delayMs} ms)`);
        arm(r, c.id, c.delayMs);
        return;
      }
      case 'headers':
        return askHeaders(c);
      case 'resolve':
        return settle(c.id, (r) => r.resolve(responseOf(c)));
      case 'reject':
        return settle(c.id, (r) => {
          if (debug) log(`#${c.id} failed: ${c.error.kind} (${c.error.detail})`);
          // A caller that joined a fetch in flight hears that fetch's last answer too.
          const last = fetches.get(c.fetch === undefined ? c.id : c.fetch)?.last;
          if (realtime && c.logPattern !== undefined) logFailure(realtime, c, last);
          r.reject(new RequestError(c.error, last && !last.ok ? last : undefined));
        });
      case 'abort': {
        const f = fetches.get(c.id);
        if (f) {
          f.attempt = -1;
          // Best effort: whatever the platform answers now is dropped as late anyway.
          quietly(f.abort);
        }
        return;
      }
      case 'end': {
        const f = fetches.get(c.id);
        if (f && f.timer !== undefined) clearTimeout(f.timer);
        fetches.delete(c.id);
        freeIfDone();
        return;
      }
      case 'replay':
        if (debug) log(`#${c.id} replays queued mutation ${c.mutation}: ${c.method} ${c.path}`);
        fetchOf(c.id);
        return;
      case 'synced': {
        const m = c.mutation;
        if (debug) log(`queued mutation ${m.id} ${m.method} ${m.path}: ${c.ok ? 'synced' : `failed for good: ${c.error.kind} (${c.error.detail})`}`);
        tellSync(
          c.ok
            ? { ...pendingOf(m), ok: true, response: { data: c.value.data, statusCode: c.value.statusCode, header: c.value.header || {} } }
            : { ...pendingOf(m), ok: false, error: /** @type {any} */ (new RequestError(c.error)) },
        );
        return;
      }
      case 'saveQueue': {
        const failed = saveQueue();
        if (failed !== undefined) say('warn', `offline queue not saved: ${failed}`);
        event(() => engine.onQueueSaved(failed === undefined, failed, now()));
        return;
      }
      case 'waitReplay':
        setTimeout(() => event(() => engine.onReplayTimer(now())), c.delayMs);
        return;
      case 'report':
        if (debug) log(`#${c.id} sends a fleet report`);
        fetchOf(c.id);
        return;
      case 'watched':
      case 'watchFailed':
        return tellWatchers(c);
      case 'watchFetch':
        if (debug) log(`#${c.id} refetches watched query ${c.watch}`);
        fetchOf(c.id);
        return;
      case 'waitWatch':
        if (watchTimer !== undefined) clearTimeout(watchTimer);
        // Not after destroy(): its watchers are gone.
        if (destroyed) return;
        watchTimer = setTimeout(() => {
          watchTimer = undefined;
          event(() => engine.onWatchTimer(now()));
        }, c.delayMs);
        return;
      case 'waitReport':
        if (reportTimer !== undefined) clearTimeout(reportTimer);
        // Not after destroy(): a destroyed client reports no more.
        if (destroyed) return;
        reportTimer = setTimeout(() => {
          reportTimer = undefined;
          event(() => engine.onReportTimer(now()));
        }, c.delayMs);
        return;
      case 'init':
        return initCloud(c);
      case 'persist':
        if (persistTimer === undefined && persistKey) persistTimer = setTimeout(persistNow, c.delayMs);
        return;
      case 'waitInit':
        if (debug) log(`cloud init retrying in ${c.delayMs} ms`);
        initTimer = setTimeout(() => {
          initTimer = undefined;
          event(() => engine.onInitTimer());
        }, c.delayMs);
        return;
      case 'cloudReady':
        return tellCloudWaiters();
      case 'cloudFailed':
        return tellCloudWaiters(new Error(`cloud init failed: ${c.error.detail}`));
      default:
        throw new Error(`mp-request: unknown command ${c.type}`);
    }
  }

  /**
   * Tells the watchers a command names what their query has now: a value, or a failure (with the last
   * value they heard). A listener that throws does not stop the others.
   * @param {any} c
   */
  function tellWatchers(c) {
    for (const id of c.watches) {
      const w = watchers.get(id);
      if (!w) continue;
      /** @type {{ response?: any, error?: RequestError }} */
      let heard;
      if (c.type === 'watched') {
        w.last = c.value;
        heard = { response: c.value };
      } else {
        heard = { response: w.last, error: new RequestError(c.error) };
      }
      try {
        w.listener(heard);
      } catch (error) {
        say('error', 'a watch listener threw', error);
      }
    }
  }

  /**
   * Asks the client's `header` function for an attempt's headers (it may
   * return them or a Promise of them); the engine validates what it gives.
   * @param {{ id: number, attempt: number, delayMs: number }} c
   */
  function askHeaders(c) {
    const f = fetchOf(c.id);
    arm(f, c.id, c.delayMs);
    /** @param {unknown} value @param {string | undefined} thrown */
    const answer = (value, thrown) => event(() => engine.onHeaders(c.id, c.attempt, value, thrown, now()), c.id);
    let value;
    try {
      value = /** @type {() => unknown} */ (headerFunction)();
    } catch (error) {
      answer(undefined, describe(error));
      return;
    }
    if (value !== null && typeof value === 'object' && typeof (/** @type {any} */ (value).then) === 'function') {
      try {
        /** @type {PromiseLike<unknown>} */ (value).then(
          (headers) => answer(headers, undefined),
          (error) => answer(undefined, describe(error)),
        );
      } catch (error) {
        answer(undefined, describe(error));
      }
      return;
    }
    answer(value, undefined);
  }

  /** @param {SendCommand} c */
  function send(c) {
    const r = fetchOf(c.id);
    r.attempt = c.attempt;
    r.sent = c.attempt;
    r.abort = undefined;
    // The engine's deadline for this attempt (the platform should answer first).
    arm(r, c.id, c.guardMs);
    if (debug) {
      const clamp = c.clampedFrom ? `, timeout ${c.clampedFrom} ms clamped to ${c.timeoutMs} ms (callContainer's maximum)` : '';
      log(`#${c.id} ${c.method} ${c.path} → ${c.route} (${c.reason}), attempt ${c.attempt}, timeout ${c.timeoutMs} ms${clamp}`);
    }
    /** @param {Outcome} outcome */
    const report = (outcome) => {
      const current = fetches.get(c.id);
      // Late answers (after the engine's deadline, a cancel, or a newer attempt) are dropped.
      if (current !== r || r.attempt !== c.attempt) return;
      r.attempt = -1;
      r.last = outcome;
      event(() => {
        if (!outcome.ok) return engine.onFailure(c.id, outcome.errMsg, outcome.errCode, outcome.errno, outcome.fault === true, now());
        const h = engineHeaders(outcome.header);
        return engine.onResponse(
          c.id,
          /** @type {number} */ (outcome.statusCode),
          h.retryAfter,
          h.openid,
          h.etag,
          h.lastModified,
          outcome,
          outcome.bodyNotJson === true,
          now(),
        );
      }, c.id);
    };
    attempt(adapters[c.route], c, r.kept, (abort) => {
      r.abort = abort;
    }).then(report);
  }

  /**
   * Resolves once the engine's shared cloud init is done (at once when it
   * is); rejects when it failed for good.
   * @returns {Promise<void>}
   */
  function cloudReady() {
    return new Promise((resolve, reject) => {
      // Its sockets are closed: nothing may wait (see `destroy`).
      if (destroyed) {
        reject(new Error('the client was destroyed'));
        return;
      }
      const waiter = { resolve, reject };
      cloudWaiters.push(waiter);
      let commands;
      try {
        commands = engine.socketWantsCloud();
      } catch (thrown) {
        cloudWaiters = cloudWaiters.filter((w) => w !== waiter);
        reject(new Error(toRequestError(thrown).detail));
        return;
      }
      if (debug && commands.length > 0 && commands[0].type === 'init') log('socket waits for the cloud init');
      dispatch(commands);
    });
  }

  /**
   * The shared cloud init ended: the sockets waiting for it go on (or fail this connect).
   * @param {Error} [error]
   */
  function tellCloudWaiters(error) {
    const waiting = cloudWaiters;
    cloudWaiters = [];
    for (const w of waiting) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  /**
   * Runs one init attempt; one that does not settle within the engine's
   * `timeoutMs` is reported as failed then, and its late answer dropped.
   * @param {{ attempt: number, timeoutMs: number }} c
   */
  function initCloud(c) {
    if (debug) log(`cloud init, attempt ${c.attempt}`);
    let reported = false;
    /** @param {boolean} ok @param {string} [errMsg] @param {number} [errCode] */
    const report = (ok, errMsg, errCode) => {
      if (reported) return;
      reported = true;
      clearTimeout(timer);
      if (initTimer === timer) initTimer = undefined;
      if (!ok && debug) log(`cloud init failed: ${errMsg}`);
      event(() => engine.onInit(ok, errMsg, errCode, now()));
    };
    const timer = setTimeout(() => report(false, `cloud.init:fail no answer within ${c.timeoutMs} ms`), c.timeoutMs);
    initTimer = timer;
    const done = cloud ? cloud.init() : Promise.reject(new Error('no cloud adapter in this runtime'));
    done.then(
      () => report(true),
      (error) => {
        const f = failed(error, 'cloud.init');
        report(false, f.errMsg, f.errCode);
      },
    );
  }

  /**
   * The response a `resolve` command gives its caller.
   * @param {any} c
   * @returns {import('../types').Response}
   */
  function responseOf(c) {
    /** @type {Outcome & { route?: string, routeReason?: string }} */
    const value = c.value;
    // Kept on the cached object, so that a later hit can answer without the engine's commands.
    if (!c.fromCache && value.route === undefined) {
      value.route = c.route;
      value.routeReason = c.reason;
    }
    if (debug) {
      const how = c.fromCache ? `from the cache${c.stale ? ' (stale, refreshing)' : ''}` : `in ${c.elapsedMs} ms, ${c.attempts} attempt(s)`;
      log(`#${c.id} ${value.statusCode} via ${c.route} ${how}`);
    }
    return {
      data: value.data,
      statusCode: /** @type {number} */ (value.statusCode),
      header: value.header || {},
      route: c.route,
      routeReason: c.reason,
      attempts: c.attempts,
      fromCache: c.fromCache,
      stale: c.stale,
      callID: value.callID,
      elapsedMs: c.elapsedMs,
      ...(c.explain ? { explain: c.explain } : {}),
    };
  }

  /**
   * @param {number} id
   * @param {(r: Caller) => void} finish
   */
  function settle(id, finish) {
    const r = callers.get(id);
    if (!r) return;
    callers.delete(id);
    // A signal that cannot be unlistened to keeps a listener that does nothing (see `listen`).
    quietly(r.unlisten);
    try {
      finish(r);
    } catch (error) {
      r.reject(invalidError(`the answer could not be handed over (${describe(error)})`, error));
    }
    freeIfDone();
  }

  /**
   * @typedef {object} PlainRequest Plain options, read once (see fast-options.js).
   * @property {any[]} args `startFast`'s first five arguments.
   * @property {string | undefined} text What stands for the whole request; undefined: no handle for it.
   * @property {boolean} wantHandle Ask the engine for a handle for `text`.
   */

  /**
   * Reads plain options once: strings as strings, a flat header and flat
   * other options as copies. Undefined for anything unusual (a getter or
   * toJSON that throws, a cycle, binary or string data, not an object):
   * `engine.start` then reads the options whole, checks them the same way
   * and names what is wrong.
   * @param {any} options
   * @returns {PlainRequest | undefined}
   */
  function readPlain(options) {
    try {
      // A revoked Proxy throws even here.
      // Of another prototype (a getter there), the engine reads options the for-in below would not list.
      if (options === null || typeof options !== 'object' || Object.getPrototypeOf(options) !== Object.prototype) return undefined;
      const { path, method, data, header } = options;
      // Strings travel as strings; anything else is the slow path's to name. A NUL (the text's
      // separator, refused by the engine) in either could forge another request's text, and so
      // could an empty method: its text is that of no method (a GET), its arguments are not.
      if (typeof path !== 'string' || path.length > maxPath || path.indexOf('\u0000') >= 0) return undefined;
      if (method !== undefined && (typeof method !== 'string' || method === '' || method.indexOf('\u0000') >= 0)) return undefined;
      let dataJson;
      if (data !== undefined && data !== null) {
        if (typeof data !== 'object') return undefined;
        dataJson = JSON.stringify(data);
        // An ArrayBuffer (of any realm) writes as {}: it goes the slow way, as binary.
        if (typeof dataJson !== 'string' || dataJson.length > maxData) return undefined;
        if (dataJson === '{}' && Object.prototype.toString.call(data) === '[object ArrayBuffer]') return undefined;
      }
      // Any key besides these four: the engine reads the others, from copies when they are flat.
      let keys = 0;
      for (const _ in options) keys += 1;
      // A key for-in does not list (not enumerable, a symbol) is read or refused by the engine.
      if (Reflect.ownKeys(options).length !== keys) return undefined;
      const four = +(path !== undefined) + +(method !== undefined) + +(data !== undefined) + +(header !== undefined);
      /** @type {string | undefined} */
      // Only a path: the path itself, which every other text differs from (they all hold NULs,
      // a path none). The app's own string, so no new string is made and hashed per request.
      let text = keys === 1 ? path : `${path}\u0000${method || ''}\u0000${dataJson || ''}`;
      const headerCopy = header === undefined ? undefined : flatRecord(header);
      const rest = keys === four ? undefined : restOptions(options);
      if (header !== undefined) text = headerCopy ? `${text}\u0000${JSON.stringify(headerCopy)}` : undefined;
      // An empty header part when there is none: the rest's text never passes for a header's.
      if (rest !== undefined && text !== undefined) text = `${text}${header === undefined ? '\u0000' : ''}\u0000${JSON.stringify(rest)}`;
      else if (keys !== four) text = undefined;
      return {
        args: [path, method, dataJson, headerCopy || header, keys === four ? undefined : rest || options],
        // With debug every answer carries the engine's `explain`: no shortcut past it.
        text: debug ? undefined : text,
        wantHandle: false,
      };
    } catch {
      return undefined;
    }
  }

  /**
   * A fresh cached value by the handle the engine gave for this exact text
   * (no strings cross), or the id the engine made this request as a caller
   * of the fetch in flight for it. A text seen for the first time, without a
   * handle, or whose handle went void, asks for one when it starts.
   * @param {PlainRequest} plain
   * @returns {import('../types').Response | number | undefined}
   */
  function byHandle(plain) {
    if (plain.text === undefined) return undefined;
    const handle = handles.get(plain.text);
    const value = handle === undefined || handle < 0 ? undefined : engine.hitHandle(handle, now());
    // Asked again without one (-1): a request that shares gets one once it joins a fetch in flight.
    plain.wantHandle = handle === undefined || handle < 0 || value === null;
    if (typeof value === 'number') return value;
    if (value === undefined || value === null || value.route === undefined) return undefined;
    return {
      data: value.data,
      statusCode: value.statusCode,
      header: value.header || {},
      route: value.route,
      routeReason: value.routeReason,
      attempts: 0,
      fromCache: true,
      stale: false,
      callID: value.callID,
      elapsedMs: 0,
    };
  }

  /**
   * Hands the options to the engine: plain ones the fast way (a few
   * arguments instead of one crossing per option), anything else whole.
   * @param {any} options
   * @param {PlainRequest | undefined} plain `readPlain(options)`
   */
  function start(options, plain) {
    if (plain) {
      const a = plain.args;
      // `[id, handle, ...commands]`: the handle is for `handles`, not for `request`.
      const started = engine.startFast(a[0], a[1], a[2], a[3], a[4], plain.wantHandle, now());
      if (plain.wantHandle && plain.text !== undefined) {
        if (handles.size >= handleCapacity) handles.clear();
        handles.set(plain.text, started[1]);
      }
      started.splice(1, 1);
      // The JSON text of the data: attempts that send it as it is say `body: true`.
      /** @type {any} */ (started).kept = a[2];
      return started;
    }
    // Binary data is sent from a copy taken now, in this realm (the one the
    // engine recognises): what the engine measured is what is sent.
    const data = options !== null && typeof options === 'object' ? options.data : undefined;
    if (Object.prototype.toString.call(data) === '[object ArrayBuffer]') {
      const binary = new Uint8Array(/** @type {ArrayBuffer} */ (data)).slice().buffer;
      const started = /** @type {any} */ (engine.start({ ...options, data: binary }, now()));
      started.kept = binary;
      return started;
    }
    return engine.start(options, now());
  }

  /**
   * A caller's signal fired. One function per client: a request without a
   * signal makes no listener.
   * @param {Caller} r
   */
  function abortCaller(r) {
    const id = r.id;
    // A listener left on a settled request (see `settle`) does nothing.
    if (id === undefined) r.abortedEarly = true;
    else if (callers.get(id) === r) event(() => engine.cancel(id, now()), id);
  }

  /**
   * @param {import('../types').RequestOptions} requestOptions
   * @returns {Promise<import('../types').Response>}
   */
  function request(requestOptions) {
    if (destroyed) return Promise.reject(invalidError('`client` was destroyed; create a new one with createClient'));
    const plain = readPlain(requestOptions);
    // A fresh value at once: one settled Promise, nothing registered, nothing to wait for.
    // (A request with a signal has no text: it never answers here.)
    const hit = plain && byHandle(plain);
    if (typeof hit === 'number') {
      // Joined: a caller of the fetch in flight, answered with it (no signal on this path).
      return new Promise((resolve, reject) => {
        callers.set(hit, { resolve, reject, id: hit });
      });
    }
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      /** @type {Caller} */
      const r = { resolve, reject };
      // Listened to before the engine starts anything: a signal that cannot
      // be listened to leaves nothing behind (no fetch for others to join).
      try {
        listen(requestOptions, r, abortCaller);
      } catch (error) {
        reject(invalidError(`\`signal\` could not be listened to (${describe(error)})`, error));
        return;
      }
      let started;
      try {
        started = start(requestOptions, plain);
      } catch (thrown) {
        quietly(r.unlisten);
        reject(toRequestError(thrown));
        return;
      }
      // A value at once (a cache hit): nothing to register, nothing to wait for.
      if (started.length === 3 && started[1].type === 'resolve' && started[2].type === 'end') {
        quietly(r.unlisten);
        resolve(responseOf(started[1]));
        return;
      }
      const id = started[0];
      r.id = id;
      callers.set(id, r);
      fetches.set(id, { attempt: 0, kept: started.kept });
      // An already aborted signal was seen by the engine: `start` rejected it.
      dispatch(started, 1);
      // Aborted while the engine read the options (a getter did it).
      if (r.abortedEarly) event(() => engine.cancel(id, now()), id);
    });
  }

  if (holdsQueue && runtime.storage) {
    // Mutations queued offline in an earlier run replay now (when online).
    // Last, once everything the commands use exists: they may save the queue,
    // ask the header function, or end a replay at once.
    const restored = engine.restoreQueue(runtime.storage.load(queueKey), now());
    if (restored.discarded) say('warn', `offline queue: stored mutations discarded (${restored.discarded})`);
    if (debug && restored.restored > 0) log(`offline queue: ${restored.restored} mutations restored`);
    // A damaged stored mutation is dropped and reported, never a failed start.
    for (const { mutation, error } of restored.damaged) {
      say('warn', `offline queue: stored mutation dropped (${error.detail})`);
      tellSync({ ...pendingOf(mutation), ok: false, error: /** @type {any} */ (new RequestError(error)) });
    }
    dispatch(restored.commands);
  }

  /** Throws when the client was destroyed: no method may reach a freed engine. */
  const live = () => {
    if (destroyed) throw invalidError('`client` was destroyed; create a new one with createClient');
  };
  /**
   * Runs an engine call, turning what it throws into a RequestError.
   * @template T @param {() => T} call @returns {T}
   */
  const guarded = (call) => {
    live();
    try {
      return call();
    } catch (thrown) {
      throw toRequestError(thrown);
    }
  };

  return {
    request,
    setUser(user) {
      guarded(() => dispatch(engine.setUser(user, now())));
    },
    invalidate: (target) =>
      guarded(() => {
        const out = engine.invalidate(target);
        // Watched entries among those dropped are refetched (after a short coalescing wait).
        dispatch(out, 1);
        return out[0];
      }),
    watch(options, listener) {
      live();
      if (typeof listener !== 'function') throw invalidError(`\`watch\` needs a listener function, got ${typeof listener}`);
      const out = guarded(() => engine.watch(options, now()));
      const id = out[0];
      watchers.set(id, { listener, last: undefined });
      dispatch(out, 1);
      return () => {
        if (!watchers.delete(id) || freed) return;
        // The fetch made for it alone stops with it.
        event(() => engine.unwatch(id, now()).slice(1));
      };
    },
    cacheStats: () => guarded(() => engine.cacheStats()),
    stats: () => guarded(() => engine.stats(now())),
    resetStats: () => guarded(() => engine.resetStats()),
    socket(socketOptions) {
      live();
      return socketDriver().open(socketOptions);
    },
    prepareSockets() {
      let driver;
      try {
        live();
        driver = socketDriver();
      } catch (error) {
        return Promise.reject(error);
      }
      return driver.prepare().catch((cause) => {
        if (destroyed) throw invalidError('`client` was destroyed while the socket engine loaded', cause);
        throw invalidError(`the socket engine \`${socketsPath(wasmPath)}\` could not be loaded (${describe(cause)}); copy it next to the request engine's wasm`, cause);
      });
    },
    pending: () => guarded(() => engine.pending().map(pendingOf)),
    dropPending(user) {
      const dropped = guarded(() => engine.dropPending(user, now()));
      dispatch(dropped, 1);
      return dropped[0];
    },
    onSync(listener) {
      live();
      if (typeof listener !== 'function') throw invalidError(`\`onSync\` needs a function, got ${typeof listener}`);
      syncListeners.add(listener);
      return () => void syncListeners.delete(listener);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (reportTimer !== undefined) clearTimeout(reportTimer);
      reportTimer = undefined;
      const watching = [...watchers.keys()];
      watchers.clear();
      if (watchTimer !== undefined) clearTimeout(watchTimer);
      watchTimer = undefined;
      stopWatching();
      stopWatchingLifecycle();
      if (sockets) sockets.closeAll();
      // The connects still waiting for the cloud init end now, not when (if ever) it does:
      // with the engine freed, no end of the init would reach them.
      tellCloudWaiters(new Error('the client was destroyed'));
      if (persistKey && engine.persistDue()) persistNow();
      // A report in flight (or waiting for the app to come back) must not keep the engine alive.
      if (deviceKey) event(() => engine.stopReports(now()));
      // The engine forgets the watchers too: the fetches made for them alone stop. Last, as
      // the last one may free the engine (every event after that is a no-op).
      for (const id of watching) event(() => engine.unwatch(id, now()).slice(1));
      freeIfDone();
    },
  };
}

/**
 * A failure in WeChat's realtime log, as the engine chose to show it: kind, path pattern, route, attempts and
 * the platform's callID; never a header, a body or a query value. A log that throws loses only this line.
 * @param {{ warn(...args: unknown[]): void }} realtime
 * @param {{ logPattern: string, error: { kind: string, route: string | null, attempts: number } }} c
 * @param {Outcome | undefined} last
 */
function logFailure(realtime, c, last) {
  try {
    realtime.warn('[mp-request] request failed', {
      kind: c.error.kind,
      pattern: c.logPattern,
      route: c.error.route,
      attempts: c.error.attempts,
      callID: last && typeof last.callID === 'string' ? last.callID : undefined,
    });
  } catch {
    // The app's own log settings (or a stand-in) refused it: nothing else depends on it.
  }
}

/**
 * Runs one attempt. A missing adapter or one that throws is the app's or the
 * runtime's fault, reported as such (`fault`: never retried), so the engine
 * still settles the request.
 * @param {Adapter | undefined} adapter
 * @param {SendCommand} command
 * @param {ArrayBuffer | string | undefined} kept
 * @param {(abort: () => void) => void} onAbort
 * @returns {Promise<Outcome>}
 */
async function attempt(adapter, command, kept, onAbort) {
  if (!adapter) return { ok: false, errMsg: `${command.route}: this runtime has no adapter for the ${command.route} route`, fault: true };
  try {
    const outcome = await adapter.send(command, kept, onAbort);
    // Adapters answer through `answered` and `failed` (outcome.js); anything else is their bug.
    if (outcome && typeof outcome.ok === 'boolean') return outcome;
    return { ok: false, errMsg: `${command.route}:fail the adapter answered ${typeof outcome}`, fault: true };
  } catch (error) {
    return { ok: false, errMsg: `${command.route}:fail the adapter threw: ${describe(error)}`, fault: true };
  }
}

/**
 * Listens to the request's `signal`, if it has one the engine will accept
 * (it names anything else). Throws what `addEventListener` throws.
 * @param {unknown} options
 * @param {Caller} r Gets `unlisten`.
 * @param {(r: Caller) => void} abortCaller
 */
function listen(options, r, abortCaller) {
  let signal;
  try {
    signal = options !== null && typeof options === 'object' ? /** @type {any} */ (options).signal : undefined;
  } catch {
    return; // The engine reads it too and names the getter that threw.
  }
  if (signal === null || (typeof signal !== 'object' && typeof signal !== 'function')) return;
  const add = signal.addEventListener;
  if (typeof add !== 'function') return;
  const onAbort = () => abortCaller(r);
  add.call(signal, 'abort', onAbort);
  r.unlisten = () => {
    const remove = signal.removeEventListener;
    if (typeof remove === 'function') remove.call(signal, 'abort', onAbort);
  };
}

/**
 * Calls `f` if there is one; what it throws is dropped (best-effort clean-up
 * of the app's or the platform's objects).
 * @param {(() => void) | undefined} f
 */
function quietly(f) {
  if (!f) return;
  try {
    f();
  } catch {
    // Nothing to do: the caller goes on either way.
  }
}

/**
 * The response headers the engine reads, whatever their case, in one pass: `Retry-After`, `X-WX-OPENID`,
 * and the validators a cached copy is revalidated with (`ETag`, `Last-Modified`).
 * @param {Record<string, string> | undefined} headers
 */
function engineHeaders(headers) {
  /** @type {{ retryAfter?: string, openid?: string, etag?: string, lastModified?: string }} */
  const out = {};
  if (!headers) return out;
  for (const key in headers) {
    const n = key.length;
    // Only names of these lengths are lower-cased: most headers are none of them.
    if (n !== 4 && n !== 11 && n !== 13) continue;
    const name = key.toLowerCase();
    if (name === 'retry-after') out.retryAfter = headers[key];
    else if (name === 'x-wx-openid') out.openid = headers[key];
    else if (name === 'etag') out.etag = headers[key];
    else if (name === 'last-modified') out.lastModified = headers[key];
  }
  return out;
}

/** @param {string} line */
function log(line) {
  say('log', line);
}

/**
 * A queued mutation as the engine describes it, with its data parsed back.
 * @param {any} m
 * @returns {import('../types').PendingMutation}
 */
function pendingOf(m) {
  return {
    id: m.id,
    method: m.method,
    path: m.path,
    header: m.header,
    data: m.dataJson === undefined ? undefined : JSON.parse(m.dataJson),
    idempotencyKey: m.idempotencyKey,
    user: m.user === undefined ? null : m.user,
    queuedAt: m.queuedAt,
    attempts: m.attempts,
  };
}
