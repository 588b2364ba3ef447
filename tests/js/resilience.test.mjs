// Retry budgets and circuit breakers through the built mini-program bundle, in
// the sandbox, against the emulator: the tests count what reached the server.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const fastRetries = { limit: 3, baseMs: 1, capMs: 2 };

test('a backend failing everything: 300 requests make 300 calls plus what the budget pays for, not 4×', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, {
    retry: fastRetries,
    retryBudget: { capacity: 50 },
    breaker: false,
  }));
  emulator.inject({ kind: 'status', status: 503, path: '/api/test', count: 10_000 });
  const errors = [];
  for (let i = 0; i < 300; i += 1) errors.push(await rejection(client.request({ path: '/api/test', data: { i } })));
  // 50 tokens at 5 per retry: 10 retries in all.
  assert.equal(emulator.count('/api/test'), 300 + 10);
  assert.ok(errors.every((e) => e.kind === 'service'));
  assert.match(errors.at(-1).detail, /retry budget is spent \(0 of 50 tokens left; successes refill it\)/);
  const cloud = client.stats().services.find((s) => s.route === 'cloud');
  assert.deepEqual({ ...cloud.budget }, { tokens: 0, capacity: 50 });
});

test('an open breaker fails fast with kind service and a message that says so; nothing reaches the server', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, {
    retry: false,
    breaker: { minCalls: 4, failureRatio: 0.5, openMs: 60_000 },
  }));
  emulator.inject({ kind: 'status', status: 500, path: '/api/test', count: 4 });
  for (let i = 0; i < 4; i += 1) await rejection(client.request({ path: '/api/test' }));
  assert.equal(emulator.count('/api/test'), 4);
  const err = await rejection(client.request({ path: '/api/test' }));
  assert.equal(err.kind, 'service');
  assert.equal(err.message, '服务暂时不可用，已暂停请求以待恢复，请稍后重试');
  assert.match(err.detail, /^circuit open for cloud: 4 of 4 attempts failed recently; not sent \(next probe in \d+ ms\)$/);
  assert.equal(err.retryable, false);
  assert.equal(err.attempts, 0);
  assert.equal(emulator.count('/api/test'), 4, 'failed fast: not sent');
  const { breaker } = client.stats().services.find((s) => s.route === 'cloud');
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.opened, 1);
  assert.ok(breaker.retryInMs > 50_000);
  const en = await mp.createClient(cloudOptions(emulator, { locale: 'en', retry: false, breaker: { minCalls: 1, openMs: 60_000 } }));
  emulator.inject({ kind: 'status', status: 502, path: '/api/test' });
  await rejection(en.request({ path: '/api/test' }));
  assert.equal((await rejection(en.request({ path: '/api/test' }))).message,
    'Service temporarily unavailable; requests are paused while it recovers, please try again later');
});

test('with baseUrl, an open cloud breaker sends requests over HTTP instead', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, {
    baseUrl: emulator.url,
    retry: false,
    breaker: { minCalls: 2, openMs: 60_000 },
  }));
  emulator.inject({ kind: 'status', status: 503, path: '/api/test', service: 'golang-lfwy', count: 2 });
  for (let i = 0; i < 2; i += 1) await rejection(client.request({ path: '/api/test' }));
  const res = await client.request({ path: '/api/test', data: { q: 1 } });
  assert.equal(res.route, 'http');
  assert.deepEqual({ ...res.data.data.query }, { q: '1' });
  assert.deepEqual(emulator.requests().map((r) => r.headers['x-wx-service'] ? 'cloud' : 'http'), ['cloud', 'cloud', 'http']);
});

/** Requests every 10 ms for `ms` against a flapping backend; what reached the server and how they ended. */
async function flapping(mp, breaker, ms) {
  emulator.reset();
  const client = await mp.createClient(cloudOptions(emulator, { retry: fastRetries, retryBudget: false, breaker, seed: 7 }));
  emulator.inject({ kind: 'flap', status: 503, path: '/api/test', periodMs: 600, downMs: 400 });
  const outcomes = [];
  const started = Date.now();
  while (Date.now() - started < ms) {
    outcomes.push(client.request({ path: '/api/test' }).then(() => 'ok', (e) => e.kind));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const ended = await Promise.all(outcomes);
  return { calls: emulator.count('/api/test'), requests: ended.length, ok: ended.filter((o) => o === 'ok').length, stats: client.stats() };
}

test('a flapping backend: the breaker cuts the calls that reach it, and requests still succeed while it is up', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const without = await flapping(mp, false, 1800);
  const withBreaker = await flapping(mp, { windowMs: 1000, minCalls: 8, failureRatio: 0.5, openMs: 150 }, 1800);
  // Without a breaker a request in a down phase makes up to 4 attempts.
  assert.ok(without.calls > without.requests * 1.5, `without: ${without.calls} calls for ${without.requests} requests`);
  const perRequest = (run) => run.calls / run.requests;
  assert.ok(perRequest(withBreaker) < perRequest(without) * 0.6,
    `with the breaker ${withBreaker.calls} calls for ${withBreaker.requests} requests; without ${without.calls} for ${without.requests}`);
  const { breaker } = withBreaker.stats.services.find((s) => s.route === 'cloud');
  assert.ok(breaker.opened >= 2, `it opened ${breaker.opened} times: once per down phase`);
  assert.ok(withBreaker.ok > 0, 'requests in the up phases succeed');
});

test('bad retryBudget and breaker options are invalid errors naming the option, and the module still serves', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const bad = [
    [{ retryBudget: { capacity: 0 } }, /`retryBudget.capacity` must be a whole number from 1 to 100000, got 0/],
    [{ retryBudget: { retryCost: 'x' } }, /`retryCost` must be a number, got string/],
    [{ retryBudget: { size: 1 } }, /`retryBudget` has an unknown option "size"/],
    [{ retryBudget: 'on' }, /`retryBudget` must be an object, got string/],
    [{ breaker: { failureRatio: 0 } }, /`breaker.failureRatio` must be a number above 0 and at most 1/],
    [{ breaker: { openMs: -1 } }, /`breaker.openMs` must be a whole number from 1 to 600000, got -1/],
    [{ breaker: [] }, /`breaker` must be an object, got array/],
  ];
  for (const [options, message] of bad) {
    const err = await rejection(mp.createClient(cloudOptions(emulator, options)));
    assert.equal(err.kind, 'invalid', JSON.stringify(options));
    assert.match(err.detail, message);
  }
  const client = await mp.createClient(cloudOptions(emulator, { retryBudget: true, breaker: true }));
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200);
});

test('one order however many retries: the answers are lost after the service ran, the key makes the repeats safe', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { retry: fastRetries }));
  // The service creates the order, then its answer is lost: three times a reset, then a 503.
  emulator.inject({ kind: 'reset', after: true, path: '/api/order/create', count: 2 });
  emulator.inject({ kind: 'status', status: 503, after: true, path: '/api/order/create', count: 1 });
  const res = await client.request({ path: '/api/order/create', method: 'POST', data: { title: '洗衣' }, idempotent: 'auto' });
  assert.equal(res.attempts, 4);
  assert.equal(emulator.count('/api/order/create'), 4, 'four calls reached the server');
  assert.equal(emulator.handled('/api/order/create'), 1, 'one order was created');
  assert.equal(emulator.stats().replayed, 3);
  const keys = emulator.requests().map((r) => r.headers['idempotency-key']);
  assert.equal(new Set(keys).size, 1, 'one key for every attempt');
  assert.match(keys[0], /^[0-9a-f]{32}$/);
  assert.equal(res.header['idempotent-replayed'], 'true', 'the answer is the first one, replayed');
  const created = res.data.data.id;

  // A second operation is a second order, with its own key.
  const next = await client.request({ path: '/api/order/create', method: 'POST', data: { title: '洗衣' }, idempotent: 'auto' });
  assert.notEqual(next.data.data.id, created);
  assert.equal(emulator.handled('/api/order/create'), 2);

  // Without a key the same faults give duplicates when told to retry, or an error when not.
  emulator.reset();
  emulator.inject({ kind: 'reset', after: true, path: '/api/order/create', count: 3 });
  await client.request({ path: '/api/order/create', method: 'POST', data: {}, idempotent: true });
  assert.equal(emulator.handled('/api/order/create'), 4, 'idempotent: true without a key: four orders');
  emulator.reset();
  emulator.inject({ kind: 'reset', after: true, path: '/api/order/create' });
  const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: {} }));
  assert.equal(err.kind, 'network');
  assert.match(err.detail, /POST is not idempotent and may have reached the server/);
  assert.equal(emulator.count('/api/order/create'), 1);
});

test('a key of the caller\'s own is sent as given; a reused key with another body is refused by the server', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { retry: fastRetries }));
  emulator.inject({ kind: 'status', status: 503, after: true, path: '/api/order/create' });
  const res = await client.request({ path: '/api/order/create', method: 'POST', data: { n: 1 }, idempotencyKey: 'order-form-7' });
  assert.equal(res.attempts, 2);
  assert.deepEqual(emulator.requests().map((r) => r.headers['idempotency-key']), ['order-form-7', 'order-form-7']);
  assert.equal(emulator.handled('/api/order/create'), 1);
  const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { n: 2 }, idempotencyKey: 'order-form-7' }));
  assert.equal(err.statusCode, 422);
  for (const [options, message] of [
    [{ idempotencyKey: '' }, /`idempotencyKey` must be 1 to 255 visible ASCII characters/],
    [{ idempotencyKey: 7 }, /`idempotencyKey` must be a string, got number/],
    [{ idempotent: 'yes' }, /`idempotent` must be true, false or 'auto'/],
    [{ idempotencyKey: 'k', idempotent: false }, /`idempotent` cannot be false with an idempotencyKey/],
  ]) {
    const bad = await rejection(client.request({ path: '/api/order/create', method: 'POST', ...options }));
    assert.equal(bad.kind, 'invalid');
    assert.match(bad.detail, message);
  }
  assert.equal((await client.request({ path: '/api/test' })).statusCode, 200, 'still serves');
});

test('at most maxConcurrent calls reach the server at once; the rest queue, page data before prefetch', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, { maxConcurrent: 3 }));
  emulator.inject({ kind: 'delay', delayMs: 60, path: '/api/test', count: 100 });
  const all = await Promise.all(Array.from({ length: 12 }, (_, i) => client.request({ path: '/api/test', data: { i } })));
  assert.equal(all.length, 12);
  assert.equal(emulator.count('/api/test'), 12);
  assert.equal(emulator.stats().maxOpen, 3, 'never more than 3 at once');
  const during = Promise.all(Array.from({ length: 5 }, (_, i) => client.request({ path: '/api/test', data: { j: i } })));
  const load = client.stats().services.find((s) => s.route === 'cloud');
  assert.deepEqual([load.inFlight, load.queued], [3, 2], 'client.stats() shows the scheduler');
  await during;

  emulator.reset();
  const one = await mp.createClient(cloudOptions(emulator, { maxConcurrent: 1 }));
  emulator.inject({ kind: 'delay', delayMs: 80, path: '/api/test', count: 1 });
  const first = one.request({ path: '/api/test', data: { n: 'first' } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const rest = [['prefetch', 'low'], ['list', 'normal'], ['page', 'high']].map(([n, priority]) =>
    one.request({ path: '/api/test', data: { n }, priority }));
  const answers = (await Promise.all([first, ...rest])).map((r) => r.data.data.query.n);
  assert.deepEqual(answers, ['first', 'prefetch', 'list', 'page'], 'each caller got its own answer');
  assert.deepEqual(emulator.requests().map((r) => r.query.n), ['first', 'page', 'list', 'prefetch'], 'the server saw them by priority');
});

test('request:fail interrupted in the background is sent again when the app comes back', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const client = await mp.createClient({ baseUrl: emulator.url, retry: false });
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  emulator.inject({ kind: 'delay', delayMs: 150, path: '/api/test', count: 1 });
  emulator.inject({ kind: 'delay', delayMs: 150, path: '/api/order/create', count: 2 });
  const page = client.request({ path: '/api/test', data: { n: 1 } });
  const order = client.request({ path: '/api/order/create', method: 'POST', data: { title: 't' }, idempotent: 'auto' });
  const unsafe = client.request({ path: '/api/order/create', method: 'POST', data: { title: 'u' } });
  await sleep(40);
  sandbox.controls.appHide();
  const err = await rejection(unsafe);
  assert.equal(err.kind, 'network');
  assert.match(err.detail, /interrupted; not retried: POST is not idempotent/);
  await sleep(200);
  assert.equal(emulator.count('/api/test'), 1, 'nothing is sent while in the background');
  sandbox.controls.appShow();
  const [res, created] = await Promise.all([page, order]);
  assert.equal(res.attempts, 2, 'retry: false does not stop a resend after an interruption');
  assert.equal(emulator.count('/api/test'), 2);
  assert.equal(created.attempts, 2);
  assert.equal(emulator.handled('/api/order/create'), 2, 'the keyed order once, the unsafe one once');
  const { total } = client.stats();
  assert.equal(total.failed, 1);
});

test('debug: true: every response and error carries explain, decided by the engine', async () => {
  const { mp } = sandboxWithBundle(emulator);
  const client = await mp.createClient(cloudOptions(emulator, {
    debug: true,
    retry: fastRetries,
    cache: { rules: [{ path: '/api/home/*', ttlMs: 60_000 }] },
  }));
  emulator.inject({ kind: 'status', status: 503, path: '/api/home/init', count: 1 });
  const miss = await client.request({ path: '/api/home/init' });
  const x = JSON.parse(JSON.stringify(miss.explain));
  assert.equal(x.route, 'cloud');
  assert.equal(x.routeReason, 'env configured and wx.cloud available');
  assert.deepEqual([x.cache, x.cacheReason], ['miss', 'cached: a cache rule covers this path']);
  assert.deepEqual(x.attempts.map((a) => a.outcome), ['HTTP 503', 'HTTP 200']);
  assert.match(x.attempts[0].decision, /^retry in \d+ ms, for 5 tokens of the retry budget$/);
  assert.equal(x.breaker.state, 'closed');
  assert.deepEqual(x.budget, { tokens: 500, capacity: 500 });
  const hit = await client.request({ path: '/api/home/init' });
  assert.deepEqual([hit.fromCache, hit.explain.cache, hit.explain.cacheReason], [true, 'hit', 'a fresh entry']);
  emulator.inject({ kind: 'status', status: 404, path: '/api/test', count: 1 });
  const err = await rejection(client.request({ path: '/api/test', method: 'POST', data: {} }));
  assert.equal(err.explain.cache, 'bypass');
  assert.equal(err.explain.attempts[0].decision, 'returned: http is not retried');
  const quiet = await mp.createClient(cloudOptions(emulator));
  assert.equal((await quiet.request({ path: '/api/test' })).explain, undefined, 'without debug nothing is recorded');
  const bad = await rejection(mp.createClient(cloudOptions(emulator, { debug: 'yes' })));
  assert.match(bad.detail, /`debug` must be true or false, got string/);
});

test('a 200 whose JSON body is cut off is no success: a keyed POST repeats with its key and creates one order; a POST without one fails as service', async () => {
  for (const route of ['cloud', 'http']) {
    emulator.reset();
    const { mp } = sandboxWithBundle(emulator);
    const options = route === 'cloud' ? cloudOptions(emulator, { retry: fastRetries }) : { baseUrl: emulator.url, retry: fastRetries };
    const client = await mp.createClient(options);
    // The service creates the order, then half of its answer arrives.
    emulator.inject({ kind: 'malformed', after: true, path: '/api/order/create' });
    const res = await client.request({ path: '/api/order/create', method: 'POST', data: { title: '洗衣' }, idempotent: 'auto' });
    assert.equal(res.attempts, 2, route);
    assert.equal(typeof res.data, 'object', `${route}: the whole answer, parsed`);
    assert.equal(res.header['idempotent-replayed'], 'true', `${route}: the first answer, replayed`);
    assert.equal(emulator.count('/api/order/create'), 2, `${route}: two calls reached the server`);
    assert.equal(emulator.handled('/api/order/create'), 1, `${route}: one order`);

    emulator.inject({ kind: 'malformed', after: true, path: '/api/order/create' });
    const err = await rejection(client.request({ path: '/api/order/create', method: 'POST', data: { title: '洗衣' } }));
    assert.deepEqual([err.kind, err.statusCode, err.attempts], ['service', 200, 1], route);
    assert.match(err.detail, /not valid JSON/);
    assert.match(err.detail, /not idempotent/);
    assert.equal(emulator.handled('/api/order/create'), 2, `${route}: not repeated`);

    // A GET cut off is retried and then served whole; the cut answer was never cached.
    emulator.inject({ kind: 'malformed', path: '/api/test' });
    const get = await client.request({ path: '/api/test' });
    assert.deepEqual([get.statusCode, get.attempts, typeof get.data], [200, 2, 'object'], route);
    client.destroy();
  }
});
