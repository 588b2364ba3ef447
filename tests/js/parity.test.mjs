// Policy parity: one scripted scenario (tests/js/parity/scenario.js: responses
// and faults from the emulator, a fixed seed) run through the mini-program
// build in its sandbox, the Node build, and the web build in headless
// Chromium gives identical decisions: routes, attempts, retry delays, error
// kinds and messages, cache hits and statistics.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import vm from 'node:vm';
import { startAdmin } from '../../examples/web-admin/serve.mjs';
import { launchChromium } from './browser.mjs';
import { repo, sandboxWithBundle } from './support.mjs';

const scenario = readFileSync(join(repo, 'tests/js/parity/scenario.js'), 'utf8');
/** Plain host-realm data, whatever realm made it. */
const plain = (value) => JSON.parse(JSON.stringify(value));

let admin;
let browser;
before(async () => {
  admin = await startAdmin();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await admin?.close();
});

/** Runs the scenario with a fresh emulator state; returns its decisions and what reached the server. */
async function run(runner) {
  admin.emulator.reset();
  const decisions = plain(await runner());
  return { ...decisions, served: admin.emulator.stats().byPath };
}

const inject = async (fault) => admin.emulator.inject(fault);

async function inMiniProgram() {
  const { sandbox, mp } = sandboxWithBundle(admin.emulator);
  try {
    const fn = vm.runInContext(scenario, sandbox.context);
    return await fn(mp.createClient, inject, admin.emulator.url);
  } finally {
    sandbox.dispose();
  }
}

async function inNode() {
  const { createClient } = createRequire(import.meta.url)(join(repo, 'dist/node/index.js'));
  return vm.runInThisContext(scenario)(createClient, inject, admin.emulator.url);
}

async function inChromium() {
  const page = await browser.context.newPage();
  const origin = new URL(admin.url).origin;
  await page.goto(`${origin}/parity`);
  try {
    return await page.evaluate(
      async ([source, api, moduleUrl]) => {
        const { createClient } = await import(moduleUrl);
        const arm = async (fault) => {
          const res = await fetch(`${api}/__emulator/faults`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(fault),
          });
          if (!res.ok) throw new Error(`fault not armed: ${res.status}`);
        };
        return (0, eval)(source)(createClient, arm, api);
      },
      [scenario, admin.emulator.url, `${origin}/mp-request/mp-request.js`],
    );
  } finally {
    await page.close();
  }
}

test('the mini-program, Node and browser builds make identical decisions', async () => {
  const mini = await run(inMiniProgram);
  const node = await run(inNode);
  const web = await run(inChromium);

  // The scenario means what it says (so that agreeing is worth something).
  const step = (name) => mini.steps.find((s) => s[0] === name);
  assert.deepEqual(step('two 503s then ok'), ['two 503s then ok', 'ok', 200, 'http', 3, false, false]);
  assert.deepEqual(step('500 until it gives up').slice(1, 5), ['error', 'service', 'http', 4]);
  assert.deepEqual(step('orders again').slice(1, 6), ['ok', 200, 'http', 0, true]);
  assert.deepEqual(step('lost POST').slice(1, 5), ['error', 'timeout', 'http', 1]);
  assert.equal(mini.served['/api/order/create'], 1, 'a POST that may have arrived is not retried');
  assert.deepEqual(step('one hang').slice(1, 5), ['ok', 200, 'http', 2]);
  assert.deepEqual(step('401').slice(1, 3), ['error', 'unauthorized']);
  assert.deepEqual(step('mock route').slice(1, 4), ['ok', 200, 'mock']);
  assert.deepEqual(step('bad path').slice(1, 3), ['error', 'invalid']);
  assert.deepEqual(step('bad method').slice(1, 3), ['error', 'invalid']);
  assert.equal(mini.decisions.filter((l) => l.includes('retrying in')).length, 2 + 3 + 1);

  assert.deepEqual(node, mini, 'Node build vs mini-program build');
  assert.deepEqual(web, mini, 'browser build vs mini-program build');
});
