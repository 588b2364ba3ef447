// Where mp-request spends its time in JavaScriptCore without a JIT (as iOS
// runs a mini-program): JSC's sampling profiler (the one `jsc --sample` drives)
// over the timed runs of one bench scenario, then the top functions.
//
//   node benches/profile-jsc.mjs [scenario ...] [--top=N] [--callers=F] [--interval=µs] [--shipped] [--raw]
//
//   scenario     any of benches/scenarios.mjs (default: hit-header miss)
//   --top=N      rows per table (default 10)
//   --callers=F  also a table of who called the functions whose name contains F (their self samples)
//   --interval   sampling interval in µs (default 100)
//   --shipped    profile dist/miniprogram/mp-request as built (minified JS names, wasm functions
//                by index) instead of the named build below
//   --raw        run the whole process under `jsc --sample` and print JSC's own report
//                (set-up and warm-up included)
//
// By default it profiles a *named build*: the same sources through the same pipeline as
// `make build` (wasm-pack's cargo build, wasm-bindgen, scripts/lower-wasm.mjs, wasm-opt -Oz with
// MVP features, esbuild's mini-program bundle) with the names kept: the Rust symbols in the wasm's
// name section (a cargo build without `strip`, in target/profile-names/) and the JS identifiers
// not minified. Its wasm code section is the shipped one's size (printed); only names and the
// order of functions may differ. Set `make build` first (dist/ and pkg/ are read).
//
// Tables: "self" counts the sampled frame on top of the stack (where time is spent); "total"
// counts every function on the stack once per sample (what it costs with what it calls), the
// bench's own frames left out. `[wasm]` is a wasm function (interpreted: IPInt), `[js]` the
// library's JS (interpreted: LLInt), `[host]` a native function (JSON.parse as `parse`, the
// wasm<->JS `wasm-stub`, GC...), `[bench]` the bench's own script (its timing loop, the fake `wx`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { buildJsc, findJsc, JSC_FLAGS, pathsOf, runJsc } from './jsc/engine.mjs';
import { SCENARIOS } from './scenarios.mjs';
import { ROOT } from './subjects/paths.mjs';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : fallback;
};
const top = Number(opt('top', '10'));
const callersOf = opt('callers', '');
const interval = Number(opt('interval', '100'));
const shipped = argv.includes('--shipped');
const raw = argv.includes('--raw');
const scenarios = argv.filter((a) => !a.startsWith('--'));
if (scenarios.length === 0) scenarios.push('hit-header', 'miss');
for (const s of scenarios) {
  if (!SCENARIOS.includes(s) || s === 'cache' || s === 'retry') throw new Error(`profile one of: ${SCENARIOS.filter((x) => x !== 'cache' && x !== 'retry').join(', ')}`);
}

const jsc = findJsc();
if (!jsc) throw new Error('no jsc shell: run scripts/setup-bench.sh (it installs libjavascriptcoregtk-4.0-bin)');
const DIST = join(ROOT, 'dist', 'miniprogram', 'mp-request');
if (!existsSync(join(DIST, 'index.js'))) throw new Error('dist/miniprogram is missing: run `make build` first');
const OUT = join(ROOT, 'test-output', 'bench', 'jsc-profile');
const bundleDir = shipped ? DIST : await namedBuild(join(OUT, 'named'));
const files = await buildJsc({ bundleDir, subjects: ['mp-request'], out: OUT });
const paths = pathsOf(files);

for (const scenario of scenarios) {
  if (raw) {
    const r = execFileSync(jsc, [...JSC_FLAGS, '--sample', `--sampleInterval=${interval}`, files.prelude, files.scenario['mp-request'], '--', JSON.stringify({ mode: 'scenario', scenario, paths, noQuit: true })], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    process.stdout.write(`## ${scenario} (jsc --sample, whole process)\n${r}\n`);
    continue;
  }
  const res = runJsc(jsc, files, files.scenario['mp-request'], { mode: 'scenario', scenario, paths, profile: true }, { flags: [...JSC_FLAGS, `--sampleInterval=${interval}`] });
  if (res.error) throw new Error(`${scenario}: ${res.error}`);
  const [key] = Object.keys(res.results);
  process.stdout.write(`## mp-request, ${scenario}: ${res.results[key].medianUs.toFixed(1)} µs per request under the profiler; ${res.traces.length} samples every ${interval} µs over the timed runs (${shipped ? 'shipped bundle' : 'named build'})\n\n`);
  process.stdout.write(report(res.traces, top));
  process.stdout.write('\n');
}

/**
 * Self and total tables, and the split between wasm, JS and native code.
 * @param {[string, string, number, number, number][][]} traces frames, top of the stack first: [name, category, line, column, sourceID]
 * @param {number} n
 */
function report(all, n) {
  // Samples taken while the profiler handed over its own traces are the bench's, not the library's.
  const traces = all.filter((frames) => !frames.some((f) => f[0] === 'samplingProfilerStackTraces' || f[0] === 'startSamplingProfiler'));
  const self = new Map();
  const total = new Map();
  const tiers = new Map();
  // The bench's own script (the timing loop, the subject's wrappers): the file `measure` is in.
  let benchSource = -1;
  for (const frames of traces) for (const f of frames) if (f[0] === 'measure') benchSource = f[4];
  const label = (f) => {
    const [name, category, line, column, source] = f;
    const kind = /IPInt|Wasm|BBQ|OMG/.test(category) && name !== 'wasm-stub' ? 'wasm' : category === 'LLInt' || category === 'Baseline' ? (source === benchSource ? 'bench' : 'js') : 'host';
    // `mp_request.wasm.wasm-function[mp_request::core::engine::Engine<V>::start::h0c73…]` -> `mp_request::core::engine::Engine<V>::start`
    const shown = name.replace(/^.*?wasm-function\[(.*)\]$/, '$1').replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
    // An anonymous JS function is told apart by where it is (line:column in its file).
    return { key: `${shown || `(anonymous${kind !== 'host' && line < 1e9 ? ` ${line}:${column}` : ''})`} [${kind}]`, kind };
  };
  for (const frames of traces) {
    if (frames.length === 0) continue;
    const leaf = label(frames[0]);
    self.set(leaf.key, (self.get(leaf.key) || 0) + 1);
    tiers.set(leaf.kind, (tiers.get(leaf.kind) || 0) + 1);
    const seen = new Set();
    for (const f of frames) {
      const { key } = label(f);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) || 0) + 1);
    }
  }
  const count = traces.length || 1;
  const pct = (v) => `${((v / count) * 100).toFixed(1)}%`;
  const table = (title, m, skip) => {
    const rows = [...m].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]).slice(0, n);
    return [`| ${title} | samples | share |`, '|---|---|---|', ...rows.map(([k, v]) => `| ${k.replace(/\|/g, '\\|')} | ${v} | ${pct(v)} |`)].join('\n');
  };
  // The bench's own frames (the timing loop, the promise machinery) are on every stack: left out of "total".
  const driver = (k) => k.endsWith(' [bench]') || /^(Promise|asyncFunctionResume|promiseReactionJob\w*|\(unknown\)) \[/.test(k);
  const split = ['wasm', 'js', 'host', 'bench'].map((k) => `${k} ${pct(tiers.get(k) || 0)}`).join(', ');
  let callerTable = '';
  if (callersOf) {
    // The first frame below the matching top that is not itself a match (inlined helpers recurse).
    const callers = new Map();
    for (const frames of traces) {
      if (frames.length === 0 || !label(frames[0]).key.includes(callersOf)) continue;
      const below = frames.find((f) => !label(f).key.includes(callersOf));
      const key = below ? label(below).key : '(none)';
      callers.set(key, (callers.get(key) || 0) + 1);
    }
    callerTable = `\n${table(`callers of *${callersOf}*`, callers, () => false)}\n`;
  }
  return `Self time by tier: ${split}.\n\n${table('self (top of stack)', self, () => false)}\n\n${table('total (on the stack)', total, driver)}\n${callerTable}`;
}

/**
 * The named build (see the header) into `dir`: index.js with identifiers kept and mp_request.wasm
 * with the Rust names. Checks on the way that this script's bundle options still make the shipped
 * index.js byte for byte when identifiers are minified, so the profile is of the shipped code.
 * @param {string} dir
 */
async function namedBuild(dir) {
  mkdirSync(dir, { recursive: true });
  const log = (text) => process.stderr.write(`[profile] ${text}\n`);
  // 1. The crate's request engine (as `make build` builds it), symbols kept. The flags are .cargo/config.toml's without `strip=symbols`
  //    (RUSTFLAGS replaces them); the `target_features` section strip would drop is dropped below.
  log('cargo build with symbols (target/profile-names)');
  execFileSync('cargo', ['build', '--quiet', '--lib', '--release', '--target', 'wasm32-unknown-unknown', '--no-default-features', '--features', 'requests', '--target-dir', join(ROOT, 'target', 'profile-names')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      RUSTFLAGS: '-C target-feature=-reference-types,-multivalue,-bulk-memory,-sign-ext,-nontrapping-fptoint -C strip=none',
      CARGO_PROFILE_RELEASE_STRIP: 'false',
    },
  });
  const built = readFileSync(join(ROOT, 'target', 'profile-names', 'wasm32-unknown-unknown', 'release', 'mp_request.wasm'));
  const keep = sections(built).filter((s) => s.name !== 'target_features' && !(s.name || '').startsWith('.debug'));
  writeFileSync(join(dir, 'crate.wasm'), Buffer.concat([built.subarray(0, 8), ...keep.map((s) => built.subarray(s.start, s.end))]));
  // 2. wasm-bindgen as wasm-pack runs it.
  log('wasm-bindgen');
  execFileSync('wasm-bindgen', [join(dir, 'crate.wasm'), '--out-dir', join(dir, 'pkg'), '--out-name', 'mp_request', '--typescript', '--target', 'bundler'], { stdio: 'inherit' });
  // 3. Lowered and optimised as scripts/build-bundle.mjs does, names kept.
  log('lower-wasm + wasm-opt -Oz -g');
  const { default: binaryen } = await import('binaryen');
  const { lowerToMvp } = await import('../scripts/lower-wasm.mjs');
  binaryen.setDebugInfo(true);
  writeFileSync(join(dir, 'lowered.wasm'), lowerToMvp(readFileSync(join(dir, 'pkg', 'mp_request_bg.wasm'))));
  execFileSync(join(ROOT, 'node_modules', '.bin', 'wasm-opt'), [join(dir, 'lowered.wasm'), '--mvp-features', '--enable-mutable-globals', '-Oz', '-g', '-o', join(dir, 'mp_request.wasm')], { stdio: 'inherit' });
  const codeOf = (bytes) => sections(bytes).find((s) => s.id === 10);
  const mine = codeOf(readFileSync(join(dir, 'mp_request.wasm')));
  const theirs = codeOf(readFileSync(join(DIST, 'mp_request.wasm')));
  const size = (s) => (s.end - s.start).toLocaleString('en');
  log(`wasm code section: named ${size(mine)} bytes, shipped ${size(theirs)} bytes${size(mine) === size(theirs) ? '' : ' (they differ: is dist/ from this tree?)'}`);
  // 4. The mini-program bundle (scripts/build-bundle.mjs's options), checked against the shipped one.
  const same = await bundle(join(ROOT, 'pkg', 'mp_request_bg.js'), true);
  if (same !== readFileSync(join(DIST, 'index.js'), 'utf8')) log('WARNING: these bundle options no longer make the shipped index.js: update namedBuild() from scripts/build-bundle.mjs');
  writeFileSync(join(dir, 'index.js'), await bundle(join(dir, 'pkg', 'mp_request_bg.js'), false));
  return dir;
}

/**
 * The mini-program index.js as scripts/build-bundle.mjs builds it.
 * @param {string} glue wasm-bindgen's JS glue
 * @param {boolean} minifyIdentifiers
 */
async function bundle(glue, minifyIdentifiers) {
  const scopedPolyfill = {
    name: 'fast-text-encoding-scoped',
    setup(build) {
      build.onResolve({ filter: /^virtual:fast-text-encoding$/ }, () => ({ path: 'fast-text-encoding', namespace: 'vendor' }));
      build.onLoad({ filter: /.*/, namespace: 'vendor' }, () => {
        const source = readFileSync(join(ROOT, 'node_modules', 'fast-text-encoding', 'text.min.js'), 'utf8');
        const scoped = source.replace(/\}\(typeof window[^\n]*\)\);\s*$/, '}(scope));');
        return {
          contents: `/*! fast-text-encoding 1.0.6, Apache-2.0, github.com/samthor/fast-text-encoding */\nconst scope = {};\n${scoped}\nexport const TextEncoder = scope.TextEncoder;\nexport const TextDecoder = scope.TextDecoder;\n`,
          loader: 'js',
        };
      });
    },
  };
  const out = await esbuild.build({
    bundle: true,
    // The socket engine's glue as shipped: the profile is of requests.
    alias: { 'mp-request-glue': glue, 'mp-request-sockets-glue': join(ROOT, 'pkg-sockets', 'mp_request_sockets_bg.js') },
    legalComments: 'inline',
    logLevel: 'warning',
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers,
    entryPoints: [join(ROOT, 'js-shim/src/entries/miniprogram.js')],
    // The sockets' JS is a file of its own (scripts/build-bundle.mjs).
    external: ['./mp_request_sockets.js'],
    outfile: 'index.js',
    write: false,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2017',
    inject: [join(ROOT, 'js-shim/src/text-codec.js')],
    plugins: [scopedPolyfill],
  });
  return out.outputFiles[0].text;
}

/** The sections of a wasm module: id, custom name, byte range. */
function sections(b) {
  const out = [];
  let i = 8;
  const leb = () => {
    let n = 0;
    let shift = 0;
    let x;
    do {
      x = b[i++];
      n += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80);
    return n;
  };
  while (i < b.length) {
    const start = i;
    const id = b[i++];
    const size = leb();
    const bodyStart = i;
    let name;
    if (id === 0) {
      const len = leb();
      name = b.subarray(i, i + len).toString();
    }
    i = bodyStart + size;
    out.push({ id, name, start, end: i });
  }
  return out;
}
