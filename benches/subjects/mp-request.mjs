// mp-request as a mini-program ships it: the built bundle (dist/miniprogram),
// loaded in this process with the two globals it needs, `wx` and
// `WXWebAssembly`. callContainer (of the library's `wx.cloud.Cloud`) answers from the in-process
// backend one promise tick later: the zero-latency backend every library gets.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { ROOT } from './paths.mjs';

// MP_REQUEST_BUNDLE points at another build (a before/after comparison).
const BUNDLE = process.env.MP_REQUEST_BUNDLE || join(ROOT, 'dist', 'miniprogram', 'mp-request');

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend, maxEntries = 200 }) {
  installMiniprogramGlobals(backend);
  const { createClient } = createRequire(import.meta.url)(join(BUNDLE, 'index.js'));
  const base = {
    env: 'prod-bench',
    service: 'bench',
    // The device decompresses .wasm.br natively; Node reads the same engine uncompressed.
    wasmPath: '/utils/mp-request/mp_request.wasm',
    retry: { limit: 3 },
  };
  const client = await createClient({
    ...base,
    cache: { maxEntries, maxBytes: 64 << 20, rules: [{ path: '/api/cached/*', ttlMs: 3_600_000 }] },
  });
  // Scenario e measures the decisions of 4 attempts, as every library makes
  // them. By default the breaker and the retry budget would stop calling a
  // backend that fails everything (about 0.001 calls per request), so its
  // client turns both off to do the same work as the others. Made on first
  // use, so that the cold start (f) times one client, as for every library.
  /** @type {Promise<any> | undefined} */
  let retrying;
  const retried = (/** @type {number} */ id) => {
    retrying ??= createClient({ ...base, breaker: false, retryBudget: false });
    return retrying.then((c) => get(c, '/api/fail/item')(id));
  };
  const get = (c, path) => (id) => c.request({ path, data: { id } }).then((res) => res.data);
  return {
    cached: get(client, '/api/cached/item'),
    uncached: get(client, '/api/live/item'),
    // Identical GETs in flight share one call, cached or not.
    shared: get(client, '/api/live/item'),
    retried,
  };
}

/** @param {import('../harness.mjs').Backend} backend */
export function installMiniprogramGlobals(backend) {
  const noop = () => {};
  globalThis.WXWebAssembly = {
    instantiate: (path, imports) => WebAssembly.instantiate(readFileSync(join(BUNDLE, basename(path))), imports),
  };
  const callContainer = ({ path, data, success, fail }) => {
    backend(path, data).then(
      (body) => success({ data: body, statusCode: 200, header: {}, callID: '', errMsg: 'cloud.callContainer:ok' }),
      () => fail({ errMsg: 'cloud.callContainer:fail network error' }),
    );
  };
  globalThis.wx = {
    cloud: {
      init: noop,
      callContainer,
      // mp-request calls through an instance of its own (it never calls wx.cloud.init).
      Cloud: function Cloud() {
        return { init: () => Promise.resolve(), callContainer, connectContainer: noop };
      },
    },
    getAppBaseInfo: () => ({ SDKVersion: '3.6.0' }),
    getDeviceInfo: () => ({ platform: 'android' }),
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'release' } }),
    getNetworkType: ({ success }) => success({ networkType: 'wifi' }),
    onNetworkStatusChange: noop,
    onAppHide: noop,
    onAppShow: noop,
    getStorageSync: () => '',
    setStorage: noop,
  };
}
