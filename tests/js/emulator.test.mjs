// The loopback Cloud Run emulator: gateway routing and identity, the seed's
// APIs, fault injection, counts, controls.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { WebSocket } from 'ws';
import { startEmulator } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const viaGateway = (openid, extra = {}) => ({
  'x-wx-service': 'golang-lfwy',
  'x-wx-env': emulator.env,
  'x-emulator-openid': openid,
  ...extra,
});
const get = (path, headers = {}) => fetch(emulator.url + path, { headers });

test('the gateway adds each user\'s identity and ignores identity a client sends', async () => {
  for (const openid of ['o-alice', 'o-bob']) {
    const res = await get('/api/test', viaGateway(openid, { 'x-wx-openid': 'o-spoofed' }));
    const { identity } = (await res.json()).data;
    assert.equal(identity['x-wx-openid'], openid);
    assert.equal(identity['x-wx-appid'], 'wx101090677bd5219e');
    assert.equal(identity['x-wx-env'], emulator.env);
    assert.equal(identity['x-wx-source'], 'wx_client');
  }
  const plain = await (await get('/api/test', { 'x-wx-openid': 'o-spoofed' })).json();
  assert.deepEqual(plain.data.identity, {}, 'plain HTTP callers carry no WeChat identity');
});

test('the gateway rejects unknown services and envs with -501000', async () => {
  for (const headers of [viaGateway('o', { 'x-wx-service': 'nope' }), viaGateway('o', { 'x-wx-env': 'other-env' })]) {
    const res = await get('/api/test', headers);
    assert.equal(res.headers.get('x-emulator-gateway-errcode'), '-501000');
  }
  assert.equal(emulator.count(), 0, 'rejected at the gateway: nothing reached the service');
});

test('order list pages over real totals', async () => {
  const page = async (n) => (await (await get(`/api/order/list?userId=3&page=${n}&pageSize=4`)).json()).data;
  const first = await page(1);
  const total = first.total;
  const pages = Math.ceil(total / 4);
  const last = await page(pages);
  assert.equal(first.list.length, 4);
  assert.equal(last.list.length, total - (pages - 1) * 4);
  assert.equal(last.hasMore, false);
  assert.equal(first.hasMore, true);
  const bad = await get('/api/order/list?userId=x');
  assert.equal(bad.status, 400);
});

test('home, service list and service detail answer', async () => {
  assert.ok((await (await get('/api/home/init')).json()).data.banners.length > 0);
  const list = (await (await get('/api/service/list')).json()).data.list;
  const one = (await (await get(`/api/service/${list[0].id}`)).json()).data;
  assert.deepEqual(one, list[0]);
  assert.equal((await get('/api/service/none')).status, 404);
});

test('faults hit the next N matching calls, and every call is counted', async () => {
  emulator.inject({ kind: 'status', status: 503, count: 2, path: '/api/test' });
  emulator.inject({ kind: 'status', status: 429, retryAfter: 3, path: '/api/home' });
  const limited = await get('/api/home/init');
  assert.deepEqual([limited.status, limited.headers.get('retry-after')], [429, '3'], 'rules match by path prefix');
  assert.equal((await get('/api/home/init')).status, 200, 'a rule is spent after its count');
  assert.equal((await get('/api/test')).status, 503);
  assert.equal((await get('/api/test')).status, 503);
  assert.equal((await get('/api/test')).status, 200);
  emulator.inject({ kind: 'reset' });
  await assert.rejects(get('/api/test'));
  emulator.inject({ kind: 'malformed' });
  await assert.rejects((await get('/api/test')).json(), SyntaxError);
  emulator.inject({ kind: 'delay', delayMs: 30 });
  const t0 = Date.now();
  assert.equal((await get('/api/test')).status, 200);
  assert.ok(Date.now() - t0 >= 25);
  emulator.inject({ kind: 'hang' });
  await assert.rejects(fetch(emulator.url + '/api/test', { signal: AbortSignal.timeout(50) }));
  assert.equal(emulator.count('/api/test'), 7);
  assert.equal(emulator.count('/api/home/init'), 2);
  assert.equal(emulator.count(), 9);
});

test('controls over HTTP: faults, stats, reset; CORS preflight', async () => {
  const post = (path, body) => fetch(`${emulator.url}/__emulator${path}`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal((await post('/faults', { kind: 'status', status: 500 })).status, 200);
  assert.equal((await post('/faults', { kind: 'nonsense' })).status, 400);
  assert.equal((await get('/api/test')).status, 500);
  const stats = await (await get('/__emulator/stats')).json();
  assert.equal(stats.total, 1);
  assert.deepEqual(stats.byPath, { '/api/test': 1 });
  await post('/reset', {});
  assert.equal(emulator.count(), 0);
  const preflight = await fetch(emulator.url + '/api/test', {
    method: 'OPTIONS',
    headers: { origin: 'http://127.0.0.1:1', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://127.0.0.1:1');
  assert.equal(emulator.count(), 0, 'preflights and controls are not counted');
});

test('WebSocket service echoes, answers pings, broadcasts, can be dropped or silenced', async () => {
  const open = () =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(emulator.wsUrl + '/', { headers: { 'x-wx-service': 'ws', 'x-wx-env': emulator.env } });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const next = (ws) => new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())));
  const a = await open();
  const b = await open();
  a.send('hello');
  assert.equal(await next(a), 'hello');
  a.send(JSON.stringify({ type: 'ping', t: 1 }));
  assert.deepEqual(JSON.parse(await next(a)), { type: 'pong', t: 1 });
  const toB = next(b);
  emulator.ws.broadcast('news');
  assert.equal(await toB, 'news');
  emulator.ws.silence();
  let answered = false;
  a.once('message', () => (answered = true));
  a.send(JSON.stringify({ type: 'ping', t: 2 }));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(answered, false);
  const closed = new Promise((resolve) => b.once('close', (code) => resolve(code)));
  emulator.ws.drop();
  assert.equal(await closed, 1006, 'dropped without a close frame');
  assert.equal(emulator.stats().ws.connections, 2);
});

test('WebSocket pings: answered, echoed or ignored as asked; handshakes recorded as the service sees them', async () => {
  const ws = await new Promise((resolve, reject) => {
    const socket = new WebSocket(emulator.wsUrl + '/', {
      headers: { 'x-wx-service': 'ws', 'x-wx-env': emulator.env, 'x-token': 't', 'x-wx-openid': 'spoofed', 'x-emulator-openid': 'o-1' },
    });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
  const next = () => new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())));
  const ping = JSON.stringify({ type: 'ping', t: 7 });
  ws.send(ping);
  assert.deepEqual(JSON.parse(await next()), { type: 'pong', t: 7 });
  emulator.ws.pings('echo');
  ws.send(ping);
  assert.equal(await next(), ping, 'a plain echo service hands the ping back');
  emulator.ws.pings('ignore');
  ws.send(ping);
  ws.send('app');
  assert.equal(await next(), 'app', 'the ping was dropped, the app frame echoed');
  assert.equal(emulator.stats().ws.pings, 3);
  const [handshake] = emulator.ws.handshakes();
  assert.equal(handshake['x-token'], 't');
  assert.equal(handshake['x-wx-openid'], 'o-1', "the gateway's identity, not the caller's claim");
  assert.equal(handshake['x-emulator-openid'], undefined);
  ws.close();
  emulator.reset();
  assert.deepEqual([emulator.stats().ws.pings, emulator.ws.handshakes().length], [0, 0]);
});

test('it stops by itself when its lifetime ends', async () => {
  const shortLived = await startEmulator({ lifetimeMs: 30 });
  assert.equal((await fetch(shortLived.url + '/api/test')).status, 200);
  await new Promise((r) => setTimeout(r, 80));
  await assert.rejects(fetch(shortLived.url + '/api/test'), 'the port is closed');
});
