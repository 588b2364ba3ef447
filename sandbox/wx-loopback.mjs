// A `wx` faithful to miniprogram-api-typings and the platform docs, whose
// network calls go over loopback to the Cloud Run emulator. Host-side code:
// the sandbox exposes it to the mini-program realm.
import http from 'node:http';
import { WebSocket } from 'ws';
import { CALLER_HEADERS, DEFAULT_APPID, GATEWAY_ERROR_HEADER } from '../emulator/cloud-run-emulator.mjs';

const CLOUD_METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const CLOUD_MAX_REQUEST = 100 * 1024;
const CLOUD_MAX_RESPONSE = 1024 * 1024;
const CLOUD_MAX_TIMEOUT = 15_000;
const REQUEST_MAX_TIMEOUT = 60_000;
const MAX_SOCKETS = 5;
const STORAGE_MAX_KEY_BYTES = 1024 * 1024;
const STORAGE_MAX_BYTES = 10 * 1024 * 1024;
const RESET_MSG = 'request:fail errcode:-101 cronet_error_code:-101 error_msg:net::ERR_CONNECTION_RESET';

/**
 * @typedef {object} WxOptions
 * @property {{ url: string, wsUrl: string, env: string }} emulator
 * @property {{ Promise: PromiseConstructor, JSON: JSON }} realm The sandbox's built-ins.
 * @property {string} [openid] The simulated user (the gateway sends it as X-WX-OPENID).
 * @property {string} [appid]
 * @property {'devtools' | 'ios' | 'android'} [platform]
 * @property {'develop' | 'trial' | 'release'} [envVersion]
 * @property {string} [SDKVersion] Base library version.
 * @property {boolean} [cloud] Whether `wx.cloud` exists (false: base library without cloud).
 * @property {Map<string, string>} [storage] Storage to start with (shared with an earlier sandbox: an app relaunch).
 */

/** @param {WxOptions} options */
export function createWx(options) {
  const { emulator, realm } = options;
  const appid = options.appid || DEFAULT_APPID;
  const platform = options.platform || 'android';
  const state = {
    openid: options.openid || 'o-user-1',
    networkType: 'wifi',
    /** `wx.cloud.init` was called: its first call set the env of the default instance, for good. */
    cloudInited: false,
    cloudEnv: /** @type {string | undefined} */ (undefined),
    initFailures: 0,
    cloudApiFailures: 0,
    sockets: new Set(),
    /** Sockets whose SocketTask refuses to send (see `controls.breakSocketSends`). */
    refusing: new WeakSet(),
    /** wx.request calls in flight: going to the background interrupts them. */
    requests: new Set(),
    /** Every `new wx.cloud.Cloud` (see `controls.dropCloudInits`). */
    instances: new Set(),
  };
  /**
   * Counts of API calls, for tests. `wxCloudInit`: `wx.cloud.init` (app-wide); `cloudInstances`:
   * `new wx.cloud.Cloud`; `cloudInit`: those instances' `init()`.
   */
  const calls = { callContainer: 0, request: 0, connectContainer: 0, connectSocket: 0, cloudInit: 0, wxCloudInit: 0, cloudInstances: 0 };
  /** Every cloud call: which API, through `wx.cloud` or an instance, and the env it went to. */
  const cloudCalls = [];
  const listeners = { network: new Set(), show: new Set(), hide: new Set() };
  const storage = options.storage || new Map();
  const ui = [];

  /** Callback style when any callback is given, otherwise a Promise of the sandbox's realm. */
  function invoke(opts, run) {
    const o = opts || {};
    const settled = Promise.resolve().then(run);
    if (o.success || o.fail || o.complete) {
      settled.then(
        (res) => {
          o.success?.(res);
          o.complete?.(res);
        },
        (err) => {
          o.fail?.(err);
          o.complete?.(err);
        },
      );
      return undefined;
    }
    return new realm.Promise((resolve, reject) => settled.then(resolve, reject));
  }

  const fail = (errMsg, extra = {}) => Object.assign(realmObject({ errMsg }), extra);
  const realmObject = (value) => realm.JSON.parse(JSON.stringify(value));

  function cloudFail(code, msg) {
    return fail(`cloud.callContainer:fail errCode: ${code} | errMsg: ${msg}`, { errCode: code });
  }

  /**
   * callContainer on `env`, optionally as another account's resource (resource reuse);
   * `notInit`: the errMsg when the caller is not initialised (env undefined).
   */
  async function callContainer(o, env, resourceAppid, notInit) {
    calls.callContainer += 1;
    if (!env) throw fail(`cloud.callContainer:fail ${notInit}`, { errCode: -601034 });
    if (state.cloudApiFailures > 0) {
      state.cloudApiFailures -= 1;
      throw fail("cloud.callContainer:fail Cloud API isn't enabled", { errCode: -601034 });
    }
    const method = String(o.method || 'GET').toUpperCase();
    if (!CLOUD_METHODS.includes(method)) throw cloudFail(102005, '无效的 HTTP Method');
    const header = lowerKeys(o.header);
    const service = header['x-wx-service'] || o.service;
    if (!service) throw cloudFail(-501000, '缺少 X-WX-SERVICE');
    if ('referer' in header) throw cloudFail(40097, 'Referer 不可设置');
    // WeChat documents a GET's parameters in `path` and nothing about `data` becoming a query:
    // a GET that carries `data` (even empty) is refused, so the library cannot come to rely on it.
    if (method === 'GET' && o.data !== undefined) throw cloudFail(40097, 'GET 请求的参数请放在 path 中，不能带 data');
    const { path, body } = encodeData(o.path, method, o.data);
    if (body && Buffer.byteLength(body) > CLOUD_MAX_REQUEST) throw cloudFail(-606001, '请求包大小超过 100KB');
    if (state.networkType === 'none') throw fail('cloud.callContainer:fail request:fail 网络连接已断开');
    const timeout = o.timeout > 0 && o.timeout <= CLOUD_MAX_TIMEOUT ? o.timeout : CLOUD_MAX_TIMEOUT;
    const res = await send(emulator.url + path, method, body, {
      ...header,
      'x-wx-service': service,
      'x-wx-env': env,
      [CALLER_HEADERS.openid]: state.openid,
      [CALLER_HEADERS.appid]: appid,
      [CALLER_HEADERS.source]: platform === 'devtools' ? 'wx_devtools' : 'wx_client',
      ...(resourceAppid ? { [CALLER_HEADERS.resourceAppid]: resourceAppid } : {}),
    }, timeout).catch((e) => {
      throw e === 'timeout' ? cloudFail(102002, '请求超时') : fail(`cloud.callContainer:fail ${RESET_MSG}`);
    });
    if (res.headers[GATEWAY_ERROR_HEADER]) {
      const { errCode, errMsg } = JSON.parse(res.text);
      throw cloudFail(errCode, errMsg);
    }
    if (Buffer.byteLength(res.text) > CLOUD_MAX_RESPONSE) throw cloudFail(-606002, '响应包大小超过 1MB');
    const result = realmObject({ statusCode: res.status, header: res.headers, callID: randomId(), errMsg: 'cloud.callContainer:ok' });
    result.data = decode(res.text, o.dataType);
    return result;
  }

  async function connectContainer(o, env, resourceAppid, notInit) {
    calls.connectContainer += 1;
    if (!env) throw fail(`cloud.connectContainer:fail ${notInit}`, { errCode: -601034 });
    // The caller's header goes with the handshake; the gateway's own headers win over it.
    const headers = {
      ...lowerKeys(o.header),
      'x-wx-service': o.service,
      'x-wx-env': env,
      [CALLER_HEADERS.openid]: state.openid,
      [CALLER_HEADERS.appid]: appid,
      ...(resourceAppid ? { [CALLER_HEADERS.resourceAppid]: resourceAppid } : {}),
    };
    const socketTask = openSocket(emulator.wsUrl + (o.path || '/'), headers);
    if (!socketTask) throw fail('cloud.connectContainer:fail exceed max task count');
    const result = realmObject({ errMsg: 'cloud.connectContainer:ok' });
    result.socketTask = socketTask;
    return result;
  }

  /** A SocketTask over `ws`; undefined when 5 are already open. */
  function openSocket(url, headers) {
    if (state.sockets.size >= MAX_SOCKETS) return undefined;
    const handlers = { open: [], message: [], close: [], error: [] };
    const emit = (kind, value) => handlers[kind].forEach((h) => h(value));
    const ws = new WebSocket(url, { headers });
    state.sockets.add(ws);
    ws.on('open', () => emit('open', realmObject({ header: {} })));
    ws.on('message', (data, isBinary) => {
      const event = realmObject({});
      event.data = isBinary ? new Uint8Array(data).buffer : data.toString();
      emit('message', event);
    });
    ws.on('error', (e) => emit('error', fail(`socket error: ${e.message}`)));
    ws.on('close', (code, reason) => {
      state.sockets.delete(ws);
      emit('close', realmObject({ code, reason: reason.toString() }));
    });
    const task = {
      send(o) {
        if (ws.readyState !== WebSocket.OPEN || state.refusing.has(ws)) {
          const err = fail('sendSocketMessage:fail WebSocket is not connected');
          o?.fail?.(err);
          o?.complete?.(err);
          return;
        }
        ws.send(o.data, () => {
          const ok = realmObject({ errMsg: 'sendSocketMessage:ok' });
          o?.success?.(ok);
          o?.complete?.(ok);
        });
      },
      close(o = {}) {
        if (o.reason && Buffer.byteLength(o.reason) > 123) {
          o.fail?.(fail('closeSocket:fail reason is longer than 123 bytes'));
          return;
        }
        ws.close(o.code || 1000, o.reason);
        o.success?.(realmObject({ errMsg: 'closeSocket:ok' }));
      },
      onOpen: (h) => void handlers.open.push(h),
      onMessage: (h) => void handlers.message.push(h),
      onClose: (h) => void handlers.close.push(h),
      onError: (h) => void handlers.error.push(h),
    };
    return task;
  }

  const WX_NOT_INIT = "Cloud API isn't enabled, please call wx.cloud.init first";
  const INSTANCE_NOT_INIT = "Cloud API isn't enabled: this instance is not init, call its init() first";

  /**
   * `new wx.cloud.Cloud({ resourceEnv, resourceAppid? })`: an instance of its own, for one
   * environment (the docs: its calls only ever go there), unusable until its own `init()`
   * resolved. Independent of `wx.cloud.init` and of other instances. Its methods live on the
   * prototype (tests may wrap them there).
   */
  class Cloud {
    constructor(o) {
      if (!o || !o.resourceEnv) throw new Error('Cloud: resourceEnv is required');
      calls.cloudInstances += 1;
      this.resourceAppid = o.resourceAppid;
      this.resourceEnv = o.resourceEnv;
      this.ready = false;
      state.instances.add(this);
    }
    init() {
      calls.cloudInit += 1;
      return invoke(undefined, () => {
        if (state.initFailures > 0) {
          state.initFailures -= 1;
          throw fail("cloud.init:fail Cloud API isn't enabled", { errCode: -601034 });
        }
        this.ready = true;
        return undefined;
      });
    }
    callContainer(o) {
      const env = this.ready ? this.resourceEnv : undefined;
      cloudCalls.push({ api: 'callContainer', via: 'instance', env });
      return invoke(o, () => callContainer(o, env, this.resourceAppid, INSTANCE_NOT_INIT));
    }
    connectContainer(o) {
      const env = this.ready ? this.resourceEnv : undefined;
      cloudCalls.push({ api: 'connectContainer', via: 'instance', env });
      return invoke(o, () => connectContainer(o, env, this.resourceAppid, INSTANCE_NOT_INIT));
    }
  }

  /**
   * The default instance. `wx.cloud.init` takes effect on its first call only, app-wide (later
   * calls change nothing); before it, every call fails. A call's `config.env` overrides the env.
   */
  const envOf = (o) => (state.cloudInited ? o?.config?.env || state.cloudEnv : undefined);
  const cloud = {
    init(o = {}) {
      calls.wxCloudInit += 1;
      if (state.cloudInited) return;
      state.cloudInited = true;
      // Without an env: the account's first environment (the emulator's).
      state.cloudEnv = o.env || emulator.env;
    },
    Cloud,
    callContainer(o) {
      const env = envOf(o);
      cloudCalls.push({ api: 'callContainer', via: 'wx.cloud', env });
      return invoke(o, () => callContainer(o, env, undefined, WX_NOT_INIT));
    },
    connectContainer(o) {
      const env = envOf(o);
      cloudCalls.push({ api: 'connectContainer', via: 'wx.cloud', env });
      return invoke(o, () => connectContainer(o, env, undefined, WX_NOT_INIT));
    },
  };

  /** wx.request: returns a RequestTask; no Promise style (as on the platform). */
  function request(o) {
    calls.request += 1;
    let aborted = false;
    const task = { abort: () => void (aborted = true) };
    const method = String(o.method || 'GET').toUpperCase();
    /** @type {() => void} */
    let interrupt = () => {};
    const interrupted = new Promise((_, reject) => {
      interrupt = () => reject(fail('request:fail interrupted', { errno: 600003 }));
    });
    interrupted.catch(() => {});
    state.requests.add(interrupt);
    const done = () => state.requests.delete(interrupt);
    const complete = (/** @type {any} */ res) => {
      done();
      o.complete?.(res);
    };
    invoke({ success: o.success, fail: o.fail, complete }, () => Promise.race([interrupted, call()]));
    return task;

    async function call() {
      let url;
      try {
        url = new URL(o.url);
      } catch {
        throw fail('request:fail invalid url', { errno: 600009 });
      }
      // Only loopback exists here: anything else is "not in the domain list".
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
        throw fail('request:fail url not in domain list', { errno: 600002 });
      }
      if (state.networkType === 'none') throw fail('request:fail 网络连接已断开', { errno: 600001 });
      const { path, body } = encodeData(url.pathname + url.search, method, o.data);
      const timeout = o.timeout > 0 ? Math.min(o.timeout, REQUEST_MAX_TIMEOUT) : REQUEST_MAX_TIMEOUT;
      const res = await send(`${url.origin}${path}`, method, body, lowerKeys(o.header), timeout).catch((e) => {
        throw e === 'timeout' ? fail('request:fail timeout', { errno: 5 }) : fail(RESET_MSG, { errno: 600001 });
      });
      if (aborted) throw fail('request:fail abort', { errno: 600003 });
      const result = realmObject({ statusCode: res.status, header: res.headers, errMsg: 'request:ok' });
      result.data = decode(res.text, o.dataType);
      return result;
    }
  }

  /** Lines written to the realtime log: `{ level, args }`, the args as JSON would store them. */
  const realtimeLogs = [];
  const realtimeLog = realmObject({});
  for (const level of ['debug', 'info', 'warn', 'error']) {
    realtimeLog[level] = (...args) => void realtimeLogs.push({ level, args: JSON.parse(JSON.stringify(args)) });
  }
  realtimeLog.setFilterMsg = () => {};
  realtimeLog.addFilterMsg = () => {};
  realtimeLog.in = () => {};

  const wx = {
    cloud: options.cloud === false ? undefined : cloud,
    request,
    connectSocket(o) {
      calls.connectSocket += 1;
      return openSocket(o.url, lowerKeys(o.header));
    },
    getDeviceInfo: () => realmObject({ platform, brand: 'emulator', model: `${platform} sandbox`, system: platform === 'ios' ? 'iOS 15.8' : 'Android 13' }),
    getSystemInfoSync: () => realmObject({ platform, SDKVersion: options.SDKVersion || '3.6.0', system: platform === 'ios' ? 'iOS 15.8' : 'Android 13', language: 'zh_CN' }),
    getAppBaseInfo: () => realmObject({ SDKVersion: options.SDKVersion || '3.6.0', language: 'zh_CN' }),
    getAccountInfoSync: () => realmObject({ miniProgram: { appId: appid, envVersion: options.envVersion || 'develop', version: options.appVersion || '' } }),
    getNetworkType: (o) => invoke(o, () => realmObject({ networkType: state.networkType, errMsg: 'getNetworkType:ok' })),
    onNetworkStatusChange: (h) => void listeners.network.add(h),
    offNetworkStatusChange: (h) => void (h ? listeners.network.delete(h) : listeners.network.clear()),
    onAppShow: (h) => void listeners.show.add(h),
    offAppShow: (h) => void listeners.show.delete(h),
    onAppHide: (h) => void listeners.hide.add(h),
    offAppHide: (h) => void listeners.hide.delete(h),
    setStorageSync(key, data) {
      const text = JSON.stringify(data);
      if (Buffer.byteLength(text) > STORAGE_MAX_KEY_BYTES) throw new Error('setStorageSync:fail exceed the max size of a single key (1MB)');
      let total = Buffer.byteLength(text);
      for (const [k, v] of storage) if (k !== key) total += Buffer.byteLength(v);
      if (total > STORAGE_MAX_BYTES) throw new Error('setStorageSync:fail exceed storage max size 10MB');
      storage.set(String(key), text);
    },
    getStorageSync: (key) => (storage.has(key) ? realm.JSON.parse(storage.get(key)) : ''),
    removeStorageSync: (key) => void storage.delete(key),
    clearStorageSync: () => storage.clear(),
    getStorageInfoSync: () => realmObject({ keys: [...storage.keys()], currentSize: Math.ceil([...storage.values()].reduce((n, v) => n + Buffer.byteLength(v), 0) / 1024), limitSize: 10240 }),
    setStorage: (o) => invoke(o, () => (wx.setStorageSync(o.key, o.data), realmObject({ errMsg: 'setStorage:ok' }))),
    getStorage: (o) =>
      invoke(o, () => {
        if (!storage.has(o.key)) throw fail('getStorage:fail data not found');
        const res = realmObject({ errMsg: 'getStorage:ok' });
        res.data = realm.JSON.parse(storage.get(o.key));
        return res;
      }),
    removeStorage: (o) => invoke(o, () => (storage.delete(o.key), realmObject({ errMsg: 'removeStorage:ok' }))),
    // 实时日志: what the app writes, kept for tests (`controls.realtimeLogs`).
    getRealtimeLogManager: () => realtimeLog,
    showLoading: (o) => void ui.push({ api: 'showLoading', title: o?.title }),
    hideLoading: () => void ui.push({ api: 'hideLoading' }),
    showToast: (o) => void ui.push({ api: 'showToast', title: o?.title, icon: o?.icon }),
  };

  /** Test-side controls: network, app lifecycle, init failures, user. */
  const controls = {
    calls,
    cloudCalls,
    realtimeLogs,
    /** The env `wx.cloud.init` set for the app (undefined before its first call). */
    appCloudEnv: () => state.cloudEnv,
    ui,
    storage,
    setNetworkType(type) {
      state.networkType = type;
      const event = realmObject({ isConnected: type !== 'none', networkType: type });
      listeners.network.forEach((h) => h(event));
    },
    /** The next `times` `new wx.cloud.Cloud(...).init()` calls reject. */
    failCloudInit(times) {
      state.initFailures = times;
    },
    /** The next `times` callContainer calls fail before sending: "Cloud API isn't enabled" (-601034). */
    failCloudApi(times) {
      state.cloudApiFailures = times;
    },
    /**
     * Every `wx.cloud.Cloud` instance loses its init: its calls fail as before `init()`
     * ("Cloud API isn't enabled", -601034), every one of them, until its `init()` runs again.
     */
    dropCloudInits() {
      for (const instance of state.instances) instance.ready = false;
    },
    setUser(openid) {
      state.openid = openid;
    },
    /**
     * The app goes to the background: listeners hear it, and (as on devices) open sockets are
     * closed and wx.request calls in flight fail with `request:fail interrupted` (errno 600003);
     * what they sent may still reach the server.
     */
    appHide() {
      // What was in flight dies with the hide; what the app's onAppHide listeners start still goes
      // out (a device suspends JS about 5 s later), so they hear the hide after the interruptions.
      const inFlight = [...state.requests];
      state.requests.clear();
      for (const ws of state.sockets) ws.close(1000, 'interrupted');
      for (const interrupt of inFlight) interrupt();
      listeners.hide.forEach((h) => h(realmObject({})));
    },
    appShow() {
      listeners.show.forEach((h) => h(realmObject({ path: 'pages/index/index', scene: 1001 })));
    },
    openSockets: () => state.sockets.size,
    /**
     * The open SocketTasks stop sending, as a task whose connection died before its onClose came:
     * `send` calls `fail` ('sendSocketMessage:fail WebSocket is not connected'). The server still
     * sees the socket open until the client closes it. Tasks opened later send normally.
     */
    breakSocketSends() {
      for (const ws of state.sockets) state.refusing.add(ws);
    },
    closeAll() {
      for (const ws of state.sockets) ws.terminate();
    },
  };

  return { wx, controls };

  function decode(text, dataType) {
    if (dataType && dataType !== 'json') return text;
    try {
      return realm.JSON.parse(text);
    } catch {
      return text; // as the platform does when JSON parsing fails
    }
  }
}

/** wx semantics: GET/HEAD data becomes the query string, other data a JSON body. */
function encodeData(path, method, data) {
  if (data === undefined || data === null) return { path, body: undefined };
  if (method === 'GET' || method === 'HEAD') {
    if (typeof data !== 'object') return { path, body: undefined };
    const query = Object.entries(data)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v))}`)
      .join('&');
    return { path: query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path, body: undefined };
  }
  if (typeof data === 'string') return { path, body: data };
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]') {
    return { path, body: Buffer.from(data) };
  }
  return { path, body: JSON.stringify(data) };
}

function lowerKeys(header) {
  const out = {};
  for (const [k, v] of Object.entries(header || {})) out[k.toLowerCase()] = String(v);
  return out;
}

/** One HTTP exchange over loopback; rejects with 'timeout' or the socket error. */
function send(url, method, body, headers, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      headers: { ...(body !== undefined && !headers['content-type'] ? { 'content-type': 'application/json' } : {}), ...headers },
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject('timeout');
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

function randomId() {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}
