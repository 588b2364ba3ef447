#!/usr/bin/env node
// Serves the web admin on loopback next to a Cloud Run emulator:
//   node examples/web-admin/serve.mjs   (after `make demo` or `make test` built dist/web)
// prints the page's URL; the page talks to the emulator over fetch (CORS).
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../emulator/cloud-run-emulator.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const webBuild = resolve(here, '../../dist/web');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/**
 * Starts the emulator and the page server.
 * @param {{ port?: number, keepAlive?: boolean }} [options]
 */
export async function startAdmin(options = {}) {
  if (!existsSync(join(webBuild, 'mp-request.js'))) {
    throw new Error(`${webBuild} has no build: run \`make demo\` (or \`make build\`) first`);
  }
  const emulator = await startEmulator({ keepAlive: options.keepAlive });
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url || '/', 'http://admin').pathname);
    const [root, rest] = path.startsWith('/mp-request/') ? [webBuild, path.slice('/mp-request/'.length)] : [here, path.slice(1) || 'index.html'];
    const file = normalize(join(root, rest));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(options.port || 0, '127.0.0.1', () => ok(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}/index.html?api=${encodeURIComponent(emulator.url)}`,
    emulator,
    async close() {
      server.closeAllConnections();
      await new Promise((ok) => server.close(() => ok(undefined)));
      await emulator.close();
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const admin = await startAdmin({ port: Number(process.env.PORT) || 8080, keepAlive: true });
  console.log(`web admin: ${admin.url}`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => admin.close().then(() => process.exit(0)));
}
