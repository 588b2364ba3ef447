// A mini-program JS runtime in a node:vm realm: only the globals a
// mini-program has (wx, WXWebAssembly, getApp, getCurrentPages, App, Page,
// timers, console and the language built-ins), no eval or new Function, no
// global WebAssembly, and a CommonJS `require` that resolves as WeChat's does (package-relative
// paths and miniprogram_npm packages; no absolute paths, no Node modules).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import vm from 'node:vm';
import { brotliDecompressSync } from 'node:zlib';
import { createWx } from './wx-loopback.mjs';

/**
 * Device profiles.
 * - android: WXWebAssembly.instantiate resolves `{ instance, module }` (as devices do).
 * - ios: resolves the `Instance` (as the typings say); `WXWebAssembly.Instance`,
 *   `Memory` and `Global` are undefined (reported on iOS); no FinalizationRegistry,
 *   WeakRef or BigInt (iOS < 14.5, base library < 3.6.0).
 * - devtools: like android.
 */
export const PROFILES = ['android', 'ios', 'devtools'];

/** The globals a sandbox has besides the language built-ins. */
export const MINIPROGRAM_GLOBALS = [
  'wx', 'WXWebAssembly', 'getApp', 'getCurrentPages', 'App', 'Page', 'Component',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'console',
];

/**
 * @param {object} options
 * @param {string} options.root The mini-program root: '/' in require and WXWebAssembly paths.
 * @param {{ url: string, wsUrl: string, env: string }} options.emulator
 * @param {'android' | 'ios' | 'devtools'} [options.profile]
 * @param {'develop' | 'trial' | 'release'} [options.envVersion]
 * @param {string} [options.openid]
 * @param {string} [options.SDKVersion]
 * @param {string} [options.appVersion] `miniProgram.version` (empty, as in development, by default)
 * @param {boolean} [options.cloud] false: no wx.cloud (old base library)
 * @param {boolean} [options.echoConsole] print the sandbox's console output
 * @param {Map<string, string>} [options.storage] storage carried over from an earlier sandbox (an app relaunch)
 */
export function createSandbox(options) {
  const profile = options.profile || 'android';
  if (!PROFILES.includes(profile)) throw new Error(`unknown profile ${profile}`);
  const root = resolve(options.root);
  const context = vm.createContext({}, { name: `mini-program (${profile})`, codeGeneration: { strings: false, wasm: false } });
  const realm = vm.runInContext('({ Promise, JSON, Object, Error })', context);

  // What V8 gives every realm but a mini-program does not have.
  const removed = ['WebAssembly', 'console'];
  if (profile === 'ios') removed.push('FinalizationRegistry', 'WeakRef', 'BigInt', 'BigInt64Array', 'BigUint64Array');
  for (const name of removed) vm.runInContext(`delete globalThis.${name}`, context);

  const logs = [];
  const console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    console[level] = (...args) => {
      const line = args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ');
      logs.push({ level, line });
      if (options.echoConsole) globalThis.console[level === 'debug' ? 'log' : level](`  [sandbox] ${line}`);
    };
  }

  const { wx, controls } = createWx({
    emulator: options.emulator,
    realm,
    platform: profile,
    envVersion: options.envVersion,
    openid: options.openid,
    SDKVersion: options.SDKVersion,
    appVersion: options.appVersion,
    cloud: options.cloud,
    storage: options.storage,
  });

  const timers = new Map();
  let nextTimer = 1;
  // Once disposed the app is gone, as on a device: nothing it schedules runs
  // (a socket closed by dispose must not keep the host process alive with a reconnect).
  let disposed = false;
  const schedule = (repeat) => (fn, ms, ...args) => {
    if (typeof fn !== 'function') throw new TypeError('setTimeout/setInterval need a function (no code strings)');
    const id = nextTimer++;
    if (disposed) return id;
    const handle = (repeat ? setInterval : setTimeout)(() => {
      if (!repeat) timers.delete(id);
      fn(...args);
    }, ms);
    timers.set(id, handle);
    return id;
  };
  const cancel = (id) => {
    const handle = timers.get(id);
    if (handle !== undefined) {
      clearTimeout(handle);
      timers.delete(id);
    }
  };

  let app;
  const pages = [];
  /** Page definitions by route, as their modules registered them. */
  const definitions = new Map();
  const globals = {
    wx,
    WXWebAssembly: createWXWebAssembly(root, profile, realm),
    getApp: () => app,
    getCurrentPages: () => pages.slice(),
    App: (definition) => {
      app = definition;
    },
    Page: (definition) => {
      pages.push(definition);
    },
    Component: () => {
      throw new Error('Component() is not supported by this sandbox');
    },
    setTimeout: schedule(false),
    setInterval: schedule(true),
    clearTimeout: cancel,
    clearInterval: cancel,
    console,
  };
  for (const [name, value] of Object.entries(globals)) {
    Object.defineProperty(context, name, { value, writable: true, configurable: true, enumerable: true });
  }

  const modules = new Map();
  /** Loads a module by its absolute path in the package ('/utils/x.js'). */
  function load(path) {
    if (modules.has(path)) return modules.get(path).exports;
    const file = inside(root, path);
    if (!file || !existsSync(file)) throw new Error(`module "${path.slice(1)}" is not defined`);
    const module = vm.runInContext('({ exports: {} })', context);
    modules.set(path, module);
    const wrapper = vm.compileFunction(readFileSync(file, 'utf8'), ['require', 'module', 'exports'], {
      parsingContext: context,
      filename: file,
    });
    try {
      wrapper.call(module.exports, requireFrom(posix.dirname(path)), module, module.exports);
    } catch (error) {
      modules.delete(path);
      throw error;
    }
    return module.exports;
  }
  function requireFrom(dir) {
    return (request) => {
      const path = resolveModule(root, dir, request);
      if (!path) {
        throw new Error(`module "${request}" is not defined, require args is '${request}' (relative paths and miniprogram_npm packages resolve)`);
      }
      return load(path);
    };
  }

  /** A page instance as the framework makes one: its definition, a copy of `data`, and `setData`. */
  function instantiate(definition, route) {
    const page = vm.runInContext('({})', context);
    Object.assign(page, definition);
    page.route = route;
    page.data = vm.runInContext('JSON', context).parse(JSON.stringify(definition.data || {}));
    page.setData = (patch, callback) => {
      for (const [key, value] of Object.entries(patch)) page.data[key] = value;
      if (typeof callback === 'function') callback();
    };
    return page;
  }

  return {
    context,
    wx,
    controls,
    logs,
    /** Loads /app.js and runs its onLaunch, as the framework does at start. */
    launch(options = { path: 'pages/index/index', scene: 1001 }) {
      requireFrom('/')('./app.js');
      if (!app) throw new Error('app.js did not call App()');
      if (typeof app.onLaunch === 'function') app.onLaunch(options);
      return app;
    },
    /**
     * Loads a page ('pages/test/cloud-test'), makes its instance and runs onLoad. A page opened
     * again (navigateTo the same page) is another instance of the same definition.
     */
    openPage(route, query = {}) {
      const before = pages.length;
      load(`/${route}.js`);
      if (pages.length > before) definitions.set(route, pages[before]);
      const definition = definitions.get(route);
      if (!definition) throw new Error(`${route}.js did not call Page()`);
      const page = instantiate(definition, route);
      if (typeof page.onLoad === 'function') page.onLoad(query);
      return page;
    },
    /** `require` as a file in `dir` ('/' by default, or '/pages/test') would call it. */
    require: (request, dir = '/') => requireFrom(dir)(request),
    /** Runs source in the sandbox realm (a test's view from inside). */
    evaluate: (code) => vm.runInContext(code, context),
    /** How many of the app's timers are still due (neither run nor cleared): what keeps working after it is "done". */
    pendingTimers: () => timers.size,
    dispose() {
      disposed = true;
      for (const handle of timers.values()) clearTimeout(handle);
      timers.clear();
      controls.closeAll();
    },
  };
}

/** WXWebAssembly: instantiate(path) only, path absolute inside the package, .wasm or .wasm.br. */
function createWXWebAssembly(root, profile, realm) {
  const ios = profile === 'ios';
  return {
    instantiate(path, imports) {
      return new realm.Promise((resolvePromise, reject) => {
        if (typeof path !== 'string') {
          throw new TypeError('WXWebAssembly.instantiate: the first argument must be a path inside the code package');
        }
        if (!path.startsWith('/') || !(path.endsWith('.wasm') || path.endsWith('.wasm.br'))) {
          throw new Error(`WXWebAssembly.instantiate: ${path} must be an absolute package path ending in .wasm or .wasm.br`);
        }
        const file = inside(root, path);
        if (!file || !existsSync(file)) throw new Error(`WXWebAssembly.instantiate: file not found: ${path}`);
        const raw = readFileSync(file);
        const bytes = path.endsWith('.br') ? brotliDecompressSync(raw) : raw;
        // iOS's WXWebAssembly has no Global (WeChat's docs): a module that
        // exports or imports one is refused here as the device would fail it.
        if (ios) {
          const module = new WebAssembly.Module(bytes);
          const global = [...WebAssembly.Module.exports(module), ...WebAssembly.Module.imports(module)].find((e) => e.kind === 'global');
          if (global) throw new Error(`WXWebAssembly.instantiate (iOS): WebAssembly.Global is not supported (${global.name})`);
        }
        WebAssembly.instantiate(bytes, imports).then(
          ({ instance, module }) => resolvePromise(ios ? instance : { instance, module }),
          reject,
        );
      });
    },
    Instance: ios ? undefined : WebAssembly.Instance,
    Memory: ios ? undefined : WebAssembly.Memory,
    Module: WebAssembly.Module,
    Table: WebAssembly.Table,
    Global: ios ? undefined : WebAssembly.Global,
    CompileError: WebAssembly.CompileError,
    LinkError: WebAssembly.LinkError,
    RuntimeError: WebAssembly.RuntimeError,
  };
}

/**
 * What `require(request)` from a file in `dir` loads, as WeChat's runtime resolves it: a path against the
 * requiring file's folder ('./x', '../x', and 'x/y' without './': the devtools' compiler writes its babel
 * helpers as '@babel/runtime/helpers/x' from the root); a name not found there is looked up in
 * `miniprogram_npm/` of that folder and each one above it, where 构建 npm puts packages: 'mp-request' is
 * miniprogram_npm/mp-request/index.js, 'mp-request/x' its x.js. Absolute paths and Node's modules do not resolve.
 * @returns {string | undefined} the module's package path ('/miniprogram_npm/mp-request/index.js')
 */
function resolveModule(root, dir, request) {
  if (typeof request !== 'string' || request === '' || request.startsWith('/')) return undefined;
  const bases = [posix.join(dir, request)];
  if (!request.startsWith('./') && !request.startsWith('../')) {
    for (let at = dir; ; at = posix.dirname(at)) {
      bases.push(posix.join(at, 'miniprogram_npm', request));
      if (at === '/') break;
    }
  }
  for (const [i, base] of bases.entries()) {
    const names = base.endsWith('.js') ? [base] : [`${base}.js`];
    if (i > 0) names.push(`${base}/index.js`);
    const found = names.find((name) => {
      const file = inside(root, name);
      return file !== undefined && existsSync(file) && statSync(file).isFile();
    });
    if (found) return found;
  }
  return undefined;
}

/** The file for a package path, or undefined when it escapes the package. */
function inside(root, path) {
  const file = join(root, path);
  const rel = relative(root, file);
  return rel.startsWith('..') || rel.split(sep)[0] === '..' ? undefined : file;
}

function safeJson(value) {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export const sandboxDir = dirname(new URL(import.meta.url).pathname);
