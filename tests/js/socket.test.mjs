// Managed sockets through the bundle in the sandbox, against the emulator's
// real WebSocket service: reuse and the platform's limit, reconnect through
// drops with nothing lost, frames the platform refuses, heartbeat death,
// network and app lifecycle.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { cloudOptions, FAST_SOCKET as FAST, packageRoot, sandboxWithBundle, sleep, startEmulator, waitFor } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

async function setup(extra = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, extra.sandbox || {});
  const client = await mp.createClient(cloudOptions(emulator, extra.client || {}));
  return { client, sandbox, mp };
}

test('one connection per (service, path) shared by its callers; a sixth distinct one is refused clearly', async () => {
  const { client, sandbox } = await setup();
  const a = client.socket({ service: 'ws', path: '/' });
  const b = client.socket({ service: 'ws', path: '/' });
  await waitFor('open', () => a.state === 'open');
  assert.equal(b.state, 'open');
  assert.equal(emulator.stats().ws.connections, 1, 'shared');
  const others = [1, 2, 3, 4].map((i) => client.socket({ path: `/room-${i}` }));
  const err = (() => {
    try {
      client.socket({ path: '/room-5' });
    } catch (e) {
      return e;
    }
  })();
  assert.equal(err.kind, 'invalid');
  assert.match(err.detail, /cannot open a sixth socket/);
  a.close();
  assert.equal(b.state, 'open', 'the other holder keeps it');
  b.close();
  others.forEach((s) => s.close());
  await waitFor('sockets closed', () => sandbox.controls.openSockets() === 0);
});

test('messages round-trip; the caller closing never reconnects', async () => {
  const { client } = await setup();
  const socket = client.socket({ ...FAST });
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  socket.send('hello'); // queued until open
  await waitFor('echo', () => got.length === 1);
  assert.deepEqual(got, ['hello']);
  const closes = [];
  socket.on('close', (e) => closes.push(e));
  socket.close();
  assert.equal(socket.state, 'closed');
  await sleep(300);
  assert.equal(emulator.stats().ws.connections, 1, 'no reconnect after the caller closed');
  assert.throws(() => socket.send('x'), (e) => e.kind === 'invalid');
});

test('1,000 acked messages through a server that drops every 150 ms: all arrive, in order per connection, never two sockets at once', async () => {
  const { client } = await setup();
  const socket = client.socket({ ...FAST, acked: true, outboxMaxMessages: 2000 });
  const reconnects = [];
  socket.on('reconnecting', (e) => reconnects.push(e));
  await waitFor('open', () => socket.state === 'open');
  const stop = emulator.ws.dropEvery(150);
  for (let i = 1; i <= 1000; i += 1) {
    socket.send({ n: i });
    if (i % 50 === 0) await sleep(15);
  }
  const ids = () => new Set(emulator.ws.received().map((r) => r.id));
  await waitFor('all 1,000 acked ids at the server', () => ids().size === 1000, 20_000);
  stop();
  const byConnection = new Map();
  for (const { connection, id } of emulator.ws.received()) {
    if (!byConnection.has(connection)) byConnection.set(connection, []);
    byConnection.get(connection).push(id);
  }
  for (const [connection, list] of byConnection) {
    for (let i = 1; i < list.length; i += 1) assert.ok(list[i] > list[i - 1], `connection ${connection}: ${list[i - 1]} then ${list[i]}`);
  }
  assert.ok(reconnects.length >= 1, 'the drops happened');
  assert.equal(emulator.stats().ws.maxOpen, 1, 'never two sockets open at once');
  socket.close();
});

test('a server that goes silent is detected within the heartbeat timeout and replaced', async () => {
  const { client } = await setup();
  const socket = client.socket({ ...FAST });
  await waitFor('open', () => socket.state === 'open');
  // By default silence counts once the service has answered a ping.
  await waitFor('a ping answered', () => emulator.stats().ws.pings >= 1);
  await sleep(20);
  const closes = [];
  socket.on('close', (e) => closes.push({ ...e, at: Date.now() }));
  const silentAt = Date.now();
  emulator.ws.silence();
  await waitFor('dead', () => closes.length > 0, 3000);
  const after = closes[0].at - silentAt;
  assert.match(closes[0].reason, /heartbeat timeout/);
  assert.ok(after <= 400 + 250, `detected after ${after} ms (timeout 400 ms, ping every 100 ms)`);
  emulator.ws.silence(false);
  await waitFor('replaced', () => socket.state === 'open' && emulator.stats().ws.connections >= 2);
  socket.close();
});

test('heartbeat: false — a service that ignores pings is never pinged and never reconnected for being quiet', async () => {
  const { client } = await setup();
  emulator.ws.pings('ignore');
  const socket = client.socket({ ...FAST, heartbeat: false });
  const closes = [];
  socket.on('close', (e) => closes.push(e));
  await waitFor('open', () => socket.state === 'open');
  await sleep(1200); // three times the 400 ms timeout
  assert.deepEqual(closes, []);
  assert.equal(socket.state, 'open');
  assert.equal(emulator.stats().ws.connections, 1);
  assert.equal(emulator.stats().ws.pings, 0, 'no pings at all');
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  socket.send('still here');
  await waitFor('echo', () => got.length === 1);
  socket.close();
});

test('by default a service that ignores pings gets them (the gateway reclaims idle sockets) but is not reconnected', async () => {
  const { client } = await setup();
  emulator.ws.pings('ignore');
  const socket = client.socket({ ...FAST });
  const closes = [];
  socket.on('close', (e) => closes.push(e));
  await waitFor('open', () => socket.state === 'open');
  await sleep(1200);
  assert.deepEqual(closes, [], 'quiet is not dead');
  assert.equal(emulator.stats().ws.connections, 1);
  assert.ok(emulator.stats().ws.pings >= 5, `pinged ${emulator.stats().ws.pings} times`);
  socket.close();
});

test('heartbeat: true — silence from the start means dead: a service that ignores pings is replaced after the timeout', async () => {
  const { client } = await setup();
  emulator.ws.pings('ignore');
  const socket = client.socket({ ...FAST, heartbeat: true });
  await waitFor('open', () => socket.state === 'open');
  const openedAt = Date.now();
  const closes = [];
  socket.on('close', (e) => closes.push({ ...e, at: Date.now() }));
  await waitFor('dead', () => closes.length > 0, 3000);
  assert.match(closes[0].reason, /heartbeat timeout/);
  assert.ok(closes[0].at - openedAt <= 400 + 250, `after ${closes[0].at - openedAt} ms`);
  await waitFor('replaced', () => socket.state === 'open' && emulator.stats().ws.connections >= 2);
  socket.close();
});

test('an echo service hands the pings back: they are answers, never messages', async () => {
  const { client } = await setup();
  emulator.ws.pings('echo');
  const socket = client.socket({ ...FAST });
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  await waitFor('open', () => socket.state === 'open');
  socket.send('hello');
  await sleep(1200);
  assert.ok(emulator.stats().ws.pings >= 5, 'pings went out and came back');
  assert.deepEqual(got, ['hello'], 'only the app message');
  assert.equal(emulator.stats().ws.connections, 1, 'echoed pings are signs of life');
  socket.close();
});

test('control frames are parsed: an ack in any key order or spacing acks; app messages with a type field are delivered', async () => {
  const { client } = await setup();
  const socket = client.socket({ ...FAST, heartbeat: false, acked: true });
  const got = [];
  const errors = [];
  socket.on('message', (e) => got.push(e.data));
  socket.on('error', (e) => errors.push(e));
  await waitFor('open', () => socket.state === 'open');
  emulator.ws.silence(); // the service acks nothing by itself now
  socket.send({ n: 1 });
  socket.send({ n: 2 });
  socket.send({ n: 3 });
  await sleep(50);
  const appMessages = [
    '{"type":"ack","id":3,"from":"chat"}',
    '{"type":"message","content":"Hello WebSocket"}',
    '{"type":"pong","score":3}',
    `{"type":"pong"${' '.repeat(1100)}}`, // a pong's shape, but too large to be one
  ];
  emulator.ws.broadcast('{"id":1,"type":"ack"}');
  emulator.ws.broadcast(' {\n  "type" : "ack" ,\t"id" : 2\n} ');
  for (const m of appMessages) emulator.ws.broadcast(m);
  emulator.ws.broadcast('{ "t": 1, "type": "pong" }');
  await waitFor('the app messages', () => got.length === appMessages.length);
  await sleep(50);
  assert.deepEqual(got, appMessages, 'in order; pongs and acks are not messages');
  socket.close();
  // Closing tells what was never acked: only message 3 (1 and 2 were acked out of order of keys).
  assert.equal(errors.length, 1);
  assert.deepEqual([...errors[0].unsent], ['{"n":3}']);
});

test('binary frames and large text frames reach the listeners as they came', async () => {
  const { client } = await setup();
  const socket = client.socket({ ...FAST });
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  await waitFor('open', () => socket.state === 'open');
  const large = `{"type":"message","text":"${'中'.repeat(300_000)}"}`;
  socket.send(large);
  await waitFor('the large echo', () => got.length === 1, 5000);
  assert.equal(got[0], large);
  socket.close();
});

test('header: sent with the handshake of every connection, on the cloud and HTTP routes; checked like a request header', async () => {
  const { client } = await setup();
  const socket = client.socket({ ...FAST, header: { 'X-Token': 't-1', 'X-WX-OPENID': 'spoofed' } });
  await waitFor('open', () => socket.state === 'open');
  emulator.ws.drop();
  await waitFor('reconnected', () => socket.state === 'open' && emulator.stats().ws.connections === 2);
  for (const handshake of emulator.ws.handshakes()) {
    assert.equal(handshake['x-token'], 't-1');
    assert.equal(handshake['x-wx-openid'], 'o-user-1', "the gateway's identity wins over the caller's");
  }
  // Another token: another connection; the same one in another case and order: shared.
  const other = client.socket({ ...FAST, header: { 'X-Token': 't-2' } });
  const same = client.socket({ ...FAST, header: { 'x-wx-openid': 'spoofed', 'x-token': 't-1' } });
  await waitFor('the other open', () => other.state === 'open');
  assert.equal(emulator.ws.handshakes().at(-1)['x-token'], 't-2');
  assert.equal(same.state, 'open');
  assert.equal(emulator.stats().ws.connections, 3);
  for (const bad of [{ 'bad name': 'v' }, { 'X-A': 'a\r\nInjected: 1' }, 'X-Token: t', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`X-${i}`, 'v']))]) {
    assert.throws(() => client.socket({ header: bad }), (e) => e.kind === 'invalid' && /header/.test(e.detail), JSON.stringify(bad));
  }
  [socket, other, same].forEach((s) => s.close());

  const { client: http, sandbox } = await setup({ sandbox: { cloud: false }, client: { baseUrl: emulator.url } });
  const overHttp = http.socket({ ...FAST, path: '/chat', header: { 'X-Token': 't-3' } });
  await waitFor('open over http', () => overHttp.state === 'open');
  assert.equal(sandbox.controls.calls.connectSocket, 1);
  assert.equal(emulator.ws.handshakes().at(-1)['x-token'], 't-3');
  overHttp.close();
});

test('offline pauses reconnecting; the network back reconnects at once', async () => {
  const { client, sandbox } = await setup();
  const socket = client.socket({ ...FAST, minDelayMs: 2000, maxDelayMs: 5000 });
  await waitFor('open', () => socket.state === 'open');
  sandbox.controls.setNetworkType('none');
  emulator.ws.drop();
  await waitFor('paused', () => socket.state === 'paused');
  await sleep(200);
  assert.equal(emulator.stats().ws.connections, 1, 'no attempt while offline');
  const back = Date.now();
  sandbox.controls.setNetworkType('wifi');
  await waitFor('open again', () => socket.state === 'open');
  assert.ok(Date.now() - back < 1000, 'promptly, not after the 2 s backoff');
  socket.close();
});

test('in the background no reconnect loop; on show a fresh connection', async () => {
  const { client, sandbox } = await setup();
  const socket = client.socket({ ...FAST });
  await waitFor('open', () => socket.state === 'open');
  sandbox.controls.appHide(); // the platform closes sockets in the background
  await waitFor('paused', () => socket.state === 'paused');
  await sleep(300);
  assert.equal(emulator.stats().ws.connections, 1, 'no reconnect while hidden');
  sandbox.controls.appShow();
  await waitFor('open again', () => socket.state === 'open');
  assert.equal(emulator.stats().ws.connections, 2);
  assert.equal(emulator.stats().ws.maxOpen, 1);
  socket.close();
});

test('the mock route echoes in memory in the devtools', async () => {
  const { client } = await setup({ sandbox: { profile: 'devtools' } });
  const socket = client.socket({ route: 'mock' });
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  socket.send('hi');
  socket.send({ n: 1 });
  await waitFor('echoes', () => got.length === 2);
  assert.deepEqual(got, ['hi', '{"n":1}']);
  assert.equal(emulator.stats().ws.connections, 0, 'nothing reached the server');
  socket.close();
  const { client: release } = await setup({ sandbox: { profile: 'devtools', envVersion: 'release' } });
  assert.throws(() => release.socket({ route: 'mock' }), (e) => e.kind === 'invalid' && /release build/.test(e.detail));
});

test('without wx.cloud the socket goes over wx.connectSocket to baseUrl as ws://', async () => {
  const { client, sandbox } = await setup({ sandbox: { cloud: false }, client: { baseUrl: emulator.url } });
  const socket = client.socket({ ...FAST, path: '/chat' });
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  socket.send('over http');
  await waitFor('echo', () => got.length === 1);
  assert.equal(sandbox.controls.calls.connectSocket, 1);
  assert.equal(sandbox.controls.calls.connectContainer, 0);
  assert.equal(typeof socket.task.send, 'function', 'the current SocketTask, for globalData.socketTask');
  socket.close();
  assert.equal(socket.task, undefined);
});

test('a full outbox refuses with an error the caller sees; nothing is dropped silently', async () => {
  const { client, sandbox } = await setup();
  await client.prepareSockets();
  sandbox.controls.setNetworkType('none');
  await sleep(10);
  const socket = client.socket({ ...FAST, outboxMaxMessages: 3 });
  for (let i = 0; i < 3; i += 1) socket.send(`m${i}`);
  assert.throws(() => socket.send('m3'), (e) => e.kind === 'invalid' && /outbox is full/.test(e.detail));
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  sandbox.controls.setNetworkType('wifi');
  await waitFor('the three queued, in order', () => got.length === 3);
  assert.deepEqual(got, ['m0', 'm1', 'm2']);
  socket.close();
});

test('frames the platform refuses are sent after the reconnect, in order, each exactly once', async () => {
  const { client, sandbox } = await setup();
  const socket = client.socket({ ...FAST });
  const errors = [];
  const closes = [];
  socket.on('error', (e) => errors.push(e));
  socket.on('close', (e) => closes.push(e));
  await waitFor('open', () => socket.state === 'open');
  socket.send('before');
  await waitFor('the first frame at the server', () => emulator.ws.texts().length === 1);
  sandbox.controls.breakSocketSends(); // the task is dead, its onClose has not come yet
  socket.send('a');
  socket.send('b');
  await waitFor('the refusal seen as a lost connection', () => closes.length === 1);
  socket.send('c');
  await waitFor('three more frames at the server', () => emulator.ws.texts().length === 4);
  await sleep(300); // a duplicate would have arrived by now
  assert.deepEqual(emulator.ws.texts(), [
    { connection: 1, text: 'before' },
    { connection: 2, text: 'a' },
    { connection: 2, text: 'b' },
    { connection: 2, text: 'c' },
  ]);
  assert.equal(closes[0].reconnecting, true);
  assert.match(closes[0].reason, /WebSocket is not connected/);
  assert.deepEqual(errors, [], 'nothing was lost, so no error');
  assert.equal(emulator.stats().ws.connections, 2, 'one reconnect for the refusals of one task');
  socket.close();
});

test('acked: a frame the platform refuses reaches the server once after the reconnect, with its id', async () => {
  const { client, sandbox } = await setup();
  const socket = client.socket({ ...FAST, acked: true });
  await waitFor('open', () => socket.state === 'open');
  sandbox.controls.breakSocketSends();
  socket.send({ n: 1 });
  socket.send({ n: 2 });
  await waitFor('both ids at the server', () => emulator.ws.received().length === 2);
  await sleep(300);
  assert.deepEqual(emulator.ws.received(), [
    { connection: 2, id: 1 },
    { connection: 2, id: 2 },
  ]);
  socket.close();
});

test('a refused frame the outbox cannot take back is named in an error; the one kept arrives', async () => {
  const { client, sandbox } = await setup();
  const socket = client.socket({ ...FAST, outboxMaxMessages: 1 });
  const errors = [];
  socket.on('error', (e) => errors.push(e));
  await waitFor('open', () => socket.state === 'open');
  sandbox.controls.breakSocketSends();
  socket.send('a'); // both go to the dead task: the outbox keeps neither while open
  socket.send({ b: 2 });
  await waitFor('the error', () => errors.length === 1);
  assert.deepEqual([...errors[0].unsent], ['{"b":2}']); // copied out of the sandbox's realm
  assert.match(errors[0].detail, /WebSocket is not connected.*the outbox is full \(1 messages/);
  await waitFor('the kept frame at the server', () => emulator.ws.texts().length === 1);
  await sleep(300);
  assert.deepEqual(emulator.ws.texts(), [{ connection: 2, text: 'a' }]);
  socket.close();
});

test('closing with messages still waiting: the closing handle hears an error naming them, then the close', async () => {
  const { client, sandbox } = await setup();
  await client.prepareSockets();
  sandbox.controls.setNetworkType('none');
  await sleep(10);
  const socket = client.socket({ ...FAST });
  const heard = [];
  socket.on('error', (e) => heard.push(['error', [...e.unsent]]));
  socket.on('close', (e) => heard.push(['close', e.reason]));
  socket.send('m0');
  socket.send({ n: 1 });
  socket.close();
  assert.deepEqual(heard, [
    ['error', ['m0', '{"n":1}']],
    ['close', 'closed by the caller; 2 message(s) were not sent'],
  ]);
  assert.equal(emulator.stats().ws.connections, 0);
});

test('while the socket engine loads: the socket is connecting, sends keep their order, and one the outbox refuses is an error event naming it', async () => {
  const { client, sandbox } = await setup();
  sandbox.controls.setNetworkType('none');
  await sleep(10);
  const socket = client.socket({ ...FAST, outboxMaxMessages: 2 });
  assert.equal(socket.state, 'connecting');
  const errors = [];
  socket.on('error', (e) => errors.push(e));
  // Bad data still throws at once: the request engine checks it.
  assert.throws(() => socket.send(() => 1), (e) => e.kind === 'invalid' && /string or JSON/.test(e.detail));
  for (let i = 0; i < 3; i += 1) socket.send(`m${i}`);
  await waitFor('the socket engine', () => socket.state !== 'connecting');
  assert.equal(errors.length, 1);
  assert.deepEqual([...errors[0].unsent], ['m2']);
  assert.match(errors[0].detail, /outbox is full/);
  const got = [];
  socket.on('message', (e) => got.push(e.data));
  sandbox.controls.setNetworkType('wifi');
  await waitFor('the two kept, in order', () => got.length === 2);
  assert.deepEqual(got, ['m0', 'm1']);
  socket.close();
});

test('closing before the socket engine is loaded: the closing handle hears the same error and close once it is; nothing connects', async () => {
  const { client, sandbox } = await setup();
  sandbox.controls.setNetworkType('none');
  await sleep(10);
  const socket = client.socket({ ...FAST });
  const heard = [];
  socket.on('error', (e) => heard.push(['error', [...e.unsent]]));
  socket.on('close', (e) => heard.push(['close', e.reason]));
  socket.send('m0');
  socket.close();
  assert.equal(socket.state, 'closed');
  await waitFor('the close', () => heard.length === 2);
  assert.deepEqual(heard, [
    ['error', ['m0']],
    ['close', 'closed by the caller; 1 message(s) were not sent'],
  ]);
  assert.equal(emulator.stats().ws.connections, 0);
  // Its slot is free again: five others open.
  const five = [1, 2, 3, 4, 5].map((i) => client.socket({ path: `/room-${i}` }));
  five.forEach((s) => s.close());
});

test('a socket engine that cannot be loaded fails its sockets with the reason; prepareSockets rejects; requests go on', async () => {
  const { mp, sandbox } = sandboxWithBundle(emulator);
  const { WXWebAssembly } = sandbox.context;
  const instantiate = WXWebAssembly.instantiate.bind(WXWebAssembly);
  let refuse = true;
  WXWebAssembly.instantiate = (path, imports) =>
    refuse && path.includes('_sockets') ? Promise.reject(new Error('file not found')) : instantiate(path, imports);
  const client = await mp.createClient(cloudOptions(emulator));
  const socket = client.socket({ ...FAST });
  const events = [];
  socket.on('error', (e) => events.push(['error', e.detail]));
  socket.on('state', (e) => events.push(['state', e.state]));
  await assert.rejects(client.prepareSockets(), (e) => e.kind === 'invalid' && /mp_request_sockets\.wasm\.br. could not be loaded/.test(e.detail));
  await waitFor('the failure', () => events.length === 2);
  assert.match(events[0][1], /socket engine could not be loaded \(file not found\)/);
  assert.deepEqual(events[1], ['state', 'failed']);
  const res = await client.request({ path: '/api/home/init' });
  assert.equal(res.statusCode, 200);
  // The next call loads it again.
  refuse = false;
  socket.close();
  await client.prepareSockets();
  const again = client.socket({ ...FAST });
  await waitFor('open', () => again.state === 'open');
  again.close();
});

test("a client that never opens a socket loads none of the sockets' code: without those files it serves requests, and client.socket() names what is missing", async () => {
  const root = packageRoot();
  rmSync(join(root, 'utils/mp-request/mp_request_sockets.js'));
  rmSync(join(root, 'utils/mp-request/mp_request_sockets.wasm.br'));
  rmSync(join(root, 'utils/mp-request/mp_request_sockets.wasm'));
  const { mp } = sandboxWithBundle(emulator, { root });
  const client = await mp.createClient(cloudOptions(emulator));
  const res = await client.request({ path: '/api/home/init' });
  assert.equal(res.statusCode, 200);
  assert.throws(
    () => client.socket({ ...FAST }),
    (e) => e instanceof mp.RequestError && e.kind === 'invalid' && /mp_request_sockets\.js. could not be loaded/.test(e.detail),
  );
  await assert.rejects(client.prepareSockets(), (e) => e instanceof mp.RequestError && /mp_request_sockets\.js/.test(e.detail));
  // Requests go on.
  assert.equal((await client.request({ path: '/api/home/init' })).statusCode, 200);
});

test('errors from a socket are the app\'s RequestError (one class, though the sockets\' code is a file of its own)', async () => {
  const { client, mp } = await setup();
  const socket = client.socket({ ...FAST });
  assert.throws(() => socket.send(() => 1), (e) => e instanceof mp.RequestError && mp.RequestError.is(e));
  socket.close();
  assert.throws(() => socket.send('x'), (e) => e instanceof mp.RequestError && /handle was closed/.test(e.detail));
  assert.throws(() => client.socket({ factor: 99 }), (e) => e instanceof mp.RequestError);
});
