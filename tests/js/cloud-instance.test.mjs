// The app's `wx.cloud` stays the app's: the built bundle never calls
// `wx.cloud.init` (first call wins, app-wide), calls through its own
// `new wx.cloud.Cloud` instance or one the app gives (`createClient({ cloud })`),
// and has one cloud init, shared by requests and sockets. In the sandbox,
// whose `wx` models first-call-wins, against the emulator.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SERVICE, cloudOptions, rejection, sandboxWithBundle, sleep, startEmulator, until } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/** Quick socket timings (the defaults are tested natively). */
const SOCKET = { service: 'ws', path: '/', minDelayMs: 20, maxDelayMs: 100, connectTimeoutMs: 3000 };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/** Whether what `ref` points to is garbage collected (nothing holds it any more). */
async function collected(ref) {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i += 1) {
    // A WeakRef keeps its target until the current job ends.
    await sleep(10);
    gc();
  }
  return ref.deref() === undefined;
}

/** Counts `wx.cloud.init` calls from now on, whoever makes them. */
function spyOnWxCloudInit(sandbox) {
  const spy = { calls: 0 };
  const real = sandbox.wx.cloud.init;
  sandbox.wx.cloud.init = (...args) => {
    spy.calls += 1;
    return real(...args);
  };
  return spy;
}

/** Records when each `new wx.cloud.Cloud(...)` and each instance's `init()` happen, and with what. */
function spyOnCloudInstances(sandbox) {
  const seen = { made: [], inits: [] };
  const Real = sandbox.wx.cloud.Cloud;
  const realInit = Real.prototype.init;
  Real.prototype.init = function () {
    seen.inits.push(Date.now());
    return realInit.call(this);
  };
  sandbox.wx.cloud.Cloud = function Cloud(options) {
    seen.made.push({ ...options });
    return new Real(options);
  };
  sandbox.wx.cloud.Cloud.prototype = Real.prototype;
  return seen;
}

/** An app's own initialised instance whose calls are counted. */
async function appInstance(sandbox, options = { resourceEnv: emulator.env }, { init = true } = {}) {
  const cloud = new sandbox.wx.cloud.Cloud(options);
  if (init) await cloud.init();
  const counts = { callContainer: 0, connectContainer: 0, init: 0 };
  for (const name of ['callContainer', 'connectContainer', 'init']) {
    const real = cloud[name];
    cloud[name] = function (...args) {
      counts[name] += 1;
      return real.apply(this, args);
    };
  }
  return { cloud, counts };
}

describe("the app's own wx.cloud.init stays the app's", () => {
  for (const when of ['before', 'after']) {
    test(`wx.cloud.init({ env: 'app-env' }) ${when} createClient: the app keeps app-env, the library calls its env`, async () => {
      const { mp, sandbox } = sandboxWithBundle(emulator);
      const spy = spyOnWxCloudInit(sandbox);
      const appInit = () => sandbox.evaluate("wx.cloud.init({ env: 'app-env', traceUser: true })");
      if (when === 'before') appInit();
      const client = await mp.createClient(cloudOptions(emulator));
      const res = await client.request({ path: '/api/test' });
      assert.equal(res.route, 'cloud');
      assert.equal(res.data.data.identity['x-wx-env'], emulator.env, 'the library called its env');
      if (when === 'after') appInit();
      assert.equal(sandbox.controls.appCloudEnv(), 'app-env', "the app's init took effect");
      // The app's own calls (database, storage, functions alike) go to app-env.
      const own = await sandbox.wx.cloud.callContainer({ path: '/api/test', header: { 'X-WX-SERVICE': SERVICE } }).catch((e) => e);
      assert.match(own.errMsg, /env app-env not found/, 'the gateway saw app-env');
      const mine = await client.request({ path: '/api/test', cache: false });
      assert.equal(mine.data.data.identity['x-wx-env'], emulator.env, 'and the library still calls its env');
      const calls = sandbox.controls.cloudCalls;
      assert.deepEqual(
        [...new Set(calls.filter((c) => c.via === 'wx.cloud').map((c) => c.env))],
        ['app-env'],
        'every call through wx.cloud was the app’s',
      );
      assert.deepEqual([...new Set(calls.filter((c) => c.via === 'instance').map((c) => c.env))], [emulator.env]);
      assert.equal(spy.calls, 1, 'wx.cloud.init was called once: by the app');
      client.destroy();
      sandbox.dispose();
    });
  }

  test('the library never calls wx.cloud.init: requests, a socket, resource reuse, init failures', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const spy = spyOnWxCloudInit(sandbox);
    sandbox.controls.failCloudInit(1);
    const client = await mp.createClient(cloudOptions(emulator, { resourceAppid: 'wx-owner' }));
    const socket = client.socket(SOCKET);
    await client.request({ path: '/api/test' });
    await until(() => socket.state === 'open');
    await client.request({ path: '/api/order/create', method: 'POST', data: { title: 'x' } });
    socket.close();
    assert.equal(spy.calls, 0);
    assert.equal(sandbox.controls.calls.wxCloudInit, 0);
    assert.equal(sandbox.controls.appCloudEnv(), undefined, 'wx.cloud is left uninitialised for the app');
    client.destroy();
    sandbox.dispose();
  });

  test('the library makes its own wx.cloud.Cloud({ resourceEnv: env }); resource reuse adds resourceAppid on the same path', async () => {
    for (const extra of [{}, { resourceAppid: 'wx-owner' }]) {
      const { mp, sandbox } = sandboxWithBundle(emulator, { openid: 'o-guest' });
      const seen = spyOnCloudInstances(sandbox);
      const client = await mp.createClient(cloudOptions(emulator, extra));
      const res = await client.request({ path: '/api/test' });
      assert.deepEqual(seen.made, [{ resourceEnv: emulator.env, ...extra }]);
      assert.equal(seen.inits.length, 1);
      const identity = res.data.data.identity;
      if (extra.resourceAppid) {
        assert.equal(identity['x-wx-from-openid'], 'o-guest', 'the gateway saw resource reuse');
        assert.equal(identity['x-wx-appid'], 'wx-owner');
      } else {
        assert.equal(identity['x-wx-openid'], 'o-guest');
      }
      client.destroy();
      sandbox.dispose();
    }
  });
});

describe('createClient({ cloud }): the app hands over its own instance', () => {
  test('requests and sockets use that instance; it is never initialised again and no other instance is made', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const spy = spyOnWxCloudInit(sandbox);
    const { cloud, counts } = await appInstance(sandbox);
    const made = sandbox.controls.calls.cloudInstances;
    const client = await mp.createClient({ cloud, service: SERVICE });
    const [a, b] = await Promise.all([client.request({ path: '/api/test' }), client.request({ path: '/api/order/list', data: { userId: 1 } })]);
    assert.equal(a.route, 'cloud');
    assert.equal(a.routeReason, "the app's cloud instance");
    assert.equal(a.data.data.identity['x-wx-env'], emulator.env, "the instance's env, with no env option");
    assert.equal(b.statusCode, 200);
    assert.equal(counts.callContainer, 2, 'both went through the given instance');
    const socket = client.socket(SOCKET);
    await until(() => socket.state === 'open');
    assert.equal(counts.connectContainer, 1);
    socket.close();
    assert.equal(counts.init, 0, "the app's instance is the app's to initialise");
    assert.equal(sandbox.controls.calls.cloudInstances, made, 'no instance of its own');
    assert.equal(spy.calls, 0);
    client.destroy();
    sandbox.dispose();
  });

  test('wx.cloud itself, after the app initialised it: calls go to the app’s env, or to `env` when given', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    sandbox.evaluate(`wx.cloud.init({ env: ${JSON.stringify(emulator.env)} })`);
    const spy = spyOnWxCloudInit(sandbox);
    const client = await mp.createClient({ cloud: sandbox.wx.cloud, service: SERVICE });
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
    const other = await mp.createClient({ cloud: sandbox.wx.cloud, service: SERVICE, env: 'other-env', retry: false });
    const err = await rejection(other.request({ path: '/api/test' }));
    assert.equal(err.kind, 'service');
    assert.match(err.detail, /env other-env not found/, '`env` is named in each call');
    assert.equal(spy.calls, 0);
    assert.equal(sandbox.controls.calls.cloudInstances, 0);
    client.destroy();
    other.destroy();
    sandbox.dispose();
  });

  test('an instance the app did not initialise fails as the SDK fails it (kind init); the library still does not init it', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const { cloud, counts } = await appInstance(sandbox, { resourceEnv: emulator.env }, { init: false });
    const client = await mp.createClient({ cloud, service: SERVICE, retry: { limit: 1, baseMs: 10, capMs: 10 } });
    const err = await rejection(client.request({ path: '/api/test' }));
    assert.equal(err.kind, 'init');
    assert.match(err.detail, /not init/);
    assert.equal(counts.init, 0);
    assert.equal(emulator.count(), 0);
    // Once the app initialised it, the same client works.
    await cloud.init();
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
    client.destroy();
    sandbox.dispose();
  });

  test("an instance's callContainer that answers by its returned Promise: used; a rejected one is never left unhandled", async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const { cloud } = await appInstance(sandbox);
    // A promisified wrapper (as apps write them): the callbacks are dropped, the answer is the Promise.
    const promised = {
      init: () => undefined,
      connectContainer: (o) => cloud.connectContainer(o),
      callContainer: ({ success, fail, complete, ...o }) => cloud.callContainer(o),
    };
    const client = await mp.createClient({ cloud: promised, service: SERVICE, retry: false });
    const res = await client.request({ path: '/api/test', timeoutMs: 2000 });
    assert.deepEqual([res.statusCode, res.attempts], [200, 1]);
    // One that calls `fail` and also returns a rejected Promise: the failure counts once, and the
    // rejection is handled (an unhandled one would be reported as the app's error on devices).
    const both = {
      ...promised,
      callContainer(o) {
        const err = { errMsg: 'cloud.callContainer:fail errCode: 102002 | errMsg: 请求超时', errCode: 102002 };
        setTimeout(() => o.fail(err));
        return new Promise((resolve, reject) => setTimeout(() => reject(err), 10));
      },
    };
    const other = await mp.createClient({ cloud: both, service: SERVICE, retry: false });
    const err = await rejection(other.request({ path: '/api/test' }));
    assert.deepEqual([err.kind, err.code], ['timeout', 102002]);
    // And one that returns something whose `then` throws: its callbacks still answer.
    const odd = {
      ...promised,
      callContainer(o) {
        cloud.callContainer(o);
        return { get then() { throw new Error('no then'); } };
      },
    };
    const third = await mp.createClient({ cloud: odd, service: SERVICE, retry: false });
    assert.equal((await third.request({ path: '/api/test' })).statusCode, 200);
    third.destroy();
    await sleep(20);
    client.destroy();
    other.destroy();
    sandbox.dispose();
  });

  test('a `cloud` that is no instance is refused, naming what is wrong', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const { cloud } = await appInstance(sandbox);
    const cases = [
      [{ cloud: 'wx.cloud', service: SERVICE }, /^`cloud` must be a wx\.cloud\.Cloud instance \(or wx\.cloud\), got string/],
      [{ cloud: [], service: SERVICE }, /^`cloud` must be .*got array/],
      [{ cloud: {}, service: SERVICE }, /^`cloud\.callContainer` must be a function, got undefined/],
      [{ cloud: { callContainer() {}, init() {} }, service: SERVICE }, /^`cloud\.connectContainer` must be a function/],
      [{ cloud: { callContainer() {}, connectContainer() {}, init: 1 }, service: SERVICE }, /^`cloud\.init` must be a function, got number/],
      [{ cloud: { get callContainer() { throw new Error('boom'); } }, service: SERVICE }, /^`cloud\.callContainer` could not be read/],
      [{ cloud }, /^`service` is required with `cloud`/],
      [{ cloud, service: SERVICE, resourceAppid: 'wx-owner' }, /^`resourceAppid` does not apply with `cloud`/],
      [{ cloud, service: SERVICE, resourceEnv: 'prod-2' }, /^`resourceEnv` does not apply with `cloud`/],
    ];
    for (const [options, detail] of cases) {
      const err = await rejection(mp.createClient(options));
      assert.equal(err.kind, 'invalid', String(detail));
      assert.match(err.detail, detail);
    }
    // Still usable after every refusal.
    const client = await mp.createClient({ cloud, service: SERVICE });
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
    client.destroy();
    sandbox.dispose();
  });
});

describe('one cloud init, owned by the engine', () => {
  test('a request and a socket opened together: one Cloud instance, one init()', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const seen = spyOnCloudInstances(sandbox);
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    const res = await client.request({ path: '/api/test' });
    await until(() => socket.state === 'open');
    assert.equal(res.statusCode, 200);
    assert.equal(seen.made.length, 1, 'one instance');
    assert.equal(seen.inits.length, 1, 'one init()');
    assert.equal(sandbox.controls.calls.connectContainer, 1);
    // A second socket and more requests: still the one instance, initialised once.
    const other = client.socket({ ...SOCKET, path: '/room' });
    await until(() => other.state === 'open');
    await client.request({ path: '/api/test', cache: false });
    assert.deepEqual([seen.made.length, seen.inits.length], [1, 1]);
    socket.close();
    other.close();
    client.destroy();
    sandbox.dispose();
  });

  test('a socket alone waits for the init: nothing is connected before it succeeds', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const seen = spyOnCloudInstances(sandbox);
    const order = [];
    const realConnect = sandbox.wx.cloud.Cloud.prototype.connectContainer;
    sandbox.wx.cloud.Cloud.prototype.connectContainer = function (o) {
      order.push(this.ready ? 'connect after init' : 'connect before init');
      return realConnect.call(this, o);
    };
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    await until(() => socket.state === 'open');
    assert.deepEqual(order, ['connect after init']);
    assert.deepEqual([seen.made.length, seen.inits.length], [1, 1]);
    socket.close();
    client.destroy();
    sandbox.dispose();
  });

  test('an init that fails twice then succeeds is retried 300 ms apart, once for both', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const seen = spyOnCloudInstances(sandbox);
    sandbox.controls.failCloudInit(2);
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    const errors = [];
    socket.on('error', (e) => errors.push(e));
    const res = await client.request({ path: '/api/test' });
    await until(() => socket.state === 'open');
    assert.equal(res.statusCode, 200);
    assert.equal(res.attempts, 1, 'the request was sent once, after the init');
    assert.equal(seen.made.length, 1, 'one instance, initialised again');
    assert.equal(seen.inits.length, 3, 'three init() calls in all, not three per caller');
    for (let i = 1; i < 3; i += 1) {
      const gap = seen.inits[i] - seen.inits[i - 1];
      assert.ok(gap >= 290 && gap < 1000, `init retried 300 ms later (${gap} ms)`);
    }
    assert.equal(sandbox.controls.calls.connectContainer, 1, 'the socket connected once');
    assert.deepEqual(errors, [], 'the socket heard no failure: the init was retried for it');
    socket.close();
    client.destroy();
    sandbox.dispose();
  });

  test('an init that fails for good: the request fails with kind init, the socket reconnects and the next init succeeds', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const seen = spyOnCloudInstances(sandbox);
    sandbox.controls.failCloudInit(4);
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    const errors = [];
    socket.on('error', (e) => errors.push(e.detail));
    const err = await rejection(client.request({ path: '/api/test' }));
    assert.equal(err.kind, 'init');
    await until(() => socket.state === 'open');
    assert.ok(errors.some((d) => /cloud init failed: .*Cloud API isn't enabled/.test(d)), JSON.stringify(errors));
    assert.equal(seen.made.length, 1);
    assert.equal(seen.inits.length, 5, '4 failed (shared), then the reconnect’s one');
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
    assert.equal(seen.inits.length, 5, 'initialised: no more inits');
    socket.close();
    client.destroy();
    sandbox.dispose();
  });

  test('an init() that never settles does not wedge the cloud route: it times out and is tried again', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const seen = spyOnCloudInstances(sandbox);
    const proto = sandbox.wx.cloud.Cloud.prototype;
    const spied = proto.init;
    // The first init() never answers (a device whose SDK call got lost); later ones do.
    proto.init = function () {
      return seen.inits.length === 0 ? (spied.call(this), new Promise(() => {})) : spied.call(this);
    };
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    const started = Date.now();
    const res = await client.request({ path: '/api/test' });
    assert.equal(res.statusCode, 200);
    await until(() => socket.state === 'open');
    assert.equal(socket.state, 'open', 'the socket waiting for the same init connects too');
    assert.equal(seen.inits.length, 2, 'the hung init() was given up once, then tried again');
    const waited = Date.now() - started;
    assert.ok(waited >= 5000 && waited < 9000, `the init's own deadline (5 s), then the retry (${waited} ms)`);
    socket.close();
    client.destroy();
    sandbox.dispose();
  });

  test('a socket closed while the init runs never connects', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    sandbox.controls.failCloudInit(1);
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    socket.close();
    await sleep(500);
    assert.equal(sandbox.controls.calls.connectContainer, 0);
    assert.equal(emulator.stats().ws.connections, 0);
    client.destroy();
    sandbox.dispose();
  });
  test('destroy() while a socket waits for an init that never settles: closed, nothing connects, nothing left waiting', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    // A device whose SDK call got lost: init() never answers.
    sandbox.wx.cloud.Cloud.prototype.init = () => new Promise(() => {});
    const client = await mp.createClient(cloudOptions(emulator));
    // Only a WeakRef to the handle outlives this block: whatever still holds it after
    // destroy() is a connect that was left waiting.
    const ref = (() => {
      const socket = client.socket(SOCKET);
      client.destroy();
      assert.equal(socket.state, 'closed');
      return new WeakRef(socket);
    })();
    await sleep(100);
    assert.equal(sandbox.controls.calls.connectContainer, 0);
    assert.equal(emulator.stats().ws.connections, 0);
    assert.equal(sandbox.pendingTimers(), 0, "no timer left: the init's 5 s deadline went with the client");
    assert.ok(await collected(ref), 'the closed socket is not held by a connect still waiting for the init');
    sandbox.dispose();
  });

  test('destroy() while a request and a socket wait for a slow init: the request is still sent, the socket never connects', async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const proto = sandbox.wx.cloud.Cloud.prototype;
    const realInit = proto.init;
    proto.init = function () {
      return sleep(200).then(() => realInit.call(this));
    };
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    const pending = client.request({ path: '/api/test' });
    client.destroy();
    assert.equal(socket.state, 'closed');
    assert.equal((await pending).statusCode, 200, 'a request made before destroy() still completes (after the init)');
    await sleep(100);
    assert.equal(sandbox.controls.calls.connectContainer, 0, 'the init succeeded after destroy(): still no connect');
    assert.equal(emulator.stats().ws.connections, 0);
    assert.equal(sandbox.pendingTimers(), 0);
    sandbox.dispose();
  });

  test("a connectContainer refused as not initialised (-601034) starts the shared init over: the socket reconnects, the requests find it done", async () => {
    const { mp, sandbox } = sandboxWithBundle(emulator);
    const seen = spyOnCloudInstances(sandbox);
    const client = await mp.createClient(cloudOptions(emulator));
    const socket = client.socket(SOCKET);
    await until(() => socket.state === 'open');
    assert.equal(seen.inits.length, 1);
    const errors = [];
    socket.on('error', (e) => errors.push(e.detail));
    // The instance loses its init, then the connection drops: the reconnect is refused.
    sandbox.controls.dropCloudInits();
    sandbox.controls.closeAll();
    await until(() => seen.inits.length > 1 && socket.state === 'open');
    assert.equal(socket.state, 'open', `reconnected (${errors.length} errors, the first: ${errors[0]})`);
    assert.ok(errors.some((d) => /Cloud API isn't enabled/.test(d)), JSON.stringify(errors));
    assert.equal(seen.inits.length, 2, "the instance's init() once more, before the reconnect that worked");
    assert.equal(sandbox.controls.calls.connectContainer, 3, 'the first connect, the refused one, the one after the init');
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
    assert.equal(seen.inits.length, 2, 'requests share that init');
    socket.close();
    client.destroy();
    sandbox.dispose();
  });
});
