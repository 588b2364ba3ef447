#!/usr/bin/env node
// Runs the emulator on its own: `node emulator/cli.mjs [--port 8787] [--lifetime-ms 600000]`.
// Prints one JSON line with its URLs, then serves until the lifetime ends or Ctrl-C.
import { startEmulator } from './cloud-run-emulator.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const emulator = await startEmulator({ port: arg('--port', 0), lifetimeMs: arg('--lifetime-ms', 600_000), keepAlive: true });
console.log(JSON.stringify({ url: emulator.url, wsUrl: emulator.wsUrl, env: emulator.env }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => emulator.close().then(() => process.exit(0)));
