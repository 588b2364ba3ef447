#!/usr/bin/env node
// Copies the built mini-program bundle into the example: the files a
// mini-program keeps (index.js, the .wasm.br it loads by default, the types).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'dist/miniprogram/mp-request');
const to = join(root, 'examples/miniprogram/miniprogram/utils/mp-request');
mkdirSync(to, { recursive: true });
for (const file of ['index.js', 'mp_request.wasm.br', 'index.d.ts']) copyFileSync(join(from, file), join(to, file));
console.log(`copied the bundle to ${to}`);
