// The JavaScriptCore side of the bench, seen from Node: where the `jsc` shell
// is, the scripts it runs (built here with esbuild: the shell has no
// `require`, no Node modules), and one jsc process per cell.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from '../subjects/paths.mjs';

const BENCHES = join(ROOT, 'benches');
export const OUT = join(ROOT, 'test-output', 'bench', 'jsc');
/** JavaScriptCore as iOS runs it in a mini-program: no JIT, JS and wasm interpreted. */
export const JSC_FLAGS = ['--useJIT=false'];
/** The peers whose libraries jsc loads from a file of their own (cold start). */
const LIB_ENTRIES = {
  tanstack: "export { QueryClient } from '@tanstack/query-core';",
  alova: "export { createAlova } from 'alova';",
  'axios-cache': "export { default as axios } from 'axios'; export { setupCache } from 'axios-cache-interceptor';",
};

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The `jsc` shell: $JSC, else `jsc` on PATH (Debian bookworm's libjavascriptcoregtk-4.0-bin puts it
 * in /usr/bin), else one in a WebKitGTK / JavaScriptCore folder under /usr/lib/<triplet>/, /usr/lib or
 * /usr/libexec (where other packagings keep it).
 * @returns {string | undefined}
 */
export function findJsc() {
  if (process.env.JSC) return executable(process.env.JSC) ? process.env.JSC : undefined;
  const candidates = (process.env.PATH || '').split(':').filter(Boolean).map((dir) => join(dir, 'jsc'));
  const list = (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  const engineDir = /^(webkit2?gtk|javascriptcore)/i;
  for (const top of ['/usr/lib', '/usr/libexec']) {
    for (const entry of list(top)) {
      if (engineDir.test(entry)) candidates.push(join(top, entry, 'jsc'));
      for (const inner of list(join(top, entry))) if (engineDir.test(inner)) candidates.push(join(top, entry, inner, 'jsc'));
    }
  }
  return candidates.find(executable);
}

/** The shell's version (the Debian package's, which names the WebKitGTK release). */
export function jscVersion() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libjavascriptcoregtk-4.0-bin'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout) return r.stdout.trim();
  const r1 = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libjavascriptcoregtk-4.1-bin'], { encoding: 'utf8' });
  return r1.status === 0 && r1.stdout ? r1.stdout.trim() : 'unknown';
}

/**
 * Builds what the jsc processes run, into test-output/bench/jsc/:
 * prelude.js (copied), scenario-<subject>.js (the driver, the scenarios, the subject, and for the peers
 * their library), cold.js (the cold-start driver), lib-<peer>.js (each peer alone, for the cold start),
 * mp-request-index.js (the shipped bundle's index.js in a module/exports wrapper).
 * @param {{ bundleDir: string, subjects: string[], out?: string }} options
 */
export async function buildJsc({ bundleDir, subjects, out = OUT }) {
  mkdirSync(out, { recursive: true });
  const common = {
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  const write = (name, text) => {
    const file = join(out, name);
    writeFileSync(file, text);
    return file;
  };
  const files = { prelude: write('prelude.js', readFileSync(join(BENCHES, 'jsc', 'prelude.js'), 'utf8')), scenario: {}, libs: {} };
  for (const subject of subjects) {
    const module = subject === 'mp-request' ? './jsc/mp-request.mjs' : `./subjects/${subject}.mjs`;
    const built = await esbuild.build({
      ...common,
      stdin: {
        contents: `import { main } from './jsc/scenario-main.mjs';\nmain({ subject: ${JSON.stringify(subject)}, load: () => import(${JSON.stringify(module)}) });\n`,
        resolveDir: BENCHES,
        sourcefile: `scenario-${subject}.mjs`,
        loader: 'js',
      },
    });
    files.scenario[subject] = write(`scenario-${subject}.js`, built.outputFiles[0].text);
  }
  const cold = await esbuild.build({ ...common, entryPoints: [join(BENCHES, 'jsc', 'cold-main.mjs')] });
  files.cold = write('cold.js', cold.outputFiles[0].text);
  for (const [peer, contents] of Object.entries(LIB_ENTRIES)) {
    const built = await esbuild.build({
      ...common,
      globalName: '__benchLib',
      stdin: { contents, resolveDir: BENCHES, sourcefile: `lib-${peer}.mjs`, loader: 'js' },
    });
    files.libs[peer] = write(`lib-${peer}.js`, built.outputFiles[0].text);
  }
  files.wrappedIndex = write('mp-request-index.js', wrapCommonJs(readFileSync(join(bundleDir, 'index.js'), 'utf8')));
  files.bundleDir = bundleDir;
  return files;
}

/**
 * The shipped CommonJS bundle as a script the shell can `load()`: its text unchanged, as the body of a
 * `function (module, exports)` (so its "use strict" stays the body's directive), the exports left in
 * `globalThis.__mpRequest`.
 * @param {string} source
 */
export function wrapCommonJs(source) {
  return `(function () {\nvar module = { exports: {} };\n(function (module, exports) {\n${source}\n})(module, module.exports);\nglobalThis.__mpRequest = module.exports;\n})();\n`;
}

/**
 * Runs one jsc process: `jsc <flags> prelude.js <script> -- <json>`; returns its last stdout line as
 * JSON, or `{ error }`.
 * @param {string} jsc
 * @param {{ prelude: string }} files
 * @param {string} script
 * @param {object} json
 * @param {{ flags?: string[], timeoutMs?: number }} [options]
 */
export function runJsc(jsc, files, script, json, { flags = JSC_FLAGS, timeoutMs = 600_000 } = {}) {
  const r = spawnSync(jsc, [...flags, files.prelude, script, '--', JSON.stringify(json)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  const line = (r.stdout || '').trim().split('\n').at(-1);
  try {
    const parsed = JSON.parse(line);
    return parsed;
  } catch {
    const why = r.error ? String(r.error.message) : (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ');
    return { error: why };
  }
}

/** The paths the jsc drivers need (passed in their JSON argument). */
export const pathsOf = (files) => ({ bundleDir: files.bundleDir, wrappedIndex: files.wrappedIndex });
