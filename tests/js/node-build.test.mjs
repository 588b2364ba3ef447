// The Node build of the same shim: same engine, HTTP route over fetch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { rejection, repo, startEmulator } from './support.mjs';

const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);
let emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

test('Node build: GET over fetch against baseUrl, errors from the same core', async () => {
  const { createClient, RequestError } = require(join(repo, 'dist/node/index.js'));
  const client = await createClient({ baseUrl: emulator.url, locale: 'en' });
  const res = await client.request({ path: '/api/order/list', data: { userId: 2, page: 1, pageSize: 2 } });
  assert.equal(res.route, 'http');
  assert.equal(res.data.data.list.length, 2);
  emulator.inject({ kind: 'hang', path: '/api/test' });
  const err = await rejection(client.request({ path: '/api/test', timeoutMs: 50, retry: false }));
  assert.ok(err instanceof RequestError);
  assert.deepEqual([err.kind, err.message], ['timeout', 'Request timed out, please check your network']);
  const bad = await rejection(client.request({ path: 'nope' }));
  assert.equal(bad.kind, 'invalid');
  assert.equal(emulator.count(), 2);
});

test("Node build: a socket over Node's WebSocket sends its header with the handshake", async () => {
  // Node 22 has WebSocket; Node 20 has it behind a flag.
  const flags = typeof WebSocket === 'function' ? [] : ['--experimental-websocket'];
  const script = `
    const { createClient } = require(${JSON.stringify(join(repo, 'dist/node/index.js'))});
    (async () => {
      const client = await createClient({ baseUrl: ${JSON.stringify(emulator.url)} });
      const socket = client.socket({ path: '/', header: { 'X-Token': 'from-node' }, heartbeat: false });
      const echo = await new Promise((resolve) => {
        socket.on('message', ({ data }) => resolve(data));
        socket.send('hi from node');
        setTimeout(() => resolve('timed out: ' + socket.state), 5000);
      });
      socket.close();
      client.destroy();
      console.log(JSON.stringify({ echo }));
    })();
  `;
  const { stdout } = await execFileAsync(process.execPath, [...flags, '-e', script], { timeout: 20_000 });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)), { echo: 'hi from node' });
  assert.equal(emulator.ws.handshakes().at(-1)['x-token'], 'from-node');
});
