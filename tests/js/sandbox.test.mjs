// The sandbox is faithful to the mini-program runtime: only its globals, no
// code from strings, relative require only, WXWebAssembly by package path.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MINIPROGRAM_GLOBALS } from '../../sandbox/miniprogram-sandbox.mjs';
import { createSandbox, packageRoot, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

const HOST_ONLY = ['require', 'process', 'Buffer', 'fetch', 'TextEncoder', 'TextDecoder', 'URL', 'WebAssembly',
  'queueMicrotask', 'structuredClone', 'setImmediate', 'global', 'window', 'document', 'module', 'exports'];

describe('globals', () => {
  for (const profile of ['android', 'ios', 'devtools']) {
    test(`${profile}: only the mini-program's globals besides the language built-ins`, () => {
      const sandbox = createSandbox({ root: packageRoot(), emulator, profile });
      const names = Array.from(sandbox.evaluate('Object.getOwnPropertyNames(globalThis)'));
      for (const name of MINIPROGRAM_GLOBALS) assert.ok(names.includes(name), `${name} missing`);
      for (const name of HOST_ONLY) {
        assert.equal(sandbox.evaluate(`typeof ${name}`), 'undefined', `${name} must not exist`);
      }
      const extra = names.filter((n) => !MINIPROGRAM_GLOBALS.includes(n) && !isLanguageBuiltin(n));
      assert.deepEqual(extra, []);
      sandbox.dispose();
    });
  }

  test('ios lacks FinalizationRegistry, WeakRef and BigInt; android has them', () => {
    const ios = createSandbox({ root: packageRoot(), emulator, profile: 'ios' });
    const android = createSandbox({ root: packageRoot(), emulator, profile: 'android' });
    for (const name of ['FinalizationRegistry', 'WeakRef', 'BigInt']) {
      assert.equal(ios.evaluate(`typeof ${name}`), 'undefined');
      assert.equal(android.evaluate(`typeof ${name}`), 'function');
    }
    assert.equal(ios.evaluate('typeof WXWebAssembly.Instance'), 'undefined');
    assert.equal(ios.evaluate('typeof WXWebAssembly.Memory'), 'undefined');
    assert.equal(android.evaluate('typeof WXWebAssembly.Instance'), 'function');
  });
});

function isLanguageBuiltin(name) {
  // ECMAScript globals V8 puts in every realm (and Intl/SharedArrayBuffer/Atomics).
  return /^[A-Z]/.test(name) || ['globalThis', 'undefined', 'NaN', 'Infinity', 'eval', 'isFinite', 'isNaN',
    'parseFloat', 'parseInt', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape',
    'unescape'].includes(name);
}

test('code generation from strings is off (no eval, no new Function)', () => {
  const sandbox = createSandbox({ root: packageRoot(), emulator });
  assert.throws(() => sandbox.evaluate('eval("1 + 1")'), /EvalError|Code generation from strings disallowed/);
  assert.throws(() => sandbox.evaluate('new Function("return 1")'), /EvalError|Code generation from strings disallowed/);
  assert.throws(() => sandbox.evaluate('setTimeout("1", 0)'), /no code strings/);
});

test('require takes relative package paths only', () => {
  const root = packageRoot();
  mkdirSync(join(root, 'lib'));
  writeFileSync(join(root, 'lib/a.js'), "module.exports = { b: require('./b').value, self: typeof require };");
  writeFileSync(join(root, 'lib/b.js'), 'exports.value = 42;');
  const sandbox = createSandbox({ root, emulator });
  assert.deepEqual({ ...sandbox.require('./lib/a.js') }, { b: 42, self: 'function' });
  assert.throws(() => sandbox.require('fs'), /module "fs" is not defined/);
  assert.throws(() => sandbox.require('/lib/a.js'), /not defined/);
  assert.throws(() => sandbox.require('../../etc/passwd'), /not defined/);
});

test("require resolves packages in miniprogram_npm (构建 npm's output) as WeChat does, nearest folder first", () => {
  const root = packageRoot();
  for (const [file, code] of [
    ['miniprogram_npm/pkg/index.js', "module.exports = { from: 'root', other: require('./other').value };"],
    ['miniprogram_npm/pkg/other.js', "exports.value = 'other';"],
    ['pages/a/miniprogram_npm/near/index.js', "module.exports = 'near';"],
    ['pages/a/page.js', "module.exports = { pkg: require('pkg').from, sub: require('pkg/other').value, near: require('near') };"],
    ['@babel/runtime/helpers/x.js', "module.exports = 'helper';"],
    ['app.js', "module.exports = require('@babel/runtime/helpers/x');"],
  ]) {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    writeFileSync(join(root, file), code);
  }
  const sandbox = createSandbox({ root, emulator });
  assert.deepEqual({ ...sandbox.require('./page.js', '/pages/a') }, { pkg: 'root', sub: 'other', near: 'near' });
  assert.equal(sandbox.require('pkg', '/pages/a'), sandbox.require('pkg'), 'one module instance per file');
  assert.equal(sandbox.require('./app.js'), 'helper', "a path without './' is the requiring folder's first");
  assert.throws(() => sandbox.require('near'), /module "near" is not defined/, 'only folders above the requiring file are searched');
  assert.throws(() => sandbox.require('missing'), /module "missing" is not defined/);
});

describe('WXWebAssembly', () => {
  const wasmPath = '/utils/mp-request/mp_request.wasm';
  const importsOf = 'var imports = { "./mp_request_bg.js": new Proxy({}, { get: () => () => 0 }) };';

  test('instantiates by absolute package path, .wasm and .wasm.br', async () => {
    const sandbox = createSandbox({ root: packageRoot(), emulator, profile: 'android' });
    for (const path of [wasmPath, `${wasmPath}.br`]) {
      const shape = await sandbox.evaluate(`${importsOf} WXWebAssembly.instantiate(${JSON.stringify(path)}, imports)
        .then(r => Object.keys(r).sort().join(',') + ':' + typeof r.instance.exports.engine_start)`);
      assert.equal(shape, 'instance,module:function', path);
    }
  });

  test('ios resolves the Instance itself', async () => {
    const sandbox = createSandbox({ root: packageRoot(), emulator, profile: 'ios' });
    const kind = await sandbox.evaluate(`${importsOf} WXWebAssembly.instantiate(${JSON.stringify(wasmPath)}, imports)
      .then(r => typeof r.exports.engine_start + ':' + ('instance' in r))`);
    assert.equal(kind, 'function:false');
  });

  test('refuses URLs, bytes, relative paths and files outside the package', async () => {
    const sandbox = createSandbox({ root: packageRoot(), emulator });
    const bytes = readFileSync(join(packageRoot(), wasmPath));
    sandbox.context.bytes = new Uint8Array(bytes).buffer;
    for (const arg of ['"https://example.com/x.wasm"', 'bytes', '"utils/mp-request/mp_request.wasm"', '"/../x.wasm"', '"/missing.wasm"']) {
      await assert.rejects(sandbox.evaluate(`WXWebAssembly.instantiate(${arg}, {})`), /WXWebAssembly\.instantiate/, arg);
    }
  });
});

describe('wx', () => {
  const env = () => emulator.env;

  test('callContainer in Promise and callback styles', async () => {
    const { wx } = createSandbox({ root: packageRoot(), emulator });
    wx.cloud.init({ env: env(), traceUser: true });
    const res = await wx.cloud.callContainer({ path: '/api/home/init', header: { 'X-WX-SERVICE': 'golang-lfwy' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.errMsg, 'cloud.callContainer:ok');
    assert.equal(typeof res.callID, 'string');
    const viaCallback = await new Promise((resolve, reject) => {
      const ret = wx.cloud.callContainer({ path: '/api/test', header: { 'X-WX-SERVICE': 'golang-lfwy' }, success: resolve, fail: reject });
      assert.equal(ret, undefined);
    });
    assert.equal(viaCallback.data.data.identity['x-wx-openid'], 'o-user-1');
  });

  test('callContainer fails like the platform: errMsg and errCode', async () => {
    const { wx } = createSandbox({ root: packageRoot(), emulator });
    const header = { 'X-WX-SERVICE': 'golang-lfwy' };
    await assert.rejects(wx.cloud.callContainer({ path: '/api/test', header }), { errCode: -601034 }, 'before init');
    wx.cloud.init({ env: env() });
    const cases = [
      [{ path: '/api/test', method: 'PATCH', header }, 102005],
      [{ path: '/api/test', method: 'POST', header, data: { blob: 'x'.repeat(101 * 1024) } }, -606001],
      [{ path: '/api/large', header }, -606002],
      [{ path: '/api/test', header: { 'X-WX-SERVICE': 'no-such-service' } }, -501000],
      [{ path: '/api/test', header: { ...header, Referer: 'x' } }, 40097],
    ];
    for (const [options, errCode] of cases) {
      const err = await wx.cloud.callContainer(options).catch((e) => e);
      assert.equal(err.errCode, errCode, JSON.stringify(options).slice(0, 80));
      assert.match(err.errMsg, new RegExp(`^cloud\\.callContainer:fail errCode: ${errCode} \\| errMsg: `));
    }
    emulator.inject({ kind: 'hang', path: '/api/test' });
    const timeout = await wx.cloud.callContainer({ path: '/api/test', header, timeout: 50 }).catch((e) => e);
    assert.equal(timeout.errCode, 102002);
  });

  test('wx.request fails with errno; only loopback is in the domain list', async () => {
    const { wx } = createSandbox({ root: packageRoot(), emulator });
    const request = (o) => new Promise((resolve) => wx.request({ ...o, success: resolve, fail: resolve }));
    const ok = await request({ url: `${emulator.url}/api/order/list`, data: { userId: 2, page: 1, pageSize: 3 } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.data.data.list.length, 3);
    assert.equal((await request({ url: 'https://example.com/x' })).errno, 600002);
    emulator.inject({ kind: 'hang', path: '/api/test' });
    const timeout = await request({ url: `${emulator.url}/api/test`, timeout: 50 });
    assert.deepEqual([timeout.errno, timeout.errMsg], [5, 'request:fail timeout']);
    emulator.inject({ kind: 'reset', path: '/api/test' });
    assert.equal((await request({ url: `${emulator.url}/api/test` })).errno, 600001);
  });

  test('resource reuse: Cloud instance init can fail, then calls carry FROM identity', async () => {
    const { wx, controls } = createSandbox({ root: packageRoot(), emulator, openid: 'o-reuse' });
    const cloud = new wx.cloud.Cloud({ resourceAppid: 'wx-owner', resourceEnv: env() });
    controls.failCloudInit(1);
    await assert.rejects(cloud.init(), { errMsg: "cloud.init:fail Cloud API isn't enabled", errCode: -601034 });
    await cloud.init();
    const res = await cloud.callContainer({ path: '/api/test', header: { 'X-WX-SERVICE': 'golang-lfwy' } });
    assert.equal(res.data.data.identity['x-wx-from-openid'], 'o-reuse');
    assert.equal(res.data.data.identity['x-wx-appid'], 'wx-owner');
  });

  test('wx.cloud.init takes effect on its first call only, app-wide', async () => {
    const { wx, controls } = createSandbox({ root: packageRoot(), emulator });
    const header = { 'X-WX-SERVICE': 'golang-lfwy' };
    assert.equal(wx.cloud.init({ env: env(), traceUser: true }), undefined, 'no return value');
    wx.cloud.init({ env: 'later-env' });
    wx.cloud.init();
    assert.equal(controls.appCloudEnv(), env(), 'later calls change nothing');
    assert.equal(controls.calls.wxCloudInit, 3);
    const res = await wx.cloud.callContainer({ path: '/api/test', header });
    assert.equal(res.data.data.identity['x-wx-env'], env());
    // A call's own config.env goes where it says.
    const other = await wx.cloud.callContainer({ config: { env: 'later-env' }, path: '/api/test', header }).catch((e) => e);
    assert.match(other.errMsg, /env later-env not found/);
    assert.deepEqual(controls.cloudCalls.map((c) => [c.via, c.env]), [['wx.cloud', env()], ['wx.cloud', 'later-env']]);
  });

  test('wx.cloud.Cloud instances are independent: each needs its own init() before any call', async () => {
    const { wx, controls } = createSandbox({ root: packageRoot(), emulator });
    const header = { 'X-WX-SERVICE': 'golang-lfwy' };
    wx.cloud.init({ env: env() });
    const a = new wx.cloud.Cloud({ resourceEnv: env() });
    const b = new wx.cloud.Cloud({ resourceEnv: env() });
    for (const [call, api] of [
      [() => a.callContainer({ path: '/api/test', header }), 'callContainer'],
      [() => a.connectContainer({ service: 'ws', path: '/' }), 'connectContainer'],
    ]) {
      const err = await call().catch((e) => e);
      assert.equal(err.errCode, -601034, `${api} before init`);
      assert.match(err.errMsg, new RegExp(`^cloud\\.${api}:fail .*not init`));
    }
    await a.init();
    assert.equal((await a.callContainer({ path: '/api/test', header })).statusCode, 200);
    const err = await b.callContainer({ path: '/api/test', header }).catch((e) => e);
    assert.match(err.errMsg, /not init/, "a's init is not b's, nor is wx.cloud.init");
    assert.equal(controls.appCloudEnv(), env(), 'instances leave wx.cloud alone');
    assert.deepEqual([controls.calls.cloudInstances, controls.calls.cloudInit, controls.calls.wxCloudInit], [2, 1, 1]);
    // Callback style works too.
    await new Promise((resolve, reject) => a.callContainer({ path: '/api/test', header, success: resolve, fail: reject }));
  });

  test('network status, environment and storage', async () => {
    const { wx, controls } = createSandbox({ root: packageRoot(), emulator, profile: 'devtools', envVersion: 'release' });
    assert.equal(wx.getDeviceInfo().platform, 'devtools');
    assert.equal(wx.getAccountInfoSync().miniProgram.envVersion, 'release');
    const seen = [];
    wx.onNetworkStatusChange((e) => seen.push(e));
    controls.setNetworkType('none');
    assert.equal((await wx.getNetworkType()).networkType, 'none');
    assert.deepEqual({ ...seen[0] }, { isConnected: false, networkType: 'none' });
    wx.setStorageSync('k', { a: [1, 2] });
    assert.deepEqual(JSON.parse(JSON.stringify(wx.getStorageSync('k'))), { a: [1, 2] });
    assert.equal(wx.getStorageSync('missing'), '');
    assert.throws(() => wx.setStorageSync('big', 'x'.repeat(1024 * 1024 + 1)), /1MB/);
    await assert.rejects(wx.getStorage({ key: 'missing' }), { errMsg: 'getStorage:fail data not found' });
  });

  test('connectContainer gives a SocketTask that echoes; at most 5 at once', async () => {
    const sandbox = createSandbox({ root: packageRoot(), emulator });
    const { wx } = sandbox;
    wx.cloud.init({ env: env() });
    const tasks = [];
    for (let i = 0; i < 5; i += 1) {
      const { socketTask } = await wx.cloud.connectContainer({ service: 'ws', path: '/' });
      await new Promise((resolve) => socketTask.onOpen(resolve));
      tasks.push(socketTask);
    }
    await assert.rejects(wx.cloud.connectContainer({ service: 'ws' }), { errMsg: 'cloud.connectContainer:fail exceed max task count' });
    const echoed = new Promise((resolve) => tasks[0].onMessage((m) => resolve(m.data)));
    tasks[0].send({ data: JSON.stringify({ type: 'ping', t: 7 }) });
    assert.deepEqual(JSON.parse(await echoed), { type: 'pong', t: 7 });
    const closed = new Promise((resolve) => tasks[1].onClose(resolve));
    emulator.ws.drop(4000);
    assert.equal((await closed).code, 4000);
    sandbox.dispose();
  });

  test('wx.connectSocket returns a SocketTask over plain WebSocket', async () => {
    const sandbox = createSandbox({ root: packageRoot(), emulator });
    const task = sandbox.wx.connectSocket({ url: `${emulator.wsUrl}/` });
    const opened = new Promise((resolve) => task.onOpen(resolve));
    await opened;
    const echoed = new Promise((resolve) => task.onMessage((m) => resolve(m.data)));
    task.send({ data: 'hi' });
    assert.equal(await echoed, 'hi');
    const notConnected = await new Promise((resolve) => {
      task.close({ code: 1000, reason: 'done' });
      task.send({ data: 'late', fail: resolve });
    });
    assert.equal(notConnected.errMsg, 'sendSocketMessage:fail WebSocket is not connected');
    sandbox.dispose();
  });
});
