// Evaluated inside a mini-program sandbox (sandbox.evaluate), so that every
// object, function, Proxy and Error it makes belongs to the mini-program's
// realm, as the app's own values would. Its completion value is the fuzzer's
// toolbox there: `build` turns a value spec (plain JSON data, printable as a
// reproducer) into a hostile value, and `wx` is a fault-injecting platform
// whose answers follow the plan of the case that made the call (the host
// knows which: it asks through `hooks.plan`).
// A script, not a module: the sandbox has no module loader for host files.
(() => {
  'use strict';

  /** Bounded depth of nested specs, so that a spec cannot blow the builder's own stack. */
  const MAX_SPEC_DEPTH = 64;

  const NUMBERS = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

  /**
   * The host's side (set by lanes.mjs): `plan(advance, path)` gives the plan
   * of the case the current work belongs to and the index of this network
   * call in it (`advance`: one more call), `sent(call)` hears every network call the
   * platform gets, `callbackThrew(text)` every callback of the app that threw
   * into the platform (recorded, never thrown back into `wx`), `nested(p)`
   * every call a `reenter` value made into the client (its outcome is checked too).
   */
  const hooks = { plan: (advance) => ({ plan: NORMAL, attempt: 0, advance }), sent: undefined, callbackThrew: undefined, nested: undefined };
  const NORMAL = { answers: [], rest: 'normal' };

  function boom(what) {
    return new Error(`fuzz: ${what} threw`);
  }

  /** A value from its spec (see generate.mjs for the spec language). */
  function build(spec, depth = 0) {
    if (depth > MAX_SPEC_DEPTH) return null;
    if (spec === null || typeof spec !== 'object') return spec;
    if (Array.isArray(spec)) return spec.map((s) => build(s, depth + 1));
    if (!('$' in spec)) return entries(Object.entries(spec), depth);
    const b = (s) => build(s, depth + 1);
    switch (spec.$) {
      case 'undefined':
        return undefined;
      case 'num':
        return NUMBERS[spec.v];
      case 'bigint':
        return typeof BigInt === 'function' ? BigInt(spec.v) : spec.v;
      case 'symbol':
        return Symbol(spec.v);
      case 'fn':
        return function fuzzFn() {
          if (spec.throws) throw boom('a function');
          return b(spec.ret);
        };
      case 'repeat':
        return (spec.pre || '') + String(spec.s).repeat(spec.n) + (spec.post || '');
      case 'obj': {
        const o = spec.nullProto ? Object.create(null) : {};
        for (const [k, v] of spec.e || []) o[k] = b(v);
        if ('sym' in spec) o[Symbol('fuzz')] = b(spec.sym);
        if ('proto' in spec) Object.defineProperty(o, '__proto__', { value: b(spec.proto), enumerable: true, configurable: true, writable: true });
        return o;
      }
      case 'many': {
        const o = {};
        for (let i = 0; i < spec.n; i += 1) o[`${spec.key}${i}`] = b(spec.v);
        return o;
      }
      case 'list':
        return Array.from({ length: spec.n }, () => b(spec.v));
      case 'deep': {
        let v = b(spec.leaf);
        for (let i = 0; i < spec.n; i += 1) v = spec.kind === 'arr' ? [v] : { a: v };
        return v;
      }
      case 'cycle': {
        const o = entries(spec.e || [], depth);
        o.self = o;
        return o;
      }
      case 'throwGet': {
        const o = entries(spec.e || [], depth);
        Object.defineProperty(o, spec.key, { get() { throw boom(`getter ${spec.key}`); }, enumerable: true, configurable: true });
        return o;
      }
      case 'toJSON':
        return { toJSON() { if (spec.mode === 'throw') throw boom('toJSON'); return spec.mode === 'self' ? this : undefined; } };
      case 'reenter': {
        // Reading it calls back into the client the case uses (a getter or toJSON of the app's
        // that makes a request of its own): refused while the engine is busy, served otherwise.
        let left = 2;
        const again = () => {
          if (left > 0) {
            left -= 1;
            reenter(spec.call);
          }
        };
        if (spec.via === 'toJSON') return { toJSON() { again(); return b(spec.target); } };
        const target = b(spec.target);
        return new Proxy(target !== null && typeof target === 'object' ? target : {}, {
          get(t, key, receiver) {
            again();
            return Reflect.get(t, key, receiver);
          },
        });
      }
      case 'valueOf': {
        // A number-like object: every conversion (Number, String, template) throws, or it flips.
        let n = 0;
        const convert = () => {
          if (spec.mode === 'throw') throw boom('valueOf');
          n += 1;
          return n % 2 ? 200 : 'x';
        };
        return { valueOf: convert, toString: convert, [Symbol.toPrimitive]: convert };
      }
      case 'proxy':
        return proxy(b(spec.target), spec.trap, spec.mode);
      case 'revoked': {
        const { proxy: p, revoke } = Proxy.revocable(spec.arr ? [] : {}, {});
        revoke();
        return p;
      }
      case 'badArray':
        return badArray(b(spec.items || []), spec.mode);
      case 'signal':
        return signal(spec);
      case 'buffer':
        return new ArrayBuffer(spec.n);
      case 'typed':
        return new Uint8Array(spec.n);
      case 'date':
        return new Date(0);
      case 'map':
        return new Map([['a', 1]]);
      case 'regexp':
        return /fuzz/g;
      case 'mockHandler':
        return mockHandler;
      case 'promise':
        if (spec.mode === 'never') return new Promise(() => {});
        if (spec.mode === 'reject') {
          // Handled here: an app's own rejected promise that the library never awaits is not its fault.
          const p = Promise.reject(boom('a promise'));
          p.catch(() => {});
          return p;
        }
        {
          // Resolving with a revoked Proxy rejects (reading its `then` throws): handled here too.
          const p = Promise.resolve(b(spec.v));
          p.catch(() => {});
          return p;
        }
      default:
        throw new Error(`fuzz: unknown spec ${spec.$}`);
    }
  }

  /** The client of the case being built (set by the host): what a `reenter` value calls. */
  let target;

  function reenter(call) {
    if (!target) return;
    try {
      const result = call === 'request' ? target.request({ path: '/fuzz/reenter', cache: false }) : target[call](call === 'invalidate' ? '/fuzz/' : undefined);
      if (result && typeof result.then === 'function' && hooks.nested) hooks.nested(result);
    } catch (e) {
      if (hooks.nested) hooks.nested(Promise.reject(e));
    }
  }

  function entries(list, depth) {
    const o = {};
    for (const [k, v] of list) o[k] = build(v, depth + 1);
    return o;
  }

  /**
   * A Proxy whose `trap` throws ('throw') or answers differently on every
   * other call ('flip'): the value that was checked is not the one used.
   */
  function proxy(target, trap, mode) {
    const t = target !== null && (typeof target === 'object' || typeof target === 'function') ? target : {};
    let calls = 0;
    const flip = () => (calls += 1) % 2 === 0;
    const handler = {};
    const traps = trap === 'all' ? ['get', 'ownKeys', 'getPrototypeOf', 'has', 'getOwnPropertyDescriptor'] : [trap];
    for (const name of traps) {
      handler[name] = (...args) => {
        if (mode === 'throw') throw boom(`proxy trap ${name}`);
        const real = Reflect[name](...args);
        if (!flip()) return real;
        if (name === 'get') return typeof real === 'string' ? 42 : 'flipped';
        if (name === 'ownKeys') return [...real, 'zzFlipped'];
        if (name === 'getPrototypeOf') return Array.isArray(t) ? Object.prototype : Array.prototype;
        if (name === 'has') return !real;
        return real;
      };
    }
    return new Proxy(t, handler);
  }

  function badArray(items, mode) {
    const a = Array.isArray(items) ? items.slice() : [];
    if (mode === 'iterator') {
      a[Symbol.iterator] = () => { throw boom('an array iterator'); };
      return a;
    }
    return new Proxy(a, {
      get(target, key, receiver) {
        if (mode === 'length' && key === 'length') throw boom('array length');
        if (mode === 'index' && typeof key === 'string' && /^\d+$/.test(key)) throw boom(`array index ${key}`);
        return Reflect.get(target, key, receiver);
      },
    });
  }

  /** An AbortSignal look-alike whose listener methods may throw or be missing. */
  function signal(spec) {
    const listeners = new Set();
    const s = { aborted: Boolean(spec.aborted) };
    if (spec.add !== 'missing') {
      s.addEventListener = (type, fn) => {
        if (spec.add === 'throw') throw boom('addEventListener');
        listeners.add(fn);
      };
    }
    if (spec.remove !== 'missing') {
      s.removeEventListener = (type, fn) => {
        if (spec.remove === 'throw') throw boom('removeEventListener');
        listeners.delete(fn);
      };
    }
    if (typeof spec.abortInMs === 'number') {
      setTimeout(() => {
        s.aborted = true;
        for (const fn of [...listeners]) fn();
      }, spec.abortInMs);
    }
    return s;
  }

  function describe(e) {
    try {
      return String((e && e.message) || e);
    } catch {
      return 'something that cannot be described';
    }
  }

  // ---- the fault-injecting platform -------------------------------------

  const state = { online: true, storage: new Map() };
  const listeners = { network: new Set(), hide: new Set(), show: new Set() };

  function normalAnswer(o) {
    return {
      via: 'success',
      timing: 'micro',
      res: { statusCode: 200, header: { 'content-type': 'application/json' }, data: { ok: true, path: o.path || o.url }, callID: 'fuzz-call', errMsg: 'ok' },
    };
  }

  function nextAnswer(o) {
    const { plan, attempt } = hooks.plan(true, String(o.path || o.url || ''));
    if (attempt < plan.answers.length) return plan.answers[attempt];
    if (plan.rest === 'same' && plan.answers.length > 0) return plan.answers[plan.answers.length - 1];
    return normalAnswer(o);
  }

  /** Calls the app's callback as the platform does: what it throws is recorded, never rethrown. */
  function call(fn, arg, what) {
    if (typeof fn !== 'function') return;
    try {
      fn(arg);
    } catch (e) {
      if (hooks.callbackThrew) hooks.callbackThrew(`${what} threw: ${describe(e)}`);
    }
  }

  function later(timing, run) {
    if (timing === 'sync') run();
    else if (timing === 'macro') setTimeout(run, 0);
    else Promise.resolve().then(run);
  }

  /** One network call (wx.request or callContainer) answered as the plan says. */
  function answer(api, o) {
    const opts = o || {};
    if (hooks.sent) hooks.sent({ api, path: opts.path, url: opts.url, method: opts.method, header: opts.header });
    if (!state.online) {
      later('micro', () => call(opts.fail, { errMsg: `${api}:fail network is down`, errno: 600001, errCode: -1 }, `${api} fail`));
      return;
    }
    const a = nextAnswer(opts);
    const res = () => build(a.res);
    switch (a.via) {
      case 'throw':
        throw res();
      case 'never':
        return;
      case 'late':
        setTimeout(() => call(opts.success, res(), `${api} success (late)`), a.ms);
        return;
      default:
        later(a.timing, () => {
          if (a.via === 'success' || a.via === 'both' || a.via === 'twice') call(opts.success, res(), `${api} success`);
          if (a.via === 'fail' || a.via === 'both') call(opts.fail, res(), `${api} fail`);
          if (a.via === 'twice') call(opts.success, res(), `${api} success (again)`);
          call(opts.complete, res(), `${api} complete`);
        });
    }
  }

  /** The mock client's one route: it does what the case's plan says. */
  function mockHandler(req) {
    if (hooks.sent) hooks.sent({ api: 'mock', path: req.path, method: req.method, header: req.header });
    const m = hooks.plan(false, req.path).plan.mock;
    if (!m) return { statusCode: 200, header: { 'content-type': 'application/json' }, data: { ok: true, path: req.path } };
    if (m.mode === 'throw') throw build(m.v);
    if (m.mode === 'reject') return Promise.reject(build(m.v));
    if (m.mode === 'never') return new Promise(() => {});
    return build(m.v);
  }

  /** A SocketTask that opens on the next tick and echoes (sockets are fuzzed for their options). */
  function socketTask() {
    const on = { open: [], message: [], close: [], error: [] };
    let open = true;
    const emit = (name, e) => setTimeout(() => on[name].forEach((f) => call(f, e, `socket ${name}`)), 0);
    emit('open', {});
    return {
      send({ data, fail }) {
        if (!open) return call(fail, { errMsg: 'sendSocketMessage:fail WebSocket is not connected' }, 'socket send fail');
        emit('message', { data });
      },
      close({ code = 1000, reason = '' } = {}) {
        if (open) {
          open = false;
          emit('close', { code, reason });
        }
      },
      onOpen: (f) => on.open.push(f),
      onMessage: (f) => on.message.push(f),
      onClose: (f) => on.close.push(f),
      onError: (f) => on.error.push(f),
    };
  }

  function storageValue(key) {
    const planned = hooks.plan().plan.storage;
    if (planned && Object.prototype.hasOwnProperty.call(planned, key)) {
      if (planned[key] === 'throw') throw boom(`getStorageSync(${key})`);
      return build(planned[key]);
    }
    return state.storage.has(key) ? JSON.parse(state.storage.get(key)) : '';
  }

  const cloud = {
    init() {},
    callContainer: (o) => answer('cloud.callContainer', o),
    connectContainer: (o) => Promise.resolve({ socketTask: socketTask(), errMsg: 'cloud.connectContainer:ok', service: o && o.service }),
    Cloud: function Cloud() {
      return { init: () => Promise.resolve(), callContainer: cloud.callContainer, connectContainer: cloud.connectContainer };
    },
  };

  const wx = {
    getAppBaseInfo: () => ({ SDKVersion: '3.6.0' }),
    getDeviceInfo: () => ({ platform: 'android' }),
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'develop', appId: 'wxfuzz' } }),
    getNetworkType: (o) => later('micro', () => call(o && o.success, { networkType: state.online ? 'wifi' : 'none' }, 'getNetworkType success')),
    onNetworkStatusChange: (f) => listeners.network.add(f),
    offNetworkStatusChange: (f) => listeners.network.delete(f),
    onAppHide: (f) => listeners.hide.add(f),
    onAppShow: (f) => listeners.show.add(f),
    offAppHide: (f) => listeners.hide.delete(f),
    offAppShow: (f) => listeners.show.delete(f),
    getStorageSync: storageValue,
    setStorageSync(key, value) {
      if (hooks.plan().plan.storageWrites === 'throw') throw boom('setStorageSync');
      state.storage.set(key, JSON.stringify(value));
    },
    setStorage(o) {
      later('micro', () => {
        if (hooks.plan().plan.storageWrites === 'throw') return call(o.fail, { errMsg: 'setStorage:fail quota' }, 'setStorage fail');
        state.storage.set(o.key, JSON.stringify(o.data));
        call(o.success, { errMsg: 'setStorage:ok' }, 'setStorage success');
      });
    },
    removeStorageSync: (key) => state.storage.delete(key),
    request(o) {
      answer('request', o);
      return { abort() {}, onHeadersReceived() {}, offHeadersReceived() {} };
    },
    connectSocket: () => socketTask(),
    cloud,
  };

  return {
    build,
    wx,
    hooks,
    /** The client `reenter` values call (the host sets it before building a case's arguments). */
    set target(client) {
      target = client;
    },
    /** The network goes up or down, as the platform tells its listeners. */
    setOnline(online) {
      if (state.online === online) return;
      state.online = online;
      for (const f of [...listeners.network]) call(f, { isConnected: online, networkType: online ? 'wifi' : 'none' }, 'onNetworkStatusChange');
    },
    appHidden(hidden) {
      for (const f of [...listeners[hidden ? 'hide' : 'show']]) call(f, {}, hidden ? 'onAppHide' : 'onAppShow');
    },
    clearStorage: () => state.storage.clear(),
    storageKeys: () => [...state.storage.keys()],
  };
})();
