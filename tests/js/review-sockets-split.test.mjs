// Review of the socket engine's split into a module of its own, loaded on the
// first client.socket(): what the load window does to a hostile caller's and
// a hostile platform's sequences. Each test holds the socket engine's load
// (a gate on WXWebAssembly.instantiate) so the window is as long as it needs.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { cloudOptions, FAST_SOCKET as FAST, sandboxWithBundle, sleep, startEmulator, waitFor } from './support.mjs';

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

/**
 * A sandbox whose socket engine loads only when `gate.open()` is called, or
 * fails while `gate.refuse` is set.
 */
function gated(extra = {}) {
  const { mp, sandbox } = sandboxWithBundle(emulator, extra);
  const { WXWebAssembly } = sandbox.context;
  const instantiate = WXWebAssembly.instantiate.bind(WXWebAssembly);
  const gate = { refuse: false, loads: 0, held: [], open: () => gate.held.splice(0).forEach((go) => go()) };
  WXWebAssembly.instantiate = (path, imports) => {
    if (!path.includes('_sockets')) return instantiate(path, imports);
    gate.loads += 1;
    if (gate.refuse) return Promise.reject(new Error('file not found'));
    return new Promise((resolve) => gate.held.push(() => resolve(instantiate(path, imports))));
  };
  return { mp, sandbox, gate };
}

const errorLogs = (sandbox) => sandbox.logs.filter((l) => l.level === 'error').map((l) => l.line);

test('the network going down while the socket engine loads reaches its sockets: paused, not connecting', async () => {
  const { mp, sandbox, gate } = gated();
  const client = await mp.createClient(cloudOptions(emulator));
  const socket = client.socket({ ...FAST });
  sandbox.controls.setNetworkType('none');
  await waitFor('the load to start', () => gate.held.length === 1);
  gate.open();
  await waitFor('the socket engine', () => socket.state !== 'connecting');
  assert.equal(socket.state, 'paused');
  await sleep(100);
  assert.equal(emulator.stats().ws.connections, 0, 'nothing connects while offline');
  socket.close();
  client.destroy();
});

test('the network coming back while the socket engine loads reaches its sockets: they connect', async () => {
  const { mp, sandbox, gate } = gated();
  const client = await mp.createClient(cloudOptions(emulator));
  sandbox.controls.setNetworkType('none');
  await sleep(10);
  const socket = client.socket({ ...FAST });
  sandbox.controls.setNetworkType('wifi');
  await waitFor('the load to start', () => gate.held.length === 1);
  gate.open();
  await waitFor('open', () => socket.state === 'open');
  socket.close();
  client.destroy();
});

test('the app going to the background while the socket engine loads reaches its sockets', async () => {
  const { mp, sandbox, gate } = gated();
  const client = await mp.createClient(cloudOptions(emulator));
  const socket = client.socket({ ...FAST });
  sandbox.controls.appHide();
  await waitFor('the load to start', () => gate.held.length === 1);
  gate.open();
  await waitFor('the socket engine', () => socket.state !== 'connecting');
  assert.equal(socket.state, 'paused');
  socket.close();
  client.destroy();
});

test('destroy() while the socket engine loads: no error, no event, no connect, no timer afterwards; prepareSockets settles', async () => {
  const { mp, sandbox, gate } = gated({ sandbox: undefined });
  const client = await mp.createClient(cloudOptions(emulator));
  const socket = client.socket({ ...FAST });
  const heard = [];
  for (const name of ['open', 'error', 'state', 'close', 'reconnecting']) socket.on(name, (e) => heard.push([name, e.state || e.detail]));
  const prepared = client.prepareSockets().then(
    () => 'resolved',
    (e) => `rejected: ${e.detail}`,
  );
  client.destroy();
  const heardAtDestroy = heard.length;
  await waitFor('the load to start', () => gate.held.length === 1);
  gate.open();
  await sleep(100);
  assert.deepEqual(errorLogs(sandbox), []);
  assert.deepEqual(heard.slice(heardAtDestroy).filter(([, s]) => s !== 'closed'), [], 'nothing but its close after destroy');
  assert.equal(sandbox.controls.calls.connectContainer, 0);
  assert.equal(sandbox.pendingTimers(), 0);
  assert.match(await Promise.race([prepared, sleep(500).then(() => 'pending')]), /^rejected: .*destroyed/);
});

test('destroy() while the socket engine loads and a request is in flight: no wx.connectSocket after destroy', async () => {
  const { mp, sandbox, gate } = gated({ sandbox: { cloud: false } });
  const client = await mp.createClient({ baseUrl: emulator.url });
  emulator.inject({ kind: 'delay', delayMs: 300, path: '/api/test' });
  const inFlight = client.request({ path: '/api/test' }).catch(() => undefined);
  const socket = client.socket({ ...FAST });
  client.destroy();
  await waitFor('the load to start', () => gate.held.length === 1);
  gate.open();
  await inFlight;
  await sleep(100);
  assert.equal(sandbox.controls.calls.connectSocket, 0, 'no connect after destroy');
  assert.equal(socket.state, 'closed');
  assert.deepEqual(errorLogs(sandbox), []);
});

test('closing a socket before the socket engine is loaded: nothing connects, online, on the HTTP route', async () => {
  const { mp, sandbox, gate } = gated({ sandbox: { cloud: false } });
  const client = await mp.createClient({ baseUrl: emulator.url });
  const socket = client.socket({ ...FAST });
  socket.close();
  await waitFor('the load to start', () => gate.held.length === 1);
  gate.open();
  await client.prepareSockets();
  await sleep(50);
  assert.equal(sandbox.controls.calls.connectSocket, 0);
  client.destroy();
});

test('a socket engine that cannot be loaded frees the pool: the same socket and five others can be opened again, and connect', async () => {
  const { mp, gate } = gated();
  gate.refuse = true;
  const client = await mp.createClient(cloudOptions(emulator));
  const failed = [1, 2, 3, 4, 5].map((i) => client.socket({ ...FAST, path: `/room-${i}` }));
  const events = [];
  failed[0].on('state', (e) => events.push(e.state));
  await waitFor('the failure', () => events.length === 1);
  assert.deepEqual(events, ['failed']);
  assert.equal(failed[0].state, 'failed', 'the state says what the event said');
  assert.throws(() => failed[0].send('x'), (e) => e.kind === 'invalid');
  gate.refuse = false;
  // Not closed by the caller: the five failed ones hold no slot, and the same path opens anew.
  const again = client.socket({ ...FAST, path: '/room-1' });
  const others = [2, 3, 4, 5].map((i) => client.socket({ ...FAST, path: `/other-${i}` }));
  await waitFor('the load to start', () => gate.held.length === 1);
  gate.open();
  await waitFor('open', () => again.state === 'open');
  assert.equal(failed[0].state, 'failed', 'the failed handle stays failed');
  // Closing a failed handle does nothing to the new socket on its path.
  failed.forEach((s) => s.close());
  await sleep(50);
  assert.equal(again.state, 'open');
  again.close();
  others.forEach((s) => s.close());
  client.destroy();
});

test('prepareSockets after destroy rejects (as request does) rather than throwing', async () => {
  const { mp } = gated();
  const client = await mp.createClient(cloudOptions(emulator));
  client.destroy();
  let promise;
  assert.doesNotThrow(() => {
    promise = client.prepareSockets();
  });
  await assert.rejects(promise, (e) => e.kind === 'invalid' && /destroyed/.test(e.detail));
});
