/**
 * The mini-program runtime: wasm through `WXWebAssembly.instantiate(path)`
 * (a path inside the code package, no URL, no bytes), calls through `wx`.
 */
import { createCloudAdapter } from '../adapters/cloud.js';
import { createWxRequestAdapter } from '../adapters/wx-request.js';
import { field } from '../outcome.js';

/**
 * Where `createClient` looks for the wasm unless `wasmPath` says otherwise: the folder copied to utils/.
 * The npm package's build has its own (entries/miniprogram-npm.js).
 */
export const DEFAULT_WASM_PATH = '/utils/mp-request/mp_request.wasm.br';

/** @type {import('../client.js').Runtime} */
export const miniprogramRuntime = {
  build: 'miniprogram',
  defaultWasmPath: DEFAULT_WASM_PATH,
  instantiate(path, imports) {
    if (typeof WXWebAssembly === 'undefined') {
      return Promise.reject(new Error('WXWebAssembly is unavailable (base library 2.13.0 or later is required)'));
    }
    return WXWebAssembly.instantiate(path, /** @type {any} */ (imports)).then(exportsOf);
  },
  platform() {
    const w = typeof wx !== 'undefined' ? wx : undefined;
    const cloud = w && w.cloud;
    return {
      // The library calls through its own `wx.cloud.Cloud` instance (never `wx.cloud.init`).
      hasCloud: Boolean(cloud && typeof cloud.Cloud === 'function' && typeof cloud.callContainer === 'function'),
      // getAppBaseInfo / getDeviceInfo replace the deprecated getSystemInfoSync (2.20.1).
      sdkVersion: fact(() => (w && w.getAppBaseInfo ? w.getAppBaseInfo() : /** @type {any} */ (w).getSystemInfoSync()).SDKVersion),
      device: fact(() => (w && w.getDeviceInfo ? w.getDeviceInfo() : /** @type {any} */ (w).getSystemInfoSync()).platform),
      envVersion: fact(() => /** @type {any} */ (w).getAccountInfoSync().miniProgram.envVersion),
      // Empty in development builds; fleet reports say it.
      appVersion: fact(() => /** @type {any} */ (w).getAccountInfoSync().miniProgram.version),
    };
  },
  adapters(cloudConfig) {
    return {
      cloud: createCloudAdapter(cloudConfig, { make: (options) => new wx.cloud.Cloud(options) }),
      http: createWxRequestAdapter(wx),
    };
  },
  storage: {
    load(key) {
      try {
        return wx.getStorageSync(key);
      } catch {
        return undefined;
      }
    },
    save(key, value) {
      wx.setStorage({ key, data: value, fail: (err) => console.warn(`[mp-request] cache not saved: ${err && err.errMsg}`) });
    },
    saveNow(key, value) {
      wx.setStorageSync(key, value);
    },
  },
  // The cloud route's transport is the client's: it waits for the engine's shared cloud init.
  // The sockets' JS, next to index.js: required on the first client.socket() (see sockets-chunk.js).
  socketsChunk: () =>
    /** @type {typeof import('../sockets-chunk.js')} */ (
      // A literal path, so that WeChat's compiler keeps the file in the package; it exists once built.
      // @ts-ignore
      require('./mp_request_sockets.js')
    ),
  socketTransports(adapters, chunk) {
    return {
      http: async (target) => /** @type {any} */ (wx.connectSocket({ url: /** @type {string} */ (target.url), header: target.header })),
      mock: () => chunk.mockSocketTask(),
    };
  },
  // 实时日志 (base library 2.7.1): failures show up where teams already look.
  realtimeLog: () => (typeof wx !== 'undefined' && typeof wx.getRealtimeLogManager === 'function' ? wx.getRealtimeLogManager() : undefined),
  watchLifecycle(onHide, onShow) {
    if (typeof wx === 'undefined' || !wx.onAppHide) return () => {};
    const hide = () => onHide();
    const show = () => onShow();
    wx.onAppHide(hide);
    wx.onAppShow(show);
    return () => {
      if (wx.offAppHide) wx.offAppHide(hide);
      if (wx.offAppShow) wx.offAppShow(show);
    };
  },
  watchNetwork(onChange) {
    if (typeof wx === 'undefined' || !wx.onNetworkStatusChange) return () => {};
    // Called by wx with whatever it has: an answer that is no object tells nothing (and never throws back).
    /** @param {{ isConnected: boolean }} status */
    const listener = (status) => {
      const connected = field(status, 'isConnected');
      if (connected !== undefined) onChange(Boolean(connected));
    };
    wx.onNetworkStatusChange(listener);
    wx.getNetworkType({
      success: (res) => {
        const type = field(res, 'networkType');
        if (typeof type === 'string') onChange(type !== 'none');
      },
    });
    return () => {
      if (wx.offNetworkStatusChange) wx.offNetworkStatusChange(/** @type {any} */ (listener));
    };
  },
};

/**
 * Devices resolve `{ instance, module }`; the typings say `Instance`. Accept
 * both, by shape: `WXWebAssembly.Instance` may be undefined (iOS), so no
 * `instanceof`.
 * @param {any} result
 * @returns {Record<string, any>}
 */
export function exportsOf(result) {
  const instance = result && result.instance && result.instance.exports ? result.instance : result;
  if (!instance || !instance.exports) throw new Error('WXWebAssembly.instantiate resolved without exports');
  return instance.exports;
}

/**
 * A platform fact, or undefined where the API is missing or throws.
 * @param {() => unknown} read
 * @returns {string | undefined}
 */
function fact(read) {
  try {
    const value = read();
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
