#!/usr/bin/env node
// Builds dist/ from pkg/ and pkg-sockets/ (run the two `wasm-pack build`s of `make build` first):
//   dist/miniprogram/mp-request/  index.js (CommonJS) + mp_request.wasm(.br) + the sockets' JS and wasm
//                                 (mp_request_sockets.js, mp_request_sockets.wasm(.br)) + index.d.ts
//   dist/miniprogram_npm/mp-request/  the same for the npm package (its `miniprogram` folder, which 构建 npm
//                                 copies to miniprogram_npm/mp-request/): its default wasmPath is there; no .wasm
//   dist/node/                    index.js (CommonJS) + mp_request_sockets.js + the two .wasm + index.d.ts,
//                                 and mp_request_fleet.js (+ its .wasm, .d.ts): fleet reports' backend side
//   dist/web/                     mp-request.js (ES module) + the two .wasm + index.d.ts
// Two wasm modules: the request engine (mp_request.wasm), which createClient loads, and the socket
// engine (mp_request_sockets.wasm), loaded on the first client.socket() with the sockets' JS. Each is lowered to MVP
// features (plus mutable globals) and optimised for size.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { lowerToMvp } from './lower-wasm.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const pkgWasm = join(root, 'pkg', 'mp_request_bg.wasm');
const pkgGlue = join(root, 'pkg', 'mp_request_bg.js');
const socketsWasm = join(root, 'pkg-sockets', 'mp_request_sockets_bg.wasm');
const socketsGlue = join(root, 'pkg-sockets', 'mp_request_sockets_bg.js');
const dist = join(root, 'dist');

for (const file of [pkgWasm, pkgGlue, socketsWasm, socketsGlue, join(root, 'pkg-fleet', 'mp_request_fleet.js')]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run the two \`wasm-pack build\`s of \`make build\` first`);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'wasm'), { recursive: true });

// 1. wasm: lower what the prebuilt std still uses (with word-sized memory
//    copies, scripts/lower-wasm.mjs), then optimise with only MVP + mutable
//    globals enabled, which also validates the result.
/** @param {string} from @param {string} name */
function optimise(from, name) {
  const lowered = join(dist, 'wasm', `${name}.lowered.wasm`);
  const out = join(dist, 'wasm', `${name}.wasm`);
  writeFileSync(lowered, lowerToMvp(readFileSync(from)));
  execFileSync(bin('wasm-opt'), [lowered, '--mvp-features', '--enable-mutable-globals', '-Oz', '-o', out], { stdio: 'inherit' });
  rmSync(lowered);
  return out;
}
const wasm = optimise(pkgWasm, 'mp_request');
const socketsOut = optimise(socketsWasm, 'mp_request_sockets');

// 2. JS bundles.
/** The fast-text-encoding polyfill, bound to a local object instead of a global. */
const scopedPolyfill = {
  name: 'fast-text-encoding-scoped',
  setup(build) {
    build.onResolve({ filter: /^virtual:fast-text-encoding$/ }, () => ({ path: 'fast-text-encoding', namespace: 'vendor' }));
    build.onLoad({ filter: /.*/, namespace: 'vendor' }, () => {
      const source = readFileSync(join(root, 'node_modules', 'fast-text-encoding', 'text.min.js'), 'utf8');
      const scoped = source.replace(/\}\(typeof window[^\n]*\)\);\s*$/, '}(scope));');
      if (scoped === source) throw new Error('fast-text-encoding changed shape: update scripts/build-bundle.mjs');
      return {
        contents: `/*! fast-text-encoding 1.0.6, Apache-2.0, github.com/samthor/fast-text-encoding */\nconst scope = {};\n${scoped}\nexport const TextEncoder = scope.TextEncoder;\nexport const TextDecoder = scope.TextDecoder;\n`,
        loader: 'js',
      };
    });
  },
};
const common = {
  bundle: true,
  alias: { 'mp-request-glue': pkgGlue, 'mp-request-sockets-glue': socketsGlue },
  legalComments: 'inline',
  logLevel: 'warning',
  minifyWhitespace: true,
  minifySyntax: true,
};
const miniprogramDir = join(dist, 'miniprogram', 'mp-request');
const miniprogramNpmDir = join(dist, 'miniprogram_npm', 'mp-request');
// The sockets' JS (js-shim/src/sockets-chunk.js) is a file of its own next to index.js in the
// mini-program and Node builds, required on the first client.socket(): index.js leaves it out.
const chunkFile = './mp_request_sockets.js';
const miniprogramOptions = {
  ...common,
  // Every kilobyte of a mini-program package counts: identifiers are
  // minified too (RequestError sets its `name` itself). The Node and web
  // builds keep theirs, for readable stacks.
  minifyIdentifiers: true,
  format: 'cjs',
  platform: 'neutral',
  target: 'es2017',
  external: [chunkFile],
  // The chunk has its own copy of the codec (it is loaded apart from index.js).
  inject: [join(root, 'js-shim/src/text-codec.js')],
  plugins: [scopedPolyfill],
};
for (const [entry, dir] of [['miniprogram.js', miniprogramDir], ['miniprogram-npm.js', miniprogramNpmDir]]) {
  await esbuild.build({ ...miniprogramOptions, entryPoints: [join(root, 'js-shim/src/entries', entry)], outfile: join(dir, 'index.js') });
  await esbuild.build({ ...miniprogramOptions, entryPoints: [join(root, 'js-shim/src/sockets-chunk.js')], outfile: join(dir, 'mp_request_sockets.js') });
}
const nodeOptions = { ...common, format: 'cjs', platform: 'node', target: 'node20', external: [chunkFile] };
await esbuild.build({ ...nodeOptions, entryPoints: [join(root, 'js-shim/src/entries/node.js')], outfile: join(dist, 'node', 'index.js') });
await esbuild.build({ ...nodeOptions, entryPoints: [join(root, 'js-shim/src/sockets-chunk.js')], outfile: join(dist, 'node', 'mp_request_sockets.js') });
await esbuild.build({
  ...common,
  entryPoints: [join(root, 'js-shim/src/entries/web.js')],
  outfile: join(dist, 'web', 'mp-request.js'),
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
});

// 3. wasm and types next to each bundle; brotli for the mini-program (.wasm.br, base library >= 2.14.0).
/** @param {Buffer} bytes */
const brotliOf = (bytes) =>
  brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const sizes = [];
for (const [built, name] of [[wasm, 'mp_request'], [socketsOut, 'mp_request_sockets']]) {
  const bytes = readFileSync(built);
  const brotli = brotliOf(bytes);
  for (const dir of [miniprogramDir, join(dist, 'node'), join(dist, 'web')]) copyFileSync(built, join(dir, `${name}.wasm`));
  writeFileSync(join(miniprogramDir, `${name}.wasm.br`), brotli);
  writeFileSync(join(miniprogramNpmDir, `${name}.wasm.br`), brotli);
  sizes.push(`${name}.wasm ${kb(bytes.length)} (gzip ${kb(gzipSync(bytes, { level: 9 }).length)}, .br ${kb(brotli.length)})`);
}
for (const dir of [miniprogramDir, miniprogramNpmDir, join(dist, 'node'), join(dist, 'web')]) {
  copyFileSync(join(root, 'js-shim/types/index.d.ts'), join(dir, 'index.d.ts'));
}
// 3. The backend side of fleet reports, for Node only (`require('mp-request/fleet')`): wasm-pack's
//    CommonJS glue as it is, which reads its .wasm from its own folder; its .d.ts is js-shim/types/fleet.d.ts.
for (const file of ['mp_request_fleet.js', 'mp_request_fleet_bg.wasm']) {
  copyFileSync(join(root, 'pkg-fleet', file), join(dist, 'node', file));
}
// Its types by hand, as the engine's: wasm-bindgen's declare `Symbol.dispose`, which a consumer's
// TypeScript below lib esnext does not know.
copyFileSync(join(root, 'js-shim/types/fleet.d.ts'), join(dist, 'node', 'mp_request_fleet.d.ts'));
const js = statSync(join(miniprogramDir, 'index.js')).size;
const chunkJs = statSync(join(miniprogramDir, 'mp_request_sockets.js')).size;
console.log(`mini-program bundle: index.js ${kb(js)}, mp_request_sockets.js ${kb(chunkJs)}, ${sizes.join(', ')}`);
