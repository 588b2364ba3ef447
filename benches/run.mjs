// `make bench`: every scenario for every library, in V8 (Node) and in
// JavaScriptCore without a JIT (the `jsc` shell, as iOS runs a mini-program),
// each cell in a process of its own; then the tables, the sizes and the
// targets. Writes the report between the markers of BENCHMARKS.md and the raw
// figures to test-output/bench/results.json.
//   node --expose-gc benches/run.mjs [--only=hit,miss,...] [--engine=v8|jsc] [--subjects=a,b] [--no-write]
//   node benches/run.mjs --from=test-output/bench/results.json   (the tables again, from a saved run)
// The same from the environment (`make bench` passes it on):
//   BENCH_ONLY=jsc|v8          one engine
//   BENCH_SCENARIOS=hit,miss   some scenarios (names below; `cache`, `cold`)
//   BENCH_SUBJECTS=mp-request,tanstack
// A run with any of these prints its tables and leaves BENCHMARKS.md alone.
// Before any figure, a correctness run of the mini-program bundle in each
// engine (benches/subjects/mp-request-core.mjs): the run fails if it fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { BUDGET, TARGET, kb, measureBundle } from '../scripts/sizes.mjs';
import { summarize } from './harness.mjs';
import { buildJsc, findJsc, jscVersion, pathsOf, runJsc } from './jsc/engine.mjs';
import { BUNDLE } from './subjects/mp-request.mjs';
import { ROOT } from './subjects/paths.mjs';

const BENCHES = join(ROOT, 'benches');
const args = process.argv.slice(2);
const arg = (name) => (args.find((a) => a.startsWith(`--${name}=`)) || '').slice(name.length + 3);
const list = (text) => text.split(',').map((x) => x.trim()).filter(Boolean);
const only = list(arg('only') || process.env.BENCH_SCENARIOS || '');
const engines = list(arg('engine') || process.env.BENCH_ONLY || 'v8,jsc');
const subjectsWanted = list(arg('subjects') || process.env.BENCH_SUBJECTS || '');
const filtered = only.length > 0 || engines.length < 2 || subjectsWanted.length > 0;
const write = !args.includes('--no-write') && !filtered;
const wanted = (name) => only.length === 0 || only.includes(name);
for (const e of engines) if (e !== 'v8' && e !== 'jsc') throw new Error(`unknown engine ${e}: v8 or jsc`);

/** The libraries, in table order, with what their rows are called. */
const SUBJECTS = [
  ['mp-request', 'mp-request'],
  ['tanstack', 'TanStack query-core'],
  ['alova', 'alova'],
  ['axios-cache', 'axios + cache-interceptor'],
  ['floor', 'floor (async Map)'],
].filter(([s]) => subjectsWanted.length === 0 || subjectsWanted.includes(s));
/** The per-request scenarios (benches/scenarios.mjs), in table order: [scenario, row label, result key, unit, calls]. */
const ROWS = [
  ['hit', 'a. cache hit, per request', 'hit'],
  ['hit-header', 'a. hit, with a header (Authorization)', 'hit'],
  ['hit-cache', 'a. hit, with a per-request cache option', 'hit'],
  ['hit-priority', "a. hit, with priority: 'high'", 'hit'],
  ['miss', 'b. miss, zero-latency backend, per request', 'miss'],
  ['miss-header', 'b. miss, with a header (Authorization)', 'miss'],
  ['post', "b. POST with a JSON body (mp-request: idempotent: 'auto')", 'post'],
  ['share', 'c. 1,000 identical concurrent requests, per batch; backend calls', 'share', 'ms', true],
];
const CACHE_SIZES = [1_000, 10_000, 100_000];
/**
 * Cells jsc does not run, with why. axios-cache-interceptor's puts cost ~2.5 ms each at 10,000
 * entries in the interpreter: filling 100,000 would take several minutes for a figure of no use.
 */
const JSC_SKIP = { 'cache-100000': { 'axios-cache': 'n/a (filling 100,000 entries in the interpreter takes minutes)' } };
const COLD_RUNS = 15;
/**
 * The per-request cells (a, b, e) spread their 15 timed runs over 3 processes of 5 runs, the
 * libraries taking turns, so a busy moment of the machine or one process's luck (its heap
 * layout, its address space) weighs on every library alike, and on a third of a cell at most.
 */
const ROUNDS = 3;
const RUNS_PER_ROUND = 5;
const SPREAD = new Set(['hit', 'hit-header', 'hit-cache', 'hit-priority', 'miss', 'miss-header', 'post', 'retry']);

/** Runs one Node child and returns its JSON line, or `{ error }`. */
function child(script, argv) {
  const r = spawnSync(process.execPath, ['--expose-gc', join(BENCHES, script), ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 16 << 20,
  });
  const line = (r.stdout || '').trim().split('\n').at(-1);
  try {
    return JSON.parse(line);
  } catch {
    return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  }
}

function progress(text) {
  process.stderr.write(`[bench] ${text}\n`);
}

// `--from=<results.json>`: the tables again from a saved run, without measuring (BENCHMARKS.md is
// rewritten when that run was a whole one and no filter is given now).
const from = arg('from');
if (from) {
  const saved = JSON.parse(readFileSync(from, 'utf8'));
  const report = render(saved);
  process.stdout.write(`${report}\n`);
  if (write && saved.whole) writeReport(report);
  process.exit(0);
}

const started = Date.now();
const jscPath = engines.includes('jsc') ? findJsc() : undefined;
if (engines.includes('jsc') && !jscPath) {
  throw new Error('no `jsc` shell found: scripts/setup-bench.sh installs it (libjavascriptcoregtk-4.0-bin); or set JSC=/path/to/jsc, or BENCH_ONLY=v8');
}
const jscFiles = jscPath ? await buildJsc({ bundleDir: BUNDLE, subjects: SUBJECTS.map(([s]) => s) }) : undefined;

/** One process of a cell in one engine. */
const cell = (engine, scenario, subject, entries, runs) => {
  if (engine === 'v8') return child('scenario.mjs', [scenario, subject, ...(entries ? [String(entries)] : []), ...(runs ? [`--runs=${runs}`] : [])]);
  return runJsc(/** @type {string} */ (jscPath), jscFiles, jscFiles.scenario[subject], { mode: 'scenario', scenario, entries, runs, paths: pathsOf(jscFiles) });
};

/**
 * One cell from several processes: their timed runs pooled into one summary per result key
 * (backend calls per operation averaged), or the first error.
 * @param {any[]} parts
 */
function pooled(parts) {
  const failed = parts.find((p) => p.error || !p.results);
  if (failed) return failed;
  const results = {};
  for (const key of Object.keys(parts[0].results)) {
    const all = parts.map((p) => p.results[key]);
    const samples = all.flatMap((x) => x.samples);
    results[key] = {
      ...summarize(samples),
      opsPerRun: all.map((x) => x.opsPerRun),
      processes: parts.length,
      backendCallsPerOp: all.reduce((sum, x) => sum + x.backendCallsPerOp, 0) / all.length,
      samples,
    };
  }
  return { ...parts[0], results };
}

const results = { machine: machine(), engines, whole: !filtered, correctness: {}, v8: { scenarios: {}, cold: {} }, jsc: { scenarios: {}, cold: {} }, sizes: {} };

// The correctness run first: figures of a library that does not work in an engine are no figures.
if (SUBJECTS.some(([s]) => s === 'mp-request')) {
  for (const engine of engines) {
    const r =
      engine === 'v8'
        ? child('correctness.mjs', [])
        : runJsc(/** @type {string} */ (jscPath), jscFiles, jscFiles.scenario['mp-request'], { mode: 'correctness', paths: pathsOf(jscFiles) });
    results.correctness[engine] = r;
    if (r.error || !Array.isArray(r.checked)) {
      process.stderr.write(`\n[bench] CORRECTNESS FAILED in ${engine}: the mini-program bundle does not work there\n${r.error || JSON.stringify(r)}\n\n`);
      process.exit(1);
    }
    progress(`correctness in ${engine}: ${r.checked.length} checks passed (${r.checked.join('; ')})`);
  }
}

for (const engine of engines) {
  const out = results[engine];
  for (const [scenario] of [...ROWS, ['retry']]) {
    if (!wanted(scenario)) continue;
    out.scenarios[scenario] = {};
    if (!SPREAD.has(scenario)) {
      for (const [subject] of SUBJECTS) {
        progress(`${engine} ${scenario} ${subject}`);
        out.scenarios[scenario][subject] = cell(engine, scenario, subject);
      }
      continue;
    }
    /** @type {Record<string, any[]>} */
    const parts = {};
    for (let round = 1; round <= ROUNDS; round += 1) {
      progress(`${engine} ${scenario} (${round}/${ROUNDS}) ${SUBJECTS.map(([s]) => s).join(', ')}`);
      for (const [subject] of SUBJECTS) (parts[subject] ??= []).push(cell(engine, scenario, subject, 0, RUNS_PER_ROUND));
    }
    for (const [subject] of SUBJECTS) out.scenarios[scenario][subject] = pooled(parts[subject]);
  }
  if (wanted('cache')) {
    for (const entries of CACHE_SIZES) {
      const name = `cache-${entries}`;
      out.scenarios[name] = {};
      for (const [subject] of SUBJECTS) {
        const skip = engine === 'jsc' && JSC_SKIP[name] && JSC_SKIP[name][subject];
        if (skip) {
          out.scenarios[name][subject] = { skipped: skip };
          continue;
        }
        progress(`${engine} cache ${entries} ${subject}`);
        out.scenarios[name][subject] = cell(engine, 'cache', subject, entries);
      }
    }
  }
  if (wanted('cold')) {
    const cold =
      engine === 'v8'
        ? ['mp-request', 'mp-request-miniprogram', 'tanstack', 'alova', 'axios-cache']
        : ['mp-request', 'tanstack', 'alova', 'axios-cache'];
    const starting = cold.filter((subject) => SUBJECTS.some(([s]) => s === subject.replace('-miniprogram', '')));
    progress(`${engine} cold start ×${COLD_RUNS}, the libraries taking turns: ${starting.join(', ')}`);
    const one = (subject) =>
      engine === 'v8'
        ? child('cold-start.mjs', [subject])
        : runJsc(/** @type {string} */ (jscPath), jscFiles, jscFiles.cold, { subject, libFile: jscFiles.libs[subject], paths: pathsOf(jscFiles) });
    /** @type {Record<string, any[]>} */
    const runs = {};
    for (let i = 0; i < COLD_RUNS; i += 1) for (const subject of starting) (runs[subject] ??= []).push(one(subject));
    for (const subject of starting) {
      const failed = runs[subject].find((r) => r.error);
      out.cold[subject] = failed ? failed : summarize(runs[subject].map((r) => r.ms));
    }
  }
}
results.sizes = { mine: measureBundle(join(ROOT, 'dist', 'miniprogram', 'mp-request')), peers: await peerSizes() };
results.minutes = (Date.now() - started) / 60_000;

const report = render(results);
process.stdout.write(`${report}\n`);
mkdirSync(join(ROOT, 'test-output', 'bench'), { recursive: true });
writeFileSync(join(ROOT, 'test-output', 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
if (write) writeReport(report);
progress(`done in ${results.minutes.toFixed(1)} min`);

/** Writes `report` between the markers of BENCHMARKS.md. */
function writeReport(report) {
  const file = join(ROOT, 'BENCHMARKS.md');
  const doc = readFileSync(file, 'utf8');
  const begin = '<!-- bench:begin (written by make bench) -->';
  const end = '<!-- bench:end -->';
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error('BENCHMARKS.md lost its bench markers');
  writeFileSync(file, `${doc.slice(0, i + begin.length)}\n${report}\n${doc.slice(j)}`);
  progress('BENCHMARKS.md updated');
}

function machine() {
  const cpu = cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu: `${cpu[0] ? cpu[0].model.trim() : 'unknown'} × ${cpu.length}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    os: `${type()} ${release()}`,
    node: process.version,
    jsc: engines.includes('jsc') ? jscVersion() : undefined,
    peers: peerVersions(),
  };
}

function peerVersions() {
  const lock = JSON.parse(readFileSync(join(BENCHES, 'package-lock.json'), 'utf8'));
  const v = (name) => (lock.packages[`node_modules/${name}`] || {}).version;
  return { '@tanstack/query-core': v('@tanstack/query-core'), alova: v('alova'), axios: v('axios'), 'axios-cache-interceptor': v('axios-cache-interceptor') };
}

/** What each peer adds to a browser bundle: its entry, bundled and minified, raw and gzipped. */
async function peerSizes() {
  const entries = {
    tanstack: "export { QueryClient } from '@tanstack/query-core';",
    alova: "export { createAlova } from 'alova';",
    'axios-cache': "export { default as axios } from 'axios'; export { setupCache } from 'axios-cache-interceptor';",
  };
  const out = {};
  for (const [name, contents] of Object.entries(entries)) {
    const built = await esbuild.build({
      stdin: { contents, resolveDir: BENCHES, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const bytes = built.outputFiles[0].contents;
    out[name] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  }
  return out;
}

// ---- the report ------------------------------------------------------------

function render(r) {
  const lines = [];
  const m = r.machine;
  const jscNote = r.engines.includes('jsc') ? `, JavaScriptCore: Debian's \`jsc\` shell ${m.jsc} run with \`--useJIT=false\`` : '';
  lines.push(`Run on ${m.date}: ${m.cpu}, ${m.memory}, ${m.os}, Node ${m.node}${jscNote}. Peers: ${Object.entries(m.peers).map(([k, v]) => `${k} ${v}`).join(', ')}. The whole run took ${r.minutes.toFixed(1)} min.`);
  lines.push(`Each cell: the median of the timed runs, ± half the interquartile range in % of it: ${ROUNDS * RUNS_PER_ROUND} runs from ${ROUNDS} processes taking turns with the other libraries' for a, b and e; 15 runs (11 for sharing) from one process for c and d; ${COLD_RUNS} processes for f, the libraries taking turns.`);
  if (r.correctness.jsc) lines.push(`Before the figures, the mini-program bundle passed its correctness run in both engines: ${r.correctness.jsc.checked.join('; ')}.`);
  for (const engine of r.engines) {
    lines.push('');
    lines.push(engine === 'v8' ? '**V8 (Node)**' : '**JavaScriptCore without a JIT** (JS and wasm interpreted, as iOS runs a mini-program)');
    lines.push('');
    lines.push(...renderEngine(r[engine], engine));
  }
  if (r.engines.length === 2 && SUBJECTS.some(([s]) => s === 'tanstack') && SUBJECTS.some(([s]) => s === 'mp-request')) {
    lines.push('');
    lines.push("**mp-request against TanStack query-core, per shape, in both engines** (the targets of issue 19: in JSC a miss ≤ 1.0× TanStack's miss, a hit of every shape ≤ 1.0× TanStack's hit, cold start ≤ 3× TanStack's; in V8 a hit of every shape ≤ 1.0×, a miss ≤ 0.5×; the POST is held to the miss target)");
    lines.push('');
    lines.push(...renderVersus(r));
  }
  lines.push('');
  lines.push(...renderSizes(r.sizes));
  if (r.engines.includes('v8')) {
    lines.push('');
    lines.push(...renderTargets(r.v8, r.sizes.mine));
  }
  return lines.join('\n');
}

/** One engine's table: a row per scenario, a column per library. */
function renderEngine(e, engine) {
  const lines = [];
  const head = `| scenario | ${SUBJECTS.map(([, label]) => label).join(' | ')} |`;
  lines.push(head, `|${'---|'.repeat(SUBJECTS.length + 1)}`);
  const row = (label, scenario, key, unit = 'µs', calls = false) => {
    if (!e.scenarios[scenario]) return;
    const cells = SUBJECTS.map(([s]) => {
      const res = e.scenarios[scenario][s];
      if (!res) return '–';
      if (res.skipped) return res.skipped;
      if (res.error) return `error: ${res.error.slice(0, 60).replace(/\|/g, '\\|').replace(/\n/g, ' ')}`;
      if (!res.results) return 'n/a';
      const v = res.results[key];
      const value = unit === 'ms' ? `${fmt(v.medianUs / 1000)} ms` : `${fmt(v.medianUs)} µs`;
      return `${value} ±${Math.round(v.spreadPct / 2)}%${calls ? `, ${fmt(v.backendCallsPerOp)} calls` : ''}`;
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  };
  for (const [scenario, label, key, unit, calls] of ROWS) row(label, scenario, key, unit, calls);
  for (const n of CACHE_SIZES) {
    row(`d. get with ${n.toLocaleString('en')} entries`, `cache-${n}`, 'get');
    row(`d. put with ${n.toLocaleString('en')} entries`, `cache-${n}`, 'put');
  }
  row('e. failing backend, 3 retries, virtual clock, per request; backend calls', 'retry', 'retry', 'µs', true);
  if (Object.keys(e.cold).length) {
    const c = (s) => (e.cold[s] ? (e.cold[s].error ? `error: ${e.cold[s].error.slice(0, 60).replace(/\n/g, ' ')}` : `${fmt(e.cold[s].medianUs)} ms ±${Math.round(e.cold[s].spreadPct / 2)}%`) : '–');
    const mine = engine === 'v8' ? `${c('mp-request')} (Node build; mini-program bundle ${c('mp-request-miniprogram')})` : `${c('mp-request')} (mini-program bundle)`;
    const cells = SUBJECTS.map(([s]) => (s === 'mp-request' ? mine : s === 'floor' ? '–' : c(s)));
    lines.push(`| f. cold start: load, instantiate, create a client | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The median of a cell, or NaN. */
function medianOf(e, scenario, subject, key) {
  const res = e.scenarios[scenario] && e.scenarios[scenario][subject];
  return res && res.results && res.results[key] ? res.results[key].medianUs : NaN;
}

/** mp-request / TanStack per shape, V8 and JSC side by side, with the issue's targets. */
function renderVersus(r) {
  const lines = [
    '| shape | V8: mp-request | V8: TanStack | V8: ratio (target) | JSC: mp-request | JSC: TanStack | JSC: ratio (target) |',
    '|---|---|---|---|---|---|---|',
  ];
  const shapes = [
    ['hit', 'hit', 'hit', 1, 1],
    ['hit + header', 'hit-header', 'hit', 1, 1],
    ['hit + per-request cache option', 'hit-cache', 'hit', 1, 1],
    ["hit + priority: 'high'", 'hit-priority', 'hit', 1, 1],
    ['miss', 'miss', 'miss', 0.5, 1],
    ['miss + header', 'miss-header', 'miss', 0.5, 1],
    ["POST, idempotent: 'auto'", 'post', 'post', 0.5, 1],
  ];
  const us = (v) => (Number.isFinite(v) ? `${fmt(v)} µs` : '–');
  const verdict = (ratio, target) =>
    Number.isFinite(ratio) ? `${fmt(ratio)}× ${target === undefined ? '' : ratio <= target ? `✅ (≤ ${target.toFixed(1)}×)` : `❌ (≤ ${target.toFixed(1)}×)`}`.trim() : '–';
  for (const [label, scenario, key, v8Target, jscTarget] of shapes) {
    const cells = [];
    for (const [engine, target] of [['v8', v8Target], ['jsc', jscTarget]]) {
      const mine = medianOf(r[engine], scenario, 'mp-request', key);
      const theirs = medianOf(r[engine], scenario, 'tanstack', key);
      cells.push(us(mine), us(theirs), verdict(mine / theirs, target));
    }
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  const cold = (engine, s) => (r[engine].cold[s] && !r[engine].cold[s].error ? r[engine].cold[s].medianUs : NaN);
  const ms = (v) => (Number.isFinite(v) ? `${fmt(v)} ms` : '–');
  const v8Mine = cold('v8', 'mp-request-miniprogram');
  const jscMine = cold('jsc', 'mp-request');
  lines.push(
    `| cold start to a ready client (mini-program bundle) | ${ms(v8Mine)} | ${ms(cold('v8', 'tanstack'))} | ${verdict(v8Mine / cold('v8', 'tanstack'))} | ${ms(jscMine)} | ${ms(cold('jsc', 'tanstack'))} | ${verdict(jscMine / cold('jsc', 'tanstack'), 3)} |`,
  );
  return lines;
}

function renderSizes({ mine, peers }) {
  const t = (name, size) => {
    const budget = BUDGET[name];
    const target = TARGET[name];
    return `${kb(size)} (budget ${kb(budget)}, target ${kb(target)} ${size <= target ? '✅' : '❌'})`;
  };
  return [
    '| size | bytes |',
    '|---|---|',
    `| request engine wasm (mp_request.wasm, compiled by every createClient), after wasm-opt | ${t('wasmRaw', mine.wasmRaw)}; gzip ${t('wasmGzip', mine.wasmGzip)}; brotli ${kb(mine.wasmBrotli)} (the shipped .wasm.br) |`,
    `| socket engine wasm (mp_request_sockets.wasm, loaded on the first client.socket()) | ${kb(mine.socketsRaw)} (budget ${kb(BUDGET.socketsRaw)}); brotli ${kb(mine.socketsBrotli)} |`,
    `| shim + glue + UTF-8 codec (index.js, loaded by every client) | ${kb(mine.jsRaw)}; gzip ${kb(mine.jsGzip)}; brotli ${kb(mine.jsBrotli)} |`,
    `| the sockets' JS (mp_request_sockets.js, required on the first client.socket()) | ${kb(mine.socketsJsRaw)} |`,
    `| whole mini-program bundle (both .js + both .wasm) | ${t('bundleRaw', mine.bundleRaw)}; as shipped (both .js + both .wasm.br) ${kb(mine.shipped)} |`,
    `| for comparison, minified JS of TanStack query-core / alova / axios + cache-interceptor | ${['tanstack', 'alova', 'axios-cache'].map((p) => `${kb(peers[p].raw)} (gzip ${kb(peers[p].gzip)})`).join(' / ')} |`,
  ];
}

/** The V8 targets (issues before 19). */
function renderTargets(e, sizes) {
  const med = (scenario, subject, key) => medianOf(e, scenario, subject, key);
  /** ✅ when `value` is within `limit`, – when it was not measured. */
  const check = (value, limit) => (!Number.isFinite(value) ? '–' : value <= limit ? '✅' : '❌');
  const out = ['| target (V8) | measured | met |', '|---|---|---|'];
  const hit = med('hit', 'mp-request', 'hit');
  const ratio = (peer) => hit / med('hit', peer, 'hit');
  out.push(`| cache hit ≤ 1.0× TanStack's | ${fmt(ratio('tanstack'))}× | ${check(ratio('tanstack'), 1)} |`);
  out.push(`| cache hit ≤ 0.1× alova's | ${fmt(ratio('alova'))}× | ${check(ratio('alova'), 0.1)} |`);
  out.push(`| cache hit ≤ 0.1× axios-cache-interceptor's | ${fmt(ratio('axios-cache'))}× | ${check(ratio('axios-cache'), 0.1)} |`);
  // Less the floor's miss, which is parsing the body: every library pays it since issue 19.
  const miss = med('miss', 'mp-request', 'miss') - med('miss', 'floor', 'miss');
  out.push(`| miss overhead ≤ 10 µs (the miss less the floor's: parsing the body) | ${fmt(miss)} µs | ${check(miss, 10)} |`);
  const cold = e.cold['mp-request'] && !e.cold['mp-request'].error ? e.cold['mp-request'].medianUs : NaN;
  out.push(`| cold start ≤ 10 ms in Node | ${fmt(cold)} ms | ${check(cold, 10)} |`);
  for (const key of ['get', 'put']) {
    const flat = med('cache-100000', 'mp-request', key) / med('cache-1000', 'mp-request', key);
    const floor = med('cache-100000', 'floor', key) / med('cache-1000', 'floor', key);
    out.push(`| cache ${key} at 100k entries within 2× of 1k | ${fmt(flat)}× (the floor's own: ${fmt(floor)}×) | ${check(flat, 2)} |`);
  }
  const s = sizes;
  out.push(`| wasm ≤ 120 KB raw, ≤ 45 KB gzip | ${kb(s.wasmRaw)}, ${kb(s.wasmGzip)} | ${check(Math.max(s.wasmRaw / TARGET.wasmRaw, s.wasmGzip / TARGET.wasmGzip), 1)} |`);
  out.push(`| whole bundle ≤ 160 KB raw | ${kb(s.bundleRaw)} | ${check(s.bundleRaw, TARGET.bundleRaw)} |`);
  return out;
}

/** Three significant figures at most, no exponent. */
function fmt(n) {
  if (!Number.isFinite(n)) return '–';
  if (n >= 100) return String(Math.round(n));
  if (n >= 10) return n.toFixed(1);
  if (n >= 1) return n.toFixed(2);
  return n.toFixed(3);
}
