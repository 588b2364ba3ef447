// Issue 17, the shim's part: the boundary holds under hostile input. A
// signal, a platform answer, client options or a platform callback that
// misbehaves settles what it touches (never a hang, never an exception thrown
// into a timer or into wx) and loses nothing of the other requests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, rejection, repo, sandboxWithBundle, sleep, startEmulator, until } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/**
 * A module of the shim's sources as the build bundles it (the UTF-8 polyfill
 * scoped as in scripts/build-bundle.mjs), loaded as an ES module.
 */
async function shimModule(path) {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [join(repo, path)],
    bundle: true,
    write: false,
    format: 'esm',
    plugins: [{
      name: 'vendor',
      setup(build) {
        build.onResolve({ filter: /^virtual:/ }, () => ({ path: 'x', namespace: 'v' }));
        build.onLoad({ filter: /.*/, namespace: 'v' }, () => ({
          contents: readFileSync(join(repo, 'node_modules/fast-text-encoding/text.min.js'), 'utf8')
            .replace(/\}\(typeof window[^\n]*\)\);\s*$/, '}(scope));')
            .replace(/^/, 'const scope = {};\n') + '\nexport const TextEncoder = scope.TextEncoder, TextDecoder = scope.TextDecoder;',
        }));
      },
    }],
  });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

/** Exceptions nobody caught (thrown from a timer or a platform callback) while `run` runs and `settleMs` after. */
async function uncaughtDuring(run, settleMs = 0) {
  const seen = [];
  const onError = (error) => seen.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  try {
    await run();
    await sleep(settleMs);
  } finally {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  }
  return seen;
}

/** A signal (made in the sandbox's realm) whose `method` throws. */
function throwingSignal(sandbox, method) {
  return sandbox.evaluate(`({
    aborted: false,
    addEventListener() { ${method === 'addEventListener' ? "throw new Error('no listeners here');" : ''} },
    removeEventListener() { ${method === 'removeEventListener' ? "throw new Error('cannot remove');" : ''} },
  })`);
}

// --- 1. One throwing callback does not stop the command loop ---------------

test('a signal whose addEventListener throws: invalid, nothing sent, and a later identical GET is not joined to it', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { timeoutMs: 1000 }));
  const uncaught = await uncaughtDuring(async () => {
    const err = await rejection(client.request({ path: '/api/test', signal: throwingSignal(sandbox, 'addEventListener') }));
    assert.ok(mp.RequestError.is(err));
    assert.equal(err.kind, 'invalid');
    assert.match(err.detail, /`signal` could not be listened to \(no listeners here\)/);
    assert.equal(emulator.count('/api/test'), 0, 'never sent');
    const res = await client.request({ path: '/api/test' });
    assert.equal(res.statusCode, 200);
    assert.equal(emulator.count('/api/test'), 1, 'sent on its own, not joined to a dead fetch');
  }, 1200);
  assert.deepEqual(uncaught, []);
  assert.equal(client.stats().total.inFlight ?? 0, 0);
});

test('a signal whose removeEventListener throws: its request and the one joined to it both resolve, no timer throws later', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { timeoutMs: 300 }));
  const uncaught = await uncaughtDuring(async () => {
    const [a, b] = await Promise.all([
      client.request({ path: '/api/test', signal: throwingSignal(sandbox, 'removeEventListener') }),
      client.request({ path: '/api/test' }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode], [200, 200]);
    assert.equal(emulator.count('/api/test'), 1, 'one fetch for both');
  }, 1000);
  assert.deepEqual(uncaught, []);
});

test('other requests in the same batch still complete when one caller cannot be settled cleanly', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  // One at a time: the answer to the first and the sends of the next come in one batch of commands.
  const client = await mp.createClient(cloudOptions(emulator, { maxConcurrent: 1, timeoutMs: 2000 }));
  const uncaught = await uncaughtDuring(async () => {
    const results = await Promise.all([
      client.request({ path: '/api/test', data: { n: 1 }, signal: throwingSignal(sandbox, 'removeEventListener') }),
      client.request({ path: '/api/test', data: { n: 2 }, signal: throwingSignal(sandbox, 'removeEventListener') }),
      client.request({ path: '/api/test', data: { n: 3 } }),
    ]);
    assert.deepEqual(results.map((r) => r.statusCode), [200, 200, 200]);
    assert.equal(emulator.count('/api/test'), 3);
  }, 300);
  assert.deepEqual(uncaught, []);
});

test('a signal that calls its listener while it is being added: the request is cancelled, not left running', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  const signal = sandbox.evaluate(`({ aborted: false, addEventListener(type, listener) { listener(); }, removeEventListener() {} })`);
  const err = await rejection(client.request({ path: '/api/test', signal }));
  assert.equal(err.kind, 'cancelled');
  assert.equal(client.stats().total.inFlight, 0);
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
});

// --- 2. The platform's answer is normalised before the engine sees it -------

/**
 * Puts `answer(o, res, err)` between the platform and the shim: the real
 * callContainer of the library's wx.cloud.Cloud instance (route 'cloud') or wx.request (route 'http') runs
 * against the emulator, and `answer` decides what the shim's callbacks get.
 */
function interpose(sandbox, route, answer) {
  // The cloud route calls through the library's own wx.cloud.Cloud instance.
  const [holder, key] = route === 'cloud' ? [sandbox.wx.cloud.Cloud.prototype, 'callContainer'] : [sandbox.wx, 'request'];
  const real = holder[key];
  holder[key] = function (o) {
    return real.call(this, { ...o, success: (res) => answer.current(o, res), fail: (err) => answer.current(o, undefined, err) });
  };
}

/** A client on `route` (cloud: callContainer; http: wx.request) with one slot, so a request that hangs would block the next. */
async function clientOn(route) {
  const { mp, sandbox } = sandboxWithBundle(emulator, route === 'http' ? { cloud: false } : {});
  const options = route === 'http' ? { baseUrl: emulator.url } : cloudOptions(emulator);
  const client = await mp.createClient({ ...options, maxConcurrent: 1, timeoutMs: 5000 });
  const answer = { current: (o, res, err) => (err ? o.fail(err) : o.success(res)) };
  interpose(sandbox, route, answer);
  return { mp, sandbox, client, answer };
}

const throwing = (what) => ({
  valueOf() {
    throw new Error(what);
  },
  toString() {
    throw new Error(what);
  },
});
const trap = () => {
  throw new Error('trap');
};
const hostileProxy = () => new Proxy({}, { get: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap, getPrototypeOf: trap });

/** [what, res → what success gets, the failure's detail] */
const MALFORMED = [
  ['a status whose valueOf throws', (res) => ({ ...res, statusCode: throwing('no number') }), /malformed response: status an object/],
  ['a Symbol status', (res) => ({ ...res, statusCode: Symbol('200') }), /malformed response: status a symbol/],
  ['a BigInt status', (res) => ({ ...res, statusCode: 200n }), /malformed response: status 200n \(a BigInt\)/],
  ['NaN', (res) => ({ ...res, statusCode: NaN }), /malformed response: status NaN/],
  ['a status out of range', (res) => ({ ...res, statusCode: 600 }), /malformed response: status 600/],
  ['a fractional status', (res) => ({ ...res, statusCode: 200.5 }), /malformed response: status 200\.5/],
  ['text that is no status', (res) => ({ ...res, statusCode: 'OK' }), /malformed response: status "OK"/],
  ['no status', (res) => ({ ...res, statusCode: undefined }), /malformed response: status none/],
  ['null', () => null, /malformed response: got null instead of an object/],
  ['undefined', () => undefined, /malformed response: got none instead of an object/],
  ['text instead of an object', () => 'text', /malformed response: got "text" instead of an object/],
  ['a response whose every read throws', () => hostileProxy(), /malformed response: it could not be read \(trap\)/],
];

for (const route of ['cloud', 'http']) {
  const api = route === 'cloud' ? 'cloud.callContainer' : 'request';

  test(`${route}: a malformed answer is a failed attempt, never a hang; the slot is given back`, async () => {
    const { mp, client, answer } = await clientOn(route);
    const uncaught = await uncaughtDuring(async () => {
      for (const [what, mangle, detail] of MALFORMED) {
        answer.current = (o, res, err) => (err ? o.fail(err) : o.success(mangle(res)));
        const err = await rejection(client.request({ path: '/api/test', retry: false }));
        assert.ok(mp.RequestError.is(err), what);
        assert.equal(err.kind, 'network', what);
        assert.ok(err.detail.startsWith(`${api}:fail `), `${what}: ${err.detail}`);
        assert.match(err.detail, detail, what);
      }
      answer.current = (o, res) => o.success(res);
      assert.equal((await client.request({ path: '/api/test' })).statusCode, 200, 'the one slot is free');
    });
    assert.deepEqual(uncaught, []);
    assert.equal(emulator.count('/api/test'), MALFORMED.length + 1, 'each went out once');
    assert.equal(client.stats().total.inFlight, 0);
  });

  test(`${route}: the caller gets a number status and a plain header of strings, whatever the platform gave`, async () => {
    const { client, answer } = await clientOn(route);
    const cases = [
      ['a status as its digits', { statusCode: '200', header: { A: 'b' } }, { A: 'b' }],
      ['a header behind a throwing Proxy', { header: hostileProxy() }, {}],
      ['a header that is text', { header: 'content-type: text/plain' }, {}],
      ['a null header', { header: null }, {}],
      ['a header whose getter throws', { header: { a: '1', get b() { throw new Error('getter'); } } }, {}],
      [
        'header values of every type',
        { header: { 'X-Text': 'a', 'X-Count': 3, 'X-Ok': true, 'X-Obj': {}, 'X-Sym': Symbol('s'), 'X-Big': 1n, 'X-Null': null, 'X-Throws': throwing('x') } },
        { 'X-Text': 'a', 'X-Count': '3', 'X-Ok': 'true' },
      ],
      ['Retry-After and X-WX-OPENID that cannot be made text', { header: { 'Retry-After': throwing('ra'), 'X-WX-OPENID': throwing('id') } }, {}],
    ];
    const uncaught = await uncaughtDuring(async () => {
      for (const [what, patch, header] of cases) {
        answer.current = (o, res) => o.success({ ...res, ...patch });
        const res = await client.request({ path: '/api/test', cache: false });
        assert.equal(res.statusCode, 200, what);
        assert.equal(typeof res.statusCode, 'number', what);
        assert.equal(Object.prototype.toString.call(res.header), '[object Object]', what);
        assert.deepEqual({ ...res.header }, header, what);
      }
    });
    assert.deepEqual(uncaught, []);
  });

  test(`${route}: a 503 whose Retry-After throws on conversion fails as a 503, and the next request goes`, async () => {
    const { client, answer } = await clientOn(route);
    answer.current = (o, res) => o.success({ ...res, statusCode: 503, header: { 'Retry-After': throwing('ra'), 'X-WX-OPENID': Symbol('id') } });
    const err = await rejection(client.request({ path: '/api/test', retry: false }));
    assert.deepEqual([err.kind, err.statusCode], ['service', 503]);
    answer.current = (o, res) => o.success(res);
    assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
  });

  // --- 4. The platform's callbacks, called with anything, any number of times ---

  test(`${route}: fail(null), callbacks called twice or both: the first counts, nothing throws back into wx`, async () => {
    const { client, answer } = await clientOn(route);
    const uncaught = await uncaughtDuring(async () => {
      answer.current = (o) => o.fail(null);
      const err = await rejection(client.request({ path: '/api/test', retry: false }));
      assert.deepEqual([err.kind, err.detail], ['network', `${api}:fail the platform gave no reason`]);

      answer.current = (o) => o.fail({ errMsg: throwing('m'), errCode: {}, errno: Symbol('e') });
      const odd = await rejection(client.request({ path: '/api/test', retry: false }));
      assert.deepEqual([odd.kind, odd.detail], ['network', `${api}:fail the platform gave no reason`]);

      answer.current = (o, res) => {
        // Asked for as text (the shim parses it): a JSON string body.
        o.success({ ...res, data: '"first"' });
        o.success({ ...res, data: '"second"' });
        o.fail({ errMsg: `${api}:fail late` });
      };
      assert.equal((await client.request({ path: '/api/test', cache: false })).data, 'first');

      answer.current = (o, res) => {
        o.fail({ errMsg: `${api}:fail first` });
        o.success(res);
        o.fail(null);
      };
      const first = await rejection(client.request({ path: '/api/test', retry: false }));
      assert.equal(first.detail, `${api}:fail first`);
    }, 50);
    assert.deepEqual(uncaught, []);
  });
}

test('mock: a handler\'s malformed answer is the app\'s fault (invalid, not retried); its header values become text', async () => {
  const { mp } = sandboxWithBundle(emulator, { profile: 'devtools' });
  const routes = [
    { path: '/m/digits', handler: () => ({ statusCode: '201', data: 1 }) },
    { path: '/m/bigint', handler: () => ({ statusCode: 200n }) },
    { path: '/m/symbol', response: { statusCode: Symbol('s') } },
    { path: '/m/header', response: { data: 'x', header: { 'X-N': 1, 'X-O': {}, 'X-S': 's' } } },
    { path: '/m/proxy-header', handler: () => ({ header: hostileProxy() }) },
  ];
  const client = await mp.createClient(cloudOptions(emulator, { mock: { routes } }));
  const uncaught = await uncaughtDuring(async () => {
    const digits = await client.request({ path: '/m/digits' });
    assert.deepEqual([digits.statusCode, digits.data], [201, 1]);
    for (const [path, detail] of [['/m/bigint', /^mock:fail malformed response: status 200n/], ['/m/symbol', /^mock:fail malformed response: status a symbol/]]) {
      const err = await rejection(client.request({ path }));
      assert.deepEqual([err.kind, err.attempts], ['invalid', 1], path);
      assert.match(err.detail, detail);
    }
    assert.deepEqual({ ...(await client.request({ path: '/m/header' })).header }, { 'X-N': '1', 'X-S': 's' });
    const proxied = await client.request({ path: '/m/proxy-header' });
    assert.deepEqual([proxied.statusCode, { ...proxied.header }], [200, {}]);
  });
  assert.deepEqual(uncaught, []);
  assert.equal(emulator.count(), 0);
});

/** A SocketTask the test drives: its handlers, and what was sent through it. */
function fakeTask(onSend) {
  const on = {};
  const sent = [];
  const task = {
    send(o) {
      sent.push(o.data);
      onSend(o);
    },
    close() {},
    onOpen: (f) => void (on.open = f),
    onMessage: (f) => void (on.message = f),
    onClose: (f) => void (on.close = f),
    onError: (f) => void (on.error = f),
  };
  return { task, on, sent };
}

test('socket: events with null or nothing never throw into wx; a send failure reported twice hands the frame back once', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  const tasks = [
    // Refuses every frame, telling it twice, with null.
    fakeTask((o) => {
      o.fail(null);
      o.fail(null);
    }),
    fakeTask(() => {}),
  ];
  let opened = 0;
  sandbox.wx.cloud.Cloud.prototype.connectContainer = async () => ({ socketTask: tasks[opened++].task });
  const uncaught = await uncaughtDuring(async () => {
    const socket = client.socket({ service: 'ws', path: '/', minDelayMs: 20, maxDelayMs: 50, heartbeatIntervalMs: 50_000, heartbeatTimeoutMs: 60_000 });
    const got = [];
    socket.on('message', (e) => got.push(e.data));
    await until(() => opened === 1 && tasks[0].on.open);
    const first = tasks[0].on;
    assert.doesNotThrow(() => {
      first.open();
      first.open(); // twice
      first.message(null);
      first.message(undefined);
      first.message({ data: 'text frame' });
      first.message(hostileProxy());
    });
    assert.equal(socket.state, 'open');
    assert.deepEqual(got.filter((d) => d !== undefined), ['text frame']);
    socket.send('hi');
    await until(() => opened === 2 && tasks[1].on.open);
    tasks[1].on.open();
    await until(() => tasks[1].sent.length > 0);
    await sleep(50);
    assert.deepEqual(tasks[1].sent, ['hi'], 'sent once after the reconnect, not twice');
    assert.doesNotThrow(() => {
      tasks[0].on.close(null); // a stale task's late events
      tasks[0].on.error(undefined);
      tasks[1].on.error(null);
      tasks[1].on.close(null);
    });
    socket.close();
  }, 50);
  assert.deepEqual(uncaught, []);
});

test('socket: a transport that resolves no SocketTask is an error the socket recovers from', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator));
  const good = fakeTask(() => {});
  const answers = [null, { socketTask: 42 }, { socketTask: good.task }];
  let opened = 0;
  sandbox.wx.cloud.Cloud.prototype.connectContainer = async () => answers[opened++];
  const uncaught = await uncaughtDuring(async () => {
    const socket = client.socket({ service: 'ws', path: '/', minDelayMs: 10, maxDelayMs: 20, heartbeatIntervalMs: 50_000, heartbeatTimeoutMs: 60_000 });
    await until(() => opened === 3 && good.on.open);
    good.on.open();
    assert.equal(socket.state, 'open');
    socket.close();
  }, 50);
  assert.deepEqual(uncaught, []);
});

test('fetch (Node build): a malformed status fails the attempt; a JSON type with a body cut off is a service failure', async () => {
  const { createRequire } = await import('node:module');
  const { createClient } = createRequire(import.meta.url)(join(repo, 'dist/node/index.js'));
  const client = await createClient({ baseUrl: emulator.url, maxConcurrent: 1 });
  const realFetch = globalThis.fetch;
  const fake = (status, body, type) => async () => ({ status, text: async () => body, headers: new Headers({ 'content-type': type }) });
  try {
    globalThis.fetch = fake(200n, '{}', 'application/json');
    const err = await rejection(client.request({ path: '/api/test', retry: false }));
    assert.deepEqual([err.kind, err.detail], ['network', 'request:fail malformed response: status 200n (a BigInt)']);
    globalThis.fetch = fake(200, '{"items": [1, 2', 'application/problem+json');
    const cut = await rejection(client.request({ path: '/api/test', cache: false, retry: false }));
    assert.deepEqual([cut.kind, cut.statusCode, cut.retryable], ['service', 200, true]);
    assert.match(cut.detail, /not valid JSON/);
    globalThis.fetch = fake(200, 'plain words', 'text/plain');
    const text = await client.request({ path: '/api/test', cache: false });
    assert.deepEqual([text.statusCode, text.data, text.header], [200, 'plain words', { 'content-type': 'text/plain' }]);
    globalThis.fetch = async () => ({ status: 200, text: async () => '', headers: { forEach: trap, get: trap } });
    const broken = await rejection(client.request({ path: '/api/test', retry: false }));
    assert.deepEqual([broken.kind, broken.detail], ['network', 'request:fail trap']);
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200, 'the slot is free');
});

test('answered: a text body is parsed as wx does; bodyNotJson only when the content type says JSON and it does not parse', async () => {
  const { answered } = await shimModule('js-shim/src/outcome.js');
  /** What the caller would get from a body asked for as text (wx.request, callContainer). */
  const read = (header, data, statusCode = 200) => {
    const o = answered({ statusCode, header, data }, 'request', { text: 'any' });
    return [o.data, o.bodyNotJson === true];
  };
  assert.deepEqual(read({ 'Content-Type': 'application/json; charset=utf-8' }, '{"a":'), ['{"a":', true]);
  assert.deepEqual(read({ 'CONTENT-TYPE': 'application/vnd.api+json' }, '[1, 2'), ['[1, 2', true]);
  assert.deepEqual(read({ 'content-type': 'Application/JSON' }, 'x'), ['x', true]);
  assert.deepEqual(read({ 'content-type': 'application/json' }, '"a JSON string"'), ['a JSON string', false], 'a JSON string is no cut-off body');
  assert.deepEqual(read({ 'content-type': 'application/json' }, ''), ['', false], 'an empty body is no body');
  assert.deepEqual(read({ 'content-type': 'text/plain' }, 'x'), ['x', false]);
  assert.deepEqual(read({ 'content-type': 'text/plain' }, '{"a":1}'), [{ a: 1 }, false], 'parsed whatever its type, as dataType json does');
  assert.deepEqual(read({}, '[1]'), [[1], false], 'no content type: parsed');
  assert.deepEqual(read({ 'content-type': 'application/jsonp' }, 'cb(1)'), ['cb(1)', false]);
  assert.deepEqual(read(hostileProxy(), 'x'), ['x', false], 'a header that cannot be read is none');
  assert.deepEqual(read({ 'content-type': 'application/json' }, '<html>', 502), ['<html>', true], 'any status: the engine decides');
  // The fetch builds: only a body whose type says JSON is parsed (text/json too).
  const fetched = (header, data) => {
    const o = answered({ statusCode: 200, header, data }, 'request', { text: 'json' });
    return [o.data, o.bodyNotJson === true];
  };
  assert.deepEqual(fetched({ 'content-type': 'text/plain' }, '12345'), ['12345', false]);
  assert.deepEqual(fetched({}, '[1]'), ['[1]', false]);
  assert.deepEqual(fetched({ 'content-type': 'text/json' }, '[1]'), [[1], false]);
  assert.deepEqual(fetched({ 'content-type': 'application/json' }, '{"a":'), ['{"a":', true]);
  // A value (a mock handler's data) is handed on as it is, whatever its type says.
  const value = (header, data) => {
    const o = answered({ statusCode: 200, header, data }, 'mock');
    return [o.data, o.bodyNotJson === true];
  };
  assert.deepEqual(value({ 'content-type': 'application/json' }, 'pong'), ['pong', false]);
  assert.deepEqual(value({ 'content-type': 'application/json' }, { a: 1 }), [{ a: 1 }, false]);
});

// --- 3. createClient reads its options once and never rejects with a raw error ---

test('createClient: an option whose getter throws is an invalid RequestError naming it, wasmPath included', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  sandbox.context.base = cloudOptions(emulator);
  sandbox.context.mp = mp;
  const cases = [
    ['({ ...base, get wasmPath() { throw new Error("no path"); } })', '`wasmPath` could not be read (its getter threw: no path)'],
    ['({ ...base, get debug() { throw new Error("no debug"); } })', '`debug` could not be read (its getter threw: no debug)'],
    ['({ ...base, mock: { get routes() { throw new Error("no routes"); } } })', '`mock.routes` could not be read (its getter threw: no routes)'],
    ['({ ...base, mock: { routes: [{ path: "/x", get response() { throw new Error("r"); } }] } })', '`mock.routes[0].response` could not be read (its getter threw: r)'],
    ['({ ...base, mock: { routes: new Proxy([], { get(t, k) { if (k === "length") throw new Error("len"); return t[k]; } }) } })', '`mock.routes` could not be read (its getter threw: len)'],
    ['new Proxy({}, { ownKeys() { throw new Error("keys"); } })', '`options` could not be read (its keys threw: keys)'],
    ['(() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; })()', '`options` could not be read (it threw:'],
  ];
  for (const [expr, detail] of cases) {
    const err = await rejection(sandbox.evaluate(`mp.createClient(${expr})`));
    assert.ok(mp.RequestError.is(err), `${expr}: ${err}`);
    assert.equal(err.kind, 'invalid', expr);
    assert.ok(err.detail.includes(detail), `${expr}: ${JSON.stringify(err.detail)} should contain ${JSON.stringify(detail)}`);
  }
});

test('createClient: options read once, so a getter that throws (or changes) after the first reading changes nothing', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator, { profile: 'devtools' });
  const reads = { debug: 0, onSync: 0, header: 0, routes: 0, response: 0 };
  const once = (key, first) => () => {
    reads[key] += 1;
    if (reads[key] > 1) throw new Error(`${key} read twice`);
    return first;
  };
  const route = Object.defineProperty({ path: '/m/once' }, 'response', { get: once('response', { data: 'validated' }), enumerable: true });
  const options = cloudOptions(emulator);
  for (const [key, first] of [['debug', false], ['onSync', () => {}], ['header', { 'X-App': 'a' }]]) {
    Object.defineProperty(options, key, { get: once(key, first), enumerable: true });
  }
  const mock = {};
  // First the routes the engine validates, then none: the shim must serve the first.
  Object.defineProperty(mock, 'routes', { get: once('routes', [route]), enumerable: true });
  options.mock = mock;
  const client = await mp.createClient(options);
  assert.deepEqual(reads, { debug: 1, onSync: 1, header: 1, routes: 1, response: 1 });
  const res = await client.request({ path: '/m/once' });
  assert.deepEqual([res.route, res.data], ['mock', 'validated']);
  assert.equal((await client.request({ path: '/api/test', route: 'cloud' })).statusCode, 200);
  assert.equal(emulator.requests().at(-1).headers['x-app'], 'a', 'the header the engine validated');
  assert.deepEqual(reads, { debug: 1, onSync: 1, header: 1, routes: 1, response: 1 });
});

// --- 5. Lone surrogates are encoded as the native TextEncoder does ----------

/** Random strings over every kind of UTF-16 unit, lone surrogates included (seeded: reproducible). */
function randomStrings(count, seed = 17) {
  let x = seed;
  const rand = (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const kinds = [
    () => 0x20 + rand(0x5f), // ASCII
    () => rand(0x80), // ASCII controls and NUL
    () => 0x80 + rand(0x780), // two bytes
    () => 0x800 + rand(0xd000), // three bytes below the surrogates
    () => 0xd800 + rand(0x400), // a high surrogate (lone unless a low one follows by chance)
    () => 0xdc00 + rand(0x400), // a low surrogate
    () => 0xe000 + rand(0x2000), // three bytes above the surrogates (U+FFFD, U+FFFF included)
  ];
  const out = [];
  for (let i = 0; i < count; i += 1) {
    const units = [];
    for (let n = rand(24); n > 0; n -= 1) {
      if (rand(5) === 0) units.push(0xd800 + rand(0x400), 0xdc00 + rand(0x400)); // a valid pair
      else units.push(kinds[rand(kinds.length)]());
    }
    out.push(String.fromCharCode(...units));
  }
  return out;
}

test('the bundle\'s UTF-8 encoder writes what the native TextEncoder writes, byte for byte, lone surrogates as U+FFFD', async () => {
  const codec = await shimModule('js-shim/src/text-codec.js');
  const ours = new codec.TextEncoder();
  const native = new TextEncoder();
  const edges = ['', 'a', '\uD800', '\uDC00', '\uDBFF\uDFFF', '\uDC00\uD800', 'a\uD800', '\uD800b', '\uD83D\uDE00\uD83D', 'é网😀\uFFFD\uFFFF'];
  for (const text of [...edges, ...randomStrings(5000)]) {
    const expected = native.encode(text);
    assert.deepEqual(ours.encode(text), expected, JSON.stringify(text));
    // encodeInto with room for all of it (the glue's 3 bytes a unit), and with too little.
    for (const room of [text.length * 3, expected.length, Math.max(0, expected.length - 2), 1]) {
      const a = new Uint8Array(room);
      const b = new Uint8Array(room);
      assert.deepEqual(ours.encodeInto(text, a), native.encodeInto(text, b), `${JSON.stringify(text)} into ${room}`);
      assert.deepEqual(a, b, `${JSON.stringify(text)} into ${room}`);
    }
  }
});

test('a lone surrogate in a path reaches the server as U+FFFD and has its own cache entry', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { cache: { rules: [{ path: '/api/test', ttlMs: 60_000 }] } }));
  const first = await client.request({ path: '/api/test?q=ab' });
  const high = await client.request({ path: '/api/test?q=a\uD800b' });
  const low = await client.request({ path: '/api/test?q=a\uDC00b' });
  assert.deepEqual([first.fromCache, high.fromCache, low.fromCache], [false, false, true], 'both lone ones are the same text: a\uFFFDb');
  assert.deepEqual(emulator.requests().map((r) => r.query.q), ['ab', 'a\uFFFDb']);
});

test('network callbacks with null or a throwing getter tell nothing and throw nothing back into wx', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  let onChange;
  sandbox.wx.onNetworkStatusChange = (h) => void (onChange = h);
  sandbox.wx.getNetworkType = (o) => {
    o.success(null);
    o.success({ get networkType() { throw new Error('getter'); } });
  };
  const client = await mp.createClient(cloudOptions(emulator));
  assert.doesNotThrow(() => {
    onChange(null);
    onChange(undefined);
    onChange(hostileProxy());
  });
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200, 'still online');
  onChange({ isConnected: false });
  const offline = await rejection(client.request({ path: '/api/test', retry: false }));
  assert.equal(offline.kind, 'offline');
});
