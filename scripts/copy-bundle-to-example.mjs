#!/usr/bin/env node
// Puts the built mini-program bundle into the example where the devtools' 构建 npm would put the
// package (miniprogram/miniprogram_npm/mp-request/: index.js, the .wasm.br it loads by default, the
// types), so the example opens in the devtools without npm. Installing the package and running 构建 npm
// writes the same files there.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'dist/miniprogram_npm/mp-request');
const to = join(root, 'examples/miniprogram/miniprogram/miniprogram_npm/mp-request');
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
console.log(`copied the bundle to ${to}`);
