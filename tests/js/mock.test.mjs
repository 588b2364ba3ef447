// Mock mode: injected errors and delays, passthrough, and release builds.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, rejection, sandboxWithBundle, startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const ROUTES = [
  { path: '/api/home/init', response: { data: { code: 0, data: { source: 'mock' } } } },
  { path: '/api/slow', delayMs: 120, response: { data: 'late' } },
  { path: '/api/down', error: 'service' },
  { path: '/api/timeout', error: 'timeout' },
  { path: '/api/gone', error: 'network' },
];

test('a route can inject an error kind; the engine classifies and retries it as any other', async () => {
  const { mp } = sandboxWithBundle(emulator, { profile: 'devtools' });
  const client = await mp.createClient(cloudOptions(emulator, { mock: { routes: ROUTES }, retry: { baseMs: 5, capMs: 10 } }));
  const down = await rejection(client.request({ path: '/api/down' }));
  assert.deepEqual([down.kind, down.statusCode, down.message, down.attempts], ['service', 503, '服务暂时不可用，请稍后重试', 4]);
  const timeout = await rejection(client.request({ path: '/api/timeout', retry: false }));
  assert.deepEqual([timeout.kind, timeout.message, timeout.route], ['timeout', '请求超时，请检查网络', 'mock']);
  const gone = await rejection(client.request({ path: '/api/gone', retry: false }));
  assert.equal(gone.kind, 'network');
  assert.equal(emulator.count(), 0);
});

test('a route can answer after a delay', async () => {
  const { mp } = sandboxWithBundle(emulator, { profile: 'devtools' });
  const client = await mp.createClient(cloudOptions(emulator, { mock: { routes: ROUTES } }));
  const started = Date.now();
  const res = await client.request({ path: '/api/slow' });
  assert.equal(res.data, 'late');
  assert.ok(Date.now() - started >= 110);
});

test('unmatched requests fail naming the path, or pass through to the real backend', async () => {
  const { mp } = sandboxWithBundle(emulator, { profile: 'devtools' });
  const strict = await mp.createClient(cloudOptions(emulator, { mock: { routes: ROUTES } }));
  const err = await rejection(strict.request({ path: '/api/order/list' }));
  assert.match(err.detail, /nothing in mock\.routes matches GET \/api\/order\/list/);
  const loose = await mp.createClient(cloudOptions(emulator, { mock: { routes: ROUTES, passthrough: true } }));
  const res = await loose.request({ path: '/api/order/list', data: { userId: 1 } });
  assert.deepEqual([res.route, res.routeReason], ['cloud', 'no mock route matches: passed through']);
  assert.equal(emulator.count('/api/order/list'), 1);
  assert.equal((await loose.request({ path: '/api/home/init' })).route, 'mock', 'matched routes still mock');
});

test("enabled: 'auto' mocks only in the devtools; true mocks on devices; a release build never, unless allowInRelease (loudly)", async () => {
  const cases = [
    ['devtools', 'develop', {}, 'mock'],
    ['android', 'develop', {}, 'cloud'],
    ['android', 'develop', { enabled: true }, 'mock'],
    ['devtools', 'develop', { enabled: false }, 'cloud'],
    ['devtools', 'release', { enabled: true }, 'cloud'],
    ['ios', 'release', { enabled: true, allowInRelease: true }, 'mock'],
  ];
  for (const [profile, envVersion, extra, route] of cases) {
    const { mp, sandbox } = sandboxWithBundle(emulator, { profile, envVersion });
    const client = await mp.createClient(cloudOptions(emulator, { mock: { routes: ROUTES, ...extra } }));
    const res = await client.request({ path: '/api/home/init' });
    assert.equal(res.route, route, `${profile}/${envVersion} ${JSON.stringify(extra)}`);
    const warned = sandbox.logs.some((l) => l.level === 'warn' && /MOCK DATA IN A RELEASE BUILD/.test(l.line));
    assert.equal(warned, Boolean(extra.allowInRelease), 'loud exactly when mock may answer in a release build');
  }
});

test('bad mock routes are named', async () => {
  const { mp } = sandboxWithBundle(emulator, { profile: 'devtools' });
  for (const [route, expected] of [
    [{ path: '/a', error: 'explode' }, /`mock\.routes\[0\]\.error` must be one of network, timeout/],
    [{ path: '/a', response: {}, delayMs: -1 }, /`mock\.routes\[0\]\.delayMs`/],
    [{ path: '/a', response: {}, error: 'timeout' }, /needs exactly one of `response`, `handler` or `error`/],
  ]) {
    const err = await rejection(mp.createClient(cloudOptions(emulator, { mock: { routes: [route] } })));
    assert.match(err.detail, expected);
  }
});
