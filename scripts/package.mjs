#!/usr/bin/env node
// `make package`: the npm package a mini-program team installs (run `make build` first).
// Stages dist/package/ from the built dist/ and packs it with `npm pack` into dist/mp-request-<version>.tgz:
//   miniprogram/  the mini-program build (index.js, mp_request.wasm.br, the sockets' mp_request_sockets.js and .wasm.br, index.d.ts): the `miniprogram`
//                 field, so the devtools' 构建 npm copies it to miniprogram_npm/mp-request/, where its
//                 default wasmPath looks (/miniprogram_npm/mp-request/mp_request.wasm.br)
//   node/         the Node build (CommonJS, mp_request_sockets.js and the two .wasm next to it)
//   web/          the browser build (an ES module that loads the two .wasm next to it)
//   index.d.ts    the types
//   README.md, docs/  the README and the docs it links to
//   LICENSE       the MIT licence text
// The repository's own package.json is private (dev dependencies only); the package's is generated here:
// name and version from Cargo.toml, main/exports/types/miniprogram, no dependencies.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The [package] table's string fields of Cargo.toml (name, version, description, license). */
export function cargoPackage() {
  const toml = readFileSync(join(root, 'Cargo.toml'), 'utf8');
  const table = /^\[package\]\n([\s\S]*?)(?:^\[|(?![\s\S]))/m.exec(toml);
  if (!table) throw new Error('Cargo.toml has no [package] table');
  /** @type {Record<string, string>} */
  const fields = {};
  for (const [, key, value] of table[1].matchAll(/^([a-z-]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/gm)) fields[key] = value;
  for (const key of ['name', 'version', 'license']) if (!fields[key]) throw new Error(`Cargo.toml: no ${key}`);
  return fields;
}

/** What goes into the package: [file in dist/, path in the package]. */
const FILES = [
  ['miniprogram_npm/mp-request/index.js', 'miniprogram/index.js'],
  ['miniprogram_npm/mp-request/mp_request_sockets.js', 'miniprogram/mp_request_sockets.js'],
  ['miniprogram_npm/mp-request/mp_request.wasm.br', 'miniprogram/mp_request.wasm.br'],
  ['miniprogram_npm/mp-request/mp_request_sockets.wasm.br', 'miniprogram/mp_request_sockets.wasm.br'],
  ['miniprogram_npm/mp-request/index.d.ts', 'miniprogram/index.d.ts'],
  ['node/index.js', 'node/index.js'],
  ['node/mp_request_sockets.js', 'node/mp_request_sockets.js'],
  ['node/mp_request.wasm', 'node/mp_request.wasm'],
  ['node/mp_request_sockets.wasm', 'node/mp_request_sockets.wasm'],
  ['node/index.d.ts', 'node/index.d.ts'],
  ['node/mp_request_fleet.js', 'node/mp_request_fleet.js'],
  ['node/mp_request_fleet_bg.wasm', 'node/mp_request_fleet_bg.wasm'],
  ['node/mp_request_fleet.d.ts', 'node/mp_request_fleet.d.ts'],
  ['web/mp-request.js', 'web/mp-request.js'],
  ['web/mp_request.wasm', 'web/mp_request.wasm'],
  ['web/mp_request_sockets.wasm', 'web/mp_request_sockets.wasm'],
  ['web/index.d.ts', 'web/index.d.ts'],
  ['node/index.d.ts', 'index.d.ts'],
];

/** The package's package.json. */
export function manifest() {
  const cargo = cargoPackage();
  return {
    name: cargo.name,
    version: cargo.version,
    description: cargo.description,
    license: cargo.license,
    keywords: ['wechat', 'miniprogram', '小程序', 'cloud run', '云托管', 'callContainer', 'request', 'cache', 'webassembly'],
    // Node's require without `exports` support, and the types.
    main: './node/index.js',
    types: './index.d.ts',
    // 构建 npm copies this folder to miniprogram_npm/mp-request/; require('mp-request') loads its index.js.
    miniprogram: 'miniprogram',
    // Bundlers that read the browser field instead of `exports`.
    browser: './web/mp-request.js',
    exports: {
      '.': {
        types: './index.d.ts',
        node: './node/index.js',
        browser: './web/mp-request.js',
        default: './web/mp-request.js',
      },
      './node': { types: './node/index.d.ts', default: './node/index.js' },
      // Fleet reports' backend side (checks, merges and summarises reports), for a team's own endpoint.
      './fleet': { types: './node/mp_request_fleet.d.ts', default: './node/mp_request_fleet.js' },
      './web': { types: './web/index.d.ts', default: './web/mp-request.js' },
      './miniprogram': { types: './miniprogram/index.d.ts', default: './miniprogram/index.js' },
      './web/mp_request.wasm': './web/mp_request.wasm',
      './web/mp_request_sockets.wasm': './web/mp_request_sockets.wasm',
      './package.json': './package.json',
    },
    files: ['index.d.ts', 'miniprogram/', 'node/', 'web/', 'docs/'],
    sideEffects: false,
    engines: { node: '>=20' },
  };
}

/**
 * Stages the package in `stageDir` and packs it into `outDir`.
 * @param {{ stageDir?: string, outDir?: string, dist?: string }} [options]
 * @returns {{ tarball: string, manifest: ReturnType<typeof manifest>, files: { path: string, size: number }[], size: number, unpackedSize: number }}
 */
export function makePackage({ dist = join(root, 'dist'), stageDir = join(dist, 'package'), outDir = dist } = {}) {
  for (const [from] of FILES) {
    if (!existsSync(join(dist, from))) throw new Error(`${join(dist, from)} is missing: run \`make build\` first`);
  }
  rmSync(stageDir, { recursive: true, force: true });
  for (const [from, to] of FILES) {
    mkdirSync(dirname(join(stageDir, to)), { recursive: true });
    copyFileSync(join(dist, from), join(stageDir, to));
  }
  const pkg = manifest();
  writeFileSync(join(stageDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  // The README and the docs it links to (docs/errors.md, the Chinese guide, ...), and the licence
  // text the MIT licence asks every copy to carry.
  copyFileSync(join(root, 'README.md'), join(stageDir, 'README.md'));
  copyFileSync(join(root, 'LICENSE'), join(stageDir, 'LICENSE'));
  mkdirSync(join(stageDir, 'docs'));
  for (const doc of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
    copyFileSync(join(root, 'docs', doc), join(stageDir, 'docs', doc));
  }
  mkdirSync(outDir, { recursive: true });
  // --ignore-scripts: nothing of the repository's runs; the staged package.json has no scripts anyway.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', outDir], {
    cwd: stageDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [packed] = JSON.parse(out);
  return {
    tarball: join(outDir, packed.filename),
    manifest: pkg,
    files: packed.files.map((/** @type {{ path: string, size: number }} */ f) => ({ path: f.path, size: f.size })),
    size: packed.size,
    unpackedSize: packed.unpackedSize,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { tarball, files, size, unpackedSize } = makePackage();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`${tarball}: ${files.length} files, ${kb(size)} packed, ${kb(unpackedSize)} unpacked`);
  console.log(`install it in a mini-program (the folder with its package.json): npm install ${tarball}, then 工具 → 构建 npm`);
}
