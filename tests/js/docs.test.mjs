// Every ```js block in the guide, the README and docs/ runs here, inside the
// example mini-program in the sandbox, against the emulator. A ```js app.js
// block replaces the example's app.js and must launch; any other block runs as
// a page's code (require resolves from /pages/test/, getApp() is the example's
// app); a block that calls Page() is a page module, opened (onLoad) and, after
// its checks, closed (onUnload). A `console.log(...); // expected` line must
// log exactly `expected`.
// Blocks with effects beyond the console have a check in CHECKS below.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { after, before, beforeEach, test } from 'node:test';
import { createSandbox, exampleRoot, repo, startEmulator } from './support.mjs';

const SOURCES = ['docs/CLOUD_CONTAINER_USAGE.md', 'README.md', 'docs/errors.md', 'docs/sockets.md', 'docs/stats.md', 'docs/fleet.md', 'docs/cache.md', 'docs/live.md'];

/** @returns {{ source: string, line: number, appJs: boolean, code: string }[]} */
function codeBlocks(source) {
  const lines = readFileSync(join(repo, source), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```js( app\.js)?\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `${source}:${i + 1}: unclosed code block`);
    blocks.push({ source, line: i + 1, appJs: Boolean(open[1]), code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const BLOCKS = SOURCES.flatMap(codeBlocks);

let emulator;
before(async () => {
  emulator = await startEmulator();
});
beforeEach(() => emulator.reset());
after(() => emulator.close());

const until = async (check, what, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

async function launch(appJs) {
  const root = exampleRoot(appJs);
  const sandbox = createSandbox({ root, emulator, profile: 'android', envVersion: 'develop' });
  const app = sandbox.launch();
  const client = await app.ready;
  return { sandbox, app, client, root };
}

/** Runs a page block as an async function body in the sandbox realm. */
function runPageCode(sandbox, client, code) {
  // `client` is in scope for blocks that use one without making it (docs/sockets.md).
  const params = ['require'];
  const args = [(request) => sandbox.require(request, '/pages/test')];
  if (/\bclient\b/.test(code) && !/\b(const|let|var)\s+client\b/.test(code)) {
    params.push('client');
    args.push(client);
  }
  const body = `return (async () => {\n${code}\n})();`;
  const fn = vm.compileFunction(body, params, { parsingContext: sandbox.context });
  return fn(...args);
}

/** `console.log(...); // expected` lines, in order. */
function expectedLogs(code) {
  return code
    .split('\n')
    .map((l) => /console\.log\(.*\);\s*\/\/\s*(.+)$/.exec(l))
    .filter(Boolean)
    .map((m) => m[1].trim());
}

/**
 * Checks for blocks whose effect is not only a log line; `variants` runs the
 * block again after a set-up (offline, a fault) and checks that outcome too.
 * Each check must match a block, so none rots when the docs change.
 */
const CHECKS = [
  {
    // The guide's watching page: its list arrives, and after onUnload nothing more is fetched for it.
    match: "this.unwatch = client.watch({ path: '/api/home/init' }",
    after: async ({ page, app }) => {
      await until(() => page.data.banners.length > 0, 'the watched value');
      const served = emulator.count('/api/home/init');
      page.onUnload();
      app.globalData.client.invalidate('/api/home/');
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(emulator.count('/api/home/init'), served, 'unsubscribed: no refetch');
    },
  },
  {
    // The guide's pushed-invalidation page: an order created elsewhere for user 1 shows up, one GET after the push.
    match: "client.socket({ service: 'ws', path: '/?userId=1' })",
    after: async ({ page, app }) => {
      await until(() => page.data.orders.length > 0 && emulator.stats().ws.open === 1, 'the list and the socket');
      await new Promise((r) => setTimeout(r, 200));
      const served = emulator.count('/api/order/list');
      const res = await fetch(`${emulator.url}/api/order/create`, { method: 'POST', body: JSON.stringify({ userId: 1, title: '推送来的订单' }) });
      assert.equal(res.status, 200);
      await until(() => page.data.orders[0].title === '推送来的订单', 'the pushed change');
      assert.equal(emulator.count('/api/order/list'), served + 1);
      assert.equal(app.globalData.client.cacheStats().pushedInvalidations, 1);
      page.onUnload();
      await until(() => emulator.stats().ws.open === 0, 'the socket closed with the page');
    },
  },
  {
    match: "console.log('收到', data)",
    before: async ({ sandbox }) => {
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(sandbox.controls.calls.connectContainer, 0, 'no socket until the page opens');
    },
    after: async ({ sandbox, page, app }) => {
      await until(() => sandbox.logs.some((l) => l.line.startsWith('收到 ')), 'the echo');
      assert.equal(app.globalData.socketConnected, true);
      page.onUnload();
      await until(() => emulator.stats().ws.open === 0, 'the socket closed with the page');
      assert.equal(app.globalData.socket, null);
    },
  },
  {
    match: 'app.globalData.socketTask && app.globalData.socketConnected',
    before: async ({ app, state }) => {
      // As on a page that uses the socket (the example's app.useSocket()).
      await app.useSocket();
      await until(() => app.globalData.socketConnected, 'the socket to open');
      state.echoes = [];
      app.globalData.socket.on('message', ({ data }) => state.echoes.push(data));
    },
    after: async ({ state }) =>
      until(() => state.echoes.some((d) => String(d).includes('Hello WebSocket')), 'the seed-style message echoed'),
  },
  {
    match: "error.kind === 'unauthorized'",
    after: ({ sandbox }) => assert.deepEqual(sandbox.controls.ui, [], 'no toast when the call succeeds'),
    variants: [
      {
        name: 'a 401 asks for a new login',
        before: () => emulator.inject({ kind: 'status', status: 401, path: '/api/test' }),
        after: ({ sandbox }) => assert.ok(sandbox.logs.some((l) => l.line === '需要重新登录')),
      },
      {
        name: 'a 404 shows the error message',
        before: () => emulator.inject({ kind: 'status', status: 404, path: '/api/test' }),
        after: ({ sandbox }) => {
          assert.deepEqual(sandbox.controls.ui, [{ api: 'showToast', title: '请求失败，请稍后重试', icon: 'none' }]);
          assert.ok(sandbox.logs.some((l) => l.level === 'error' && l.line.startsWith('API调用失败: http')));
        },
      },
    ],
  },
  {
    match: "wx.showLoading({ title: '加载中...' })",
    after: ({ sandbox }) =>
      assert.deepEqual(
        sandbox.controls.ui.map((u) => u.api),
        ['showLoading', 'hideLoading'],
      ),
    variants: [
      {
        name: 'hideLoading still runs when the call fails',
        before: () => emulator.inject({ kind: 'status', status: 404, path: '/api/home/init' }),
        fails: 'http',
        after: ({ sandbox }) =>
          assert.deepEqual(
            sandbox.controls.ui.map((u) => u.api),
            ['showLoading', 'showToast', 'hideLoading'],
          ),
      },
    ],
  },
  {
    match: 'const network = await checkNetworkStatus()',
    after: ({ sandbox }) => assert.deepEqual(sandbox.controls.ui, []),
    variants: [
      {
        name: 'offline: a toast, and the page stops there',
        before: ({ sandbox }) => sandbox.controls.setNetworkType('none'),
        after: ({ sandbox }) => assert.deepEqual(sandbox.controls.ui, [{ api: 'showToast', title: '网络不可用', icon: 'none' }]),
      },
    ],
  },
  {
    match: 'socket.close(); // never reconnects',
    // A page of the example holds the same socket.
    before: ({ app }) => app.useSocket(),
    after: async ({ app }) => {
      // The snippet's handle is closed; the app's handle keeps the shared connection serving.
      await until(() => app.globalData.socketConnected, 'the shared socket to stay usable');
      assert.equal(emulator.stats().ws.maxOpen, 1, 'one connection per (service, path)');
    },
  },
];

/** Runs one page block (with a check's set-up and assertions) in a fresh example. */
async function runBlock(block, check, variant) {
  const { sandbox, app, client, root } = await launch();
  const state = {};
  const ctx = { sandbox, app, state, page: undefined };
  try {
    await (variant || check)?.before?.(ctx);
    let outcome;
    try {
      if (/\bPage\(/.test(block.code)) {
        // A page module: opened as the framework opens a page.
        writeFileSync(join(root, 'pages/test/docs-block.js'), block.code);
        ctx.page = sandbox.openPage('pages/test/docs-block');
      } else {
        await runPageCode(sandbox, client, block.code);
      }
    } catch (error) {
      outcome = error;
    }
    if (variant?.fails) {
      assert.equal(outcome?.kind, variant.fails, `${block.source}:${block.line} should fail with ${variant.fails}`);
    } else if (outcome) {
      throw outcome;
    }
    if (!variant) {
      const logged = sandbox.logs.filter((l) => l.level === 'log').map((l) => l.line);
      let from = 0;
      for (const expected of expectedLogs(block.code)) {
        const at = logged.indexOf(expected, from);
        assert.ok(at >= 0, `${block.source}:${block.line}: expected a log line "${expected}", got ${JSON.stringify(logged)}`);
        from = at + 1;
      }
    }
    await (variant || check)?.after?.(ctx);
  } finally {
    client.destroy();
    sandbox.dispose();
  }
}

test('the docs have code blocks, and every check in this file matches one', () => {
  assert.ok(BLOCKS.length >= 14, `found ${BLOCKS.length} blocks`);
  assert.equal(BLOCKS.filter((b) => b.appJs).length, 3, "two app.js in the guide (one with the client's header and logout), one in the README");
  for (const check of CHECKS) {
    const matches = BLOCKS.filter((b) => b.code.includes(check.match));
    assert.equal(matches.length, 1, `check "${check.match}" matches ${matches.length} blocks`);
  }
});

for (const block of BLOCKS) {
  const name = `${block.source}:${block.line}`;
  if (block.appJs) {
    test(`${name}: the app.js launches and its client reaches the emulator`, async () => {
      const { sandbox, app, client } = await launch(block.code);
      try {
        const res = await client.request({ path: '/api/test' });
        assert.equal(res.route, 'cloud');
        assert.equal(res.data.data.identity['x-wx-env'], emulator.env);
        if (typeof app.call === 'function') assert.equal((await app.call({ path: '/api/test' })).code, 0);
        assert.equal(emulator.stats().byService['golang-lfwy'], typeof app.call === 'function' ? 2 : 1, JSON.stringify(emulator.requests().map((r) => r.path)));
        if (typeof app.logout === 'function') {
          // The client's header function reads the token at every attempt; logout drops it.
          sandbox.controls.storage.set('token', JSON.stringify('t-1'));
          await client.request({ path: '/api/test' });
          assert.equal(emulator.requests().at(-1).headers.authorization, 'Bearer t-1');
          await app.logout();
          assert.equal(sandbox.controls.storage.has('token'), false);
          assert.deepEqual(client.pending().length, 0);
        }
      } finally {
        client.destroy();
        sandbox.dispose();
      }
    });
    continue;
  }
  const check = CHECKS.find((c) => block.code.includes(c.match));
  test(`${name}: runs in a page`, () => runBlock(block, check));
  for (const variant of check?.variants || []) {
    test(`${name}: ${variant.name}`, () => runBlock(block, check, variant));
  }
}

test("the guide's debug log sample is what debug: true prints", async () => {
  const guide = readFileSync(join(repo, 'docs/CLOUD_CONTAINER_USAGE.md'), 'utf8');
  const sample = /```\n(\[mp-request\][^`]*)```/.exec(guide);
  assert.ok(sample, 'the guide shows a debug log');
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const patterns = sample[1]
    .trim()
    .split('\n')
    .map((line) => new RegExp(`^${escape(line).replace(/\d+/g, '\\d+')}$`));

  const { sandbox } = await launch();
  const mp = sandbox.require('mp-request');
  const client = await mp.createClient({ env: emulator.env, service: 'golang-lfwy', debug: true });
  try {
    emulator.inject({ kind: 'status', status: 503, path: '/api/test' });
    await client.request({ path: '/api/home/init' });
    await client.request({ path: '/api/test' });
    const printed = sandbox.logs.map((l) => l.line);
    for (const pattern of patterns) {
      assert.ok(printed.some((l) => pattern.test(l)), `nothing printed matches ${pattern}: ${JSON.stringify(printed)}`);
    }
  } finally {
    client.destroy();
    sandbox.dispose();
  }
});
