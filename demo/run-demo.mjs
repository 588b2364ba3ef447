#!/usr/bin/env node
// `make demo`: starts the Cloud Run emulator, loads the built mini-program
// bundle into the sandbox (devtools profile), runs the seed's cloud-test
// checks there and prints one ✅/❌ line per check with route and latency.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/cloud-run-emulator.mjs';
import { createSandbox } from '../sandbox/miniprogram-sandbox.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'mp-request-demo-'));
cpSync(join(repo, 'dist/miniprogram/mp-request'), join(root, 'utils/mp-request'), { recursive: true });
cpSync(join(repo, 'demo/cloud-test-checks.js'), join(root, 'demo/cloud-test-checks.js'));

const emulator = await startEmulator();
const sandbox = createSandbox({ root, emulator, profile: 'devtools', envVersion: 'develop', openid: 'o-demo-user' });
console.log(`mp-request demo: the seed's cloud-test page in a mini-program sandbox (devtools profile)`);
console.log(`emulator ${emulator.url}, env ${emulator.env}, service golang-lfwy\n`);

const { runCloudTest } = sandbox.require('./demo/cloud-test-checks.js');
const pad = (s, n) => s + ' '.repeat(Math.max(0, n - [...s].reduce((w, c) => w + (c.charCodeAt(0) > 0x2e80 ? 2 : 1), 0)));
const results = await runCloudTest({
  env: emulator.env,
  service: 'golang-lfwy',
  onResult: (r) => {
    const mark = r.ok ? '✅' : '❌';
    console.log(`${mark} ${pad(r.name, 12)}${pad(r.english, 18)}${pad(r.route || '-', 7)}${String(r.ms).padStart(5)} ms  ${r.note}`);
  },
});
const failed = results.filter((r) => !r.ok).length;
console.log(`\n${results.length - failed} passed, ${failed} failed`);
sandbox.dispose();
await emulator.close();
rmSync(root, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
