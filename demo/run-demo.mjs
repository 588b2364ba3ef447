#!/usr/bin/env node
// `make demo`: starts the Cloud Run emulator, launches the example
// mini-program (examples/miniprogram) in the sandbox as a developer's phone
// would run it, opens its cloud-test page, runs the seed's checks there and
// prints one ✅/❌ line per check with route and latency.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/cloud-run-emulator.mjs';
import { createSandbox } from '../sandbox/miniprogram-sandbox.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync(join(tmpdir(), 'mp-request-demo-'));
const skip = ['miniprogram_npm', 'node_modules'].map((dir) => join(repo, 'examples/miniprogram/miniprogram', dir));
cpSync(join(repo, 'examples/miniprogram/miniprogram'), root, { recursive: true, filter: (from) => !skip.includes(from) });
// The package's mini-program build where 构建 npm puts it (the example requires 'mp-request').
cpSync(join(repo, 'dist/miniprogram_npm/mp-request'), join(root, 'miniprogram_npm/mp-request'), { recursive: true });

const emulator = await startEmulator();
const sandbox = createSandbox({ root, emulator, profile: 'android', envVersion: 'develop', openid: 'o-demo-user' });
console.log(`mp-request demo: the example mini-program's cloud-test page, in a mini-program sandbox (android, develop)`);
console.log(`emulator ${emulator.url}, env ${emulator.env}, service golang-lfwy\n`);

const app = sandbox.launch();
await app.ready;
const page = sandbox.openPage('pages/test/cloud-test');
const pad = (s, n) => s + ' '.repeat(Math.max(0, n - [...s].reduce((w, c) => w + (c.charCodeAt(0) > 0x2e80 ? 2 : 1), 0)));
const results = await page.runAll();
for (const r of results) {
  console.log(`${r.ok ? '✅' : '❌'} ${pad(r.name, 12)}${pad(r.english, 18)}${pad(r.route || '-', 7)}${String(r.ms).padStart(5)} ms  ${r.note}`);
}
console.log(`\n${page.data.summary}`);
const failed = results.filter((r) => !r.ok).length;
app.globalData.client.destroy();
sandbox.dispose();
await emulator.close();
rmSync(root, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
