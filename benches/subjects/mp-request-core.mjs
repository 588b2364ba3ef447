// mp-request as a mini-program ships it, whatever the engine: the built
// bundle (dist/miniprogram/mp-request/index.js + mp_request.wasm) with the two
// globals it needs, `wx` and `WXWebAssembly`. The library calls through its own
// `new wx.cloud.Cloud({ resourceEnv })` (after `await instance.init()`), whose
// callContainer answers from the in-process backend one promise tick later,
// as text (the backend's JSON string, `content-type: application/json`), as
// the platform does for `dataType: 'text'`: the shim parses it. Portable: Node loads it from
// subjects/mp-request.mjs, jsc from jsc/mp-request.mjs, each with its own way
// of loading the bundle and reading the wasm.
import { AUTH_HEADER, orderBody } from '../harness.mjs';

/**
 * What a test backend may answer instead of a body: a status and a body of its choosing.
 */
export class Reply {
  /** @param {number} statusCode @param {unknown} body */
  constructor(statusCode, body) {
    this.statusCode = statusCode;
    this.body = body;
  }
}

/** A test backend's object answer as JSON text (the bench's backend answers text already). */
const textOf = (body) => (typeof body === 'string' ? body : JSON.stringify(body));
const JSON_HEADER = Object.freeze({ 'content-type': 'application/json' });

/**
 * A query string's parameters (the correctness run's echo; the bench's backend reads `id` itself).
 * @param {string | undefined} query
 */
export function parseQuery(query) {
  /** @type {Record<string, string>} */
  const out = {};
  if (!query) return out;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    out[key] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
  }
  return out;
}

/**
 * Installs `wx` and `WXWebAssembly`.
 * @param {{ backend: import('../harness.mjs').Backend, readWasm: (path: string) => Uint8Array | ArrayBuffer }} options
 *   `readWasm` gets the `wasmPath` the library asked for and returns the module's bytes.
 */
export function installMiniprogramGlobals({ backend, readWasm }) {
  const noop = () => {};
  /** @type {any} */ (globalThis).WXWebAssembly = {
    instantiate: (path, imports) => {
      try {
        return WebAssembly.instantiate(readWasm(path), imports);
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
  // As little work as a platform's: the path split from its query string, the body (JSON text, as
  // the engine sent it) and the answer (JSON text) handed over as they are.
  const callContainer = ({ path: full, header, data, success, fail }) => {
    const q = full.indexOf('?');
    backend(q < 0 ? full : full.slice(0, q), q < 0 ? undefined : full.slice(q + 1), data, header).then(
      (answer) => {
        const reply = answer instanceof Reply ? answer : null;
        success({
          data: textOf(reply ? reply.body : answer),
          statusCode: reply ? reply.statusCode : 200,
          header: JSON_HEADER,
          callID: '',
          errMsg: 'cloud.callContainer:ok',
        });
      },
      () => fail({ errMsg: 'cloud.callContainer:fail network error' }),
    );
  };
  /** @type {any} */ (globalThis).wx = {
    cloud: {
      init: noop,
      callContainer,
      // mp-request calls through an instance of its own (it never calls wx.cloud.init).
      Cloud: function Cloud() {
        return { init: () => Promise.resolve(), callContainer, connectContainer: noop };
      },
    },
    getAppBaseInfo: () => ({ SDKVersion: '3.6.0' }),
    getDeviceInfo: () => ({ platform: 'ios' }),
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'release' } }),
    getNetworkType: ({ success }) => success({ networkType: 'wifi' }),
    onNetworkStatusChange: noop,
    onAppHide: noop,
    onAppShow: noop,
    getStorageSync: () => '',
    setStorage: noop,
  };
}

/** The options every bench client shares. */
export const BASE = {
  env: 'prod-bench',
  service: 'bench',
  // The device decompresses .wasm.br natively; the bench reads the same engine uncompressed.
  wasmPath: '/utils/mp-request/mp_request.wasm',
  retry: { limit: 3 },
};

/**
 * The subject, on a bundle already loaded (its `createClient`).
 * @param {{ createClient: (options: object) => Promise<any>, maxEntries?: number }} options
 * @returns {Promise<import('../harness.mjs').Subject>}
 */
export async function createSubject({ createClient, maxEntries = 200 }) {
  const client = await createClient({
    ...BASE,
    cache: { maxEntries, maxBytes: 64 << 20, rules: [{ path: '/api/cached/*', ttlMs: 3_600_000 }] },
  });
  // A request with an Authorization header is cached only when marked private, in the user's partition.
  client.setUser('bench-user');
  // Scenario e measures the decisions of 4 attempts, as every library makes
  // them. By default the breaker and the retry budget would stop calling a
  // backend that fails everything (about 0.001 calls per request), so its
  // client turns both off to do the same work as the others. Made on first
  // use, so that the cold start (f) times one client, as for every library.
  /** @type {Promise<any> | undefined} */
  let retrying;
  const retried = (/** @type {number} */ id) => {
    retrying ??= createClient({ ...BASE, breaker: false, retryBudget: false });
    return retrying.then((c) => c.request({ path: '/api/fail/item', data: { id } })).then(dataOf);
  };
  const dataOf = (res) => res.data;
  const get = (path, extra) => (id) => client.request({ path, data: { id }, ...extra }).then(dataOf);
  const header = { ...AUTH_HEADER };
  return {
    cached: get('/api/cached/item'),
    cachedWithHeader: get('/api/cached/item', { header, cache: { private: true } }),
    cachedWithOption: get('/api/opt/item', { cache: { ttlMs: 3_600_000 } }),
    cachedWithPriority: get('/api/cached/item', { priority: 'high' }),
    uncached: get('/api/live/item'),
    uncachedWithHeader: get('/api/live/item', { header }),
    post: (id) => client.request({ path: '/api/orders', method: 'POST', data: orderBody(id), idempotent: 'auto' }).then(dataOf),
    // Identical GETs in flight share one call, cached or not.
    shared: get('/api/live/item'),
    retried,
  };
}

/**
 * The correctness run: what the bench's figures assume works does work in
 * this engine. Throws on the first failure.
 * @param {{ createClient: (options: object) => Promise<any>, createAbortController: () => any,
 *   setBackend: (backend: import('../harness.mjs').Backend) => void, later: (fn: () => void) => void }} lib
 * @returns {Promise<string[]>} what was checked
 */
export async function checkCorrectness({ createClient, createAbortController, setBackend, later }) {
  const checked = [];
  const text = '订单 云托管套餐 ✓ é 😀';
  /** @type {(() => void)[]} */
  const held = [];
  setBackend((path, query, body, header) => {
    if (path === '/api/echo') {
      return Promise.resolve({ query: parseQuery(/** @type {string} */ (query)), body: typeof body === 'string' ? JSON.parse(body) : body, auth: header && header.Authorization });
    }
    if (path === '/api/unavailable') return Promise.resolve(new Reply(503, { code: 503, message: 'down' }));
    if (path === '/api/slow') return new Promise((resolve) => held.push(() => resolve({ late: true })));
    return Promise.resolve({ unexpected: path });
  });
  const same = (what, got, want) => {
    const a = JSON.stringify(got);
    const b = JSON.stringify(want);
    if (a !== b) throw new Error(`${what}: got ${a}, want ${b}`);
    checked.push(what);
  };
  const client = await createClient({ ...BASE });
  const en = await createClient({ ...BASE, locale: 'en' });

  const got = await client.request({ path: '/api/echo', method: 'POST', data: { text }, header: { Authorization: 'Bearer t' } });
  same('a non-ASCII POST body round-trips', got.data.body, { text });
  same('the request header reaches the platform', got.data.auth, 'Bearer t');
  const q = await client.request({ path: '/api/echo', data: { q: text } });
  same('a non-ASCII GET query round-trips', q.data.query, { q: text });

  const failure = async (c) => {
    try {
      await c.request({ path: '/api/unavailable', retry: false });
    } catch (error) {
      return error;
    }
    throw new Error('a 503 did not reject');
  };
  const zh = await failure(client);
  same('a 503: kind, status and zh-CN message', [zh.kind, zh.statusCode, zh.message], ['service', 503, '服务暂时不可用，请稍后重试']);
  const e = await failure(en);
  same('a 503: the en message', [e.kind, e.message], ['service', 'Service temporarily unavailable, please try again later']);

  const controller = createAbortController();
  const pending = client.request({ path: '/api/slow', signal: controller.signal, cache: false });
  await new Promise((resolve) => later(resolve));
  controller.abort();
  const outcome = await pending.then(
    (res) => ({ resolved: res.data }),
    (error) => ({ kind: error.kind, message: error.message }),
  );
  same('cancellation via createAbortController', outcome, { kind: 'cancelled', message: '请求已取消' });
  for (const release of held) release();
  return checked;
}
