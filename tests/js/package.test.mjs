// The npm package (`make package`) as its users get it. The tarball is packed afresh from dist/ and
// installed offline (it has no dependencies):
// - into a copy of the example mini-program, then built as WeChat's tools build it, with miniprogram-ci
//   (the devtools' compiler as an npm package): 构建 npm (packNpm), and the local compile an upload would send
//   (getCompiledResult, nothing uploaded); the compiled code package runs in the sandbox against the
//   emulator and the example's seven checks pass (tests/js/package/wechat-build.cjs says what runs offline);
// - into a Node project: require, import, a browser bundler and TypeScript find the right build and types.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { cargoPackage, makePackage } from '../../scripts/package.mjs';
import { bundleDir, createSandbox, repo, startEmulator } from './support.mjs';

const run = promisify(execFile);
/** npm as a user runs it, without the network: the tarball has no dependencies. */
const npmInstall = (cwd, tarball) =>
  run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd });

const work = mkdtempSync(join(tmpdir(), 'mp-request-package-'));
/** @type {ReturnType<typeof makePackage>} */
let pkg;
let emulator;
before(async () => {
  pkg = makePackage({ stageDir: join(work, 'stage'), outDir: work });
  emulator = await startEmulator();
});
after(async () => {
  await emulator.close();
  rmSync(work, { recursive: true, force: true });
});

test('the tarball: the mini-program, Node and web builds and the types, under a generated package.json', () => {
  const { manifest, files } = pkg;
  const cargo = cargoPackage();
  assert.equal(manifest.name, 'mp-request');
  assert.equal(manifest.version, cargo.version, 'the version is the crate\'s');
  assert.equal(manifest.license, cargo.license);
  for (const key of ['private', 'dependencies', 'scripts', 'devDependencies']) assert.ok(!(key in manifest), `no ${key}`);
  assert.equal(manifest.miniprogram, 'miniprogram', '构建 npm copies miniprogram/ to miniprogram_npm/mp-request/');
  assert.deepEqual(
    files.map((f) => f.path).filter((p) => !p.startsWith('docs/')).sort(),
    [
      'LICENSE', 'README.md', 'index.d.ts',
      'miniprogram/index.d.ts', 'miniprogram/index.js', 'miniprogram/mp_request.wasm.br', 'miniprogram/mp_request_sockets.js', 'miniprogram/mp_request_sockets.wasm.br',
      'node/index.d.ts', 'node/index.js', 'node/mp_request.wasm', 'node/mp_request_fleet.d.ts', 'node/mp_request_fleet.js', 'node/mp_request_fleet_bg.wasm',
      'node/mp_request_sockets.js', 'node/mp_request_sockets.wasm',
      'package.json',
      'web/index.d.ts', 'web/mp-request.js', 'web/mp_request.wasm', 'web/mp_request_sockets.wasm',
    ],
  );
  assert.ok(files.some((f) => f.path === 'docs/CLOUD_CONTAINER_USAGE.md'), 'the docs the README links to');
  // The mini-program build is the budgeted bundle (scripts/sizes.mjs) with another default path.
  const size = (path) => files.find((f) => f.path === path).size;
  assert.ok(Math.abs(size('miniprogram/index.js') - readFileSync(join(bundleDir, 'index.js')).length) < 128);
  assert.deepEqual(readFileSync(join(work, 'stage/miniprogram/mp_request.wasm.br')), readFileSync(join(bundleDir, 'mp_request.wasm.br')));

  // Where 构建 npm puts it, require('mp-request') loads it and its default wasmPath is its own .wasm.br.
  const root = join(work, 'resolve');
  cpSync(join(work, 'stage/miniprogram'), join(root, 'miniprogram_npm/mp-request'), { recursive: true });
  const sandbox = createSandbox({ root, emulator });
  assert.equal(sandbox.require('mp-request').DEFAULT_WASM_PATH, '/miniprogram_npm/mp-request/mp_request.wasm.br');
  assert.ok(existsSync(join(root, sandbox.require('mp-request').DEFAULT_WASM_PATH)));
  // The sockets' JS and engine, loaded on the first client.socket(), next to it.
  assert.ok(existsSync(join(root, 'miniprogram_npm/mp-request/mp_request_sockets.wasm.br')));
  assert.ok(existsSync(join(root, 'miniprogram_npm/mp-request/mp_request_sockets.js')));
  sandbox.dispose();
});

test("a mini-program: npm install, 构建 npm and WeChat's compile (miniprogram-ci), then the example's seven checks in the sandbox", { timeout: 120_000 }, async () => {
  // The example project as a team has it: its own files, none of what `make demo` put in.
  const project = join(work, 'project');
  const skip = new Set(['miniprogram/miniprogram_npm', 'miniprogram/node_modules', 'miniprogram/package.json', 'miniprogram/package-lock.json', 'miniprogram/utils/mp-request']);
  cpSync(join(repo, 'examples/miniprogram'), project, {
    recursive: true,
    filter: (from) => !skip.has(relative(join(repo, 'examples/miniprogram'), from).split(sep).join('/')),
  });
  // A leftover uncompressed wasm (from copying dist/ by hand) stays out of the code package: packOptions.ignore.
  mkdirSync(join(project, 'miniprogram/utils/mp-request'), { recursive: true });
  cpSync(join(bundleDir, 'mp_request.wasm'), join(project, 'miniprogram/utils/mp-request/mp_request.wasm'));
  await npmInstall(join(project, 'miniprogram'), pkg.tarball);
  assert.ok(JSON.parse(readFileSync(join(project, 'miniprogram/package.json'), 'utf8')).dependencies['mp-request']);

  const out = join(work, 'compiled');
  mkdirSync(out);
  // Run from the test's own folder: miniprogram-ci leaves an empty cache folder in its working directory.
  const { stdout } = await run(process.execPath, [join(repo, 'tests/js/package/wechat-build.cjs'), project, out], {
    cwd: work,
    timeout: 100_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const build = JSON.parse(stdout.trim().split('\n').at(-1));
  assert.deepEqual(build.warnings, [], '构建 npm has nothing to say');
  const compiled = Object.keys(build.files);
  assert.ok(compiled.includes('miniprogram_npm/mp-request/index.js'), JSON.stringify(compiled));
  assert.ok(compiled.includes('miniprogram_npm/mp-request/mp_request.wasm.br'));
  assert.deepEqual(compiled.filter((f) => f.endsWith('.wasm') || f.endsWith('.d.ts')), [], 'no uncompressed wasm, no types in the code package');
  // WeChat's ES5 transform ran over the package (es6 + enhance in project.config.json).
  assert.match(readFileSync(join(out, 'miniprogram_npm/mp-request/index.js'), 'utf8'), /require\("\.\.\/\.\.\/@babel\/runtime\/helpers\/regeneratorRuntime"\)/);
  assert.equal(JSON.parse(readFileSync(join(out, 'app.json'), 'utf8')).lazyCodeLoading, 'requiredComponents');
  // Nothing left the machine: miniprogram-ci's one request went to the refusing loopback proxy.
  assert.ok(build.network.every((line) => line === 'CONNECT servicewechat.com:443 HTTP/1.1'), JSON.stringify(build.network));

  for (const profile of /** @type {const} */ (['android', 'ios', 'devtools'])) {
    emulator.reset();
    const sandbox = createSandbox({ root: out, emulator, profile, envVersion: 'develop' });
    try {
      const app = sandbox.launch();
      await app.ready;
      const page = sandbox.openPage('pages/test/cloud-test');
      const results = Array.from(await page.runAll());
      assert.deepEqual(results.map((r) => r.name), ['基本连接', '首页API', '订单API', '服务API', 'WebSocket', '错误处理', '云托管状态']);
      assert.ok(results.every((r) => r.ok), `${profile}: ${JSON.stringify(results.filter((r) => !r.ok))}`);
      const route = profile === 'devtools' ? 'mock' : 'cloud';
      assert.deepEqual(results.map((r) => r.route), Array(7).fill(route), `${profile}: every row shows the route used`);
      if (profile === 'devtools') assert.equal(emulator.count(), 0, 'mock data only');
      else assert.ok(emulator.count() >= 6, 'the checks reached the emulator');
      app.globalData.client.destroy();
    } finally {
      sandbox.dispose();
    }
  }
});

test('a Node project: require, import, a browser bundler and TypeScript each find their build', { timeout: 60_000 }, async () => {
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "private": true }\n');
  await npmInstall(consumer, pkg.tarball);

  const request = `.then((c) => c.request({ path: '/api/order/list', data: { userId: 1, page: 1, pageSize: 3 } }).then((r) => { console.log(r.route, r.data.data.list.length); c.destroy(); }))`;
  const cjs = await run(process.execPath, ['-e', `require('mp-request').createClient({ baseUrl: '${emulator.url}' })${request}`], { cwd: consumer });
  assert.equal(cjs.stdout.trim(), 'http 3');
  const esm = await run(process.execPath, ['--input-type=module', '-e', `import { createClient } from 'mp-request'; createClient({ baseUrl: '${emulator.url}' })${request}`], { cwd: consumer });
  assert.equal(esm.stdout.trim(), 'http 3');
  // Fleet reports' backend side, for a team's own endpoint.
  const fleet = await run(process.execPath, ['-e', "const { Fleet, checkReport } = require('mp-request/fleet'); console.log(typeof Fleet, checkReport('{}'))"], { cwd: consumer });
  assert.equal(fleet.stdout.trim(), 'function `v` must be 1');

  // The exports map: a browser bundle gets the web build, a Node bundle the Node build.
  writeFileSync(join(consumer, 'entry.js'), "import { createClient } from 'mp-request';\nexport default createClient;\n");
  for (const [platform, file] of [['browser', 'web/mp-request.js'], ['node', 'node/index.js']]) {
    const { metafile } = await esbuild.build({ absWorkingDir: consumer, entryPoints: ['entry.js'], bundle: true, write: false, metafile: true, platform, format: 'esm', logLevel: 'silent' });
    assert.ok(Object.keys(metafile.inputs).includes(`node_modules/mp-request/${file}`), `${platform}: ${Object.keys(metafile.inputs)}`);
  }

  // The types, strictly checked, in a project without miniprogram-api-typings.
  writeFileSync(
    join(consumer, 'check.mts'),
    "import { createClient, RequestError, type Response } from 'mp-request';\n" +
      "const client = await createClient({ baseUrl: 'http://127.0.0.1:1', retry: { limit: 1 } });\n" +
      "const res: Response<{ code: number }> = await client.request<{ code: number }>({ path: '/api/test' });\n" +
      "const code: number = res.data.code;\nconsole.log(code, RequestError.is(null), client.socket().task);\n" +
      "import { Fleet } from 'mp-request/fleet';\nconst view: string = new Fleet(60000, 60).summary();\nconsole.log(view);\n",
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', skipLibCheck: false, types: [] }, files: ['check.mts'] }),
  );
  await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', consumer]).catch((error) => {
    assert.fail(`tsc: ${error.stdout}${error.stderr}`);
  });
});
