// `make bench`: every scenario for every library, each in a process of its
// own, then the table, the sizes and the targets. Writes the report between
// the markers of BENCHMARKS.md and the raw figures to test-output/bench/.
//   node --expose-gc benches/run.mjs [--only=hit,miss,...] [--no-write]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { BUDGET, TARGET, kb, measureBundle } from '../scripts/sizes.mjs';
import { summarize } from './harness.mjs';
import { ROOT } from './subjects/paths.mjs';

const BENCHES = join(ROOT, 'benches');
const args = process.argv.slice(2);
const only = (args.find((a) => a.startsWith('--only=')) || '').slice(7).split(',').filter(Boolean);
const write = !args.includes('--no-write');
const wanted = (name) => only.length === 0 || only.includes(name);

/** The libraries, in table order, with what their rows are called. */
const SUBJECTS = [
  ['mp-request', 'mp-request'],
  ['tanstack', 'TanStack query-core'],
  ['alova', 'alova'],
  ['axios-cache', 'axios + cache-interceptor'],
  ['floor', 'floor (async Map)'],
];
const CACHE_SIZES = [1_000, 10_000, 100_000];
const COLD_RUNS = 15;

/** Runs one child and returns its JSON line, or `{ error }`. */
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

const results = { machine: machine(), scenarios: {}, cold: {}, sizes: {} };

for (const scenario of ['hit', 'miss', 'share', 'retry']) {
  if (!wanted(scenario)) continue;
  results.scenarios[scenario] = {};
  for (const [subject] of SUBJECTS) {
    progress(`${scenario} ${subject}`);
    results.scenarios[scenario][subject] = child('scenario.mjs', [scenario, subject]);
  }
}
if (wanted('cache')) {
  for (const entries of CACHE_SIZES) {
    const name = `cache-${entries}`;
    results.scenarios[name] = {};
    for (const [subject] of SUBJECTS) {
      progress(`cache ${entries} ${subject}`);
      results.scenarios[name][subject] = child('scenario.mjs', ['cache', subject, String(entries)]);
    }
  }
}
if (wanted('cold')) {
  for (const subject of ['mp-request', 'mp-request-miniprogram', 'tanstack', 'alova', 'axios-cache']) {
    progress(`cold start ${subject} ×${COLD_RUNS}`);
    const runs = Array.from({ length: COLD_RUNS }, () => child('cold-start.mjs', [subject]));
    const failed = runs.find((r) => r.error);
    results.cold[subject] = failed ? failed : summarize(runs.map((r) => r.ms));
  }
}
results.sizes = { mine: measureBundle(join(ROOT, 'dist', 'miniprogram', 'mp-request')), peers: await peerSizes() };

const report = render(results);
process.stdout.write(`${report}\n`);
mkdirSync(join(ROOT, 'test-output', 'bench'), { recursive: true });
writeFileSync(join(ROOT, 'test-output', 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
if (write && only.length === 0) {
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
  lines.push(`Run on ${m.date}: ${m.cpu}, ${m.memory}, ${m.os}, Node ${m.node}. Peers: ${Object.entries(m.peers).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  lines.push('Each cell: the median of the timed runs (15, or 11 for sharing; one process per cell), ± half the interquartile range in % of it.');
  lines.push('');
  const head = `| scenario | ${SUBJECTS.map(([, label]) => label).join(' | ')} |`;
  lines.push(head, `|${'---|'.repeat(SUBJECTS.length + 1)}`);
  const row = (label, scenario, key, unit = 'µs', calls = false) => {
    const cells = SUBJECTS.map(([s]) => {
      const res = r.scenarios[scenario] && r.scenarios[scenario][s];
      if (!res) return '–';
      if (res.error) return `error: ${res.error.slice(0, 60)}`;
      if (!res.results) return 'n/a';
      const v = res.results[key];
      const value = unit === 'ms' ? `${fmt(v.medianUs / 1000)} ms` : `${fmt(v.medianUs)} µs`;
      return `${value} ±${Math.round(v.spreadPct / 2)}%${calls ? `, ${fmt(v.backendCallsPerOp)} calls` : ''}`;
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  };
  if (r.scenarios.hit) row('a. cache hit, per request', 'hit', 'hit');
  if (r.scenarios.miss) row('b. miss, zero-latency backend, per request', 'miss', 'miss');
  if (r.scenarios.share) row('c. 1,000 identical concurrent requests, per batch; backend calls', 'share', 'share', 'ms', true);
  for (const n of CACHE_SIZES) {
    if (!r.scenarios[`cache-${n}`]) continue;
    row(`d. get with ${n.toLocaleString('en')} entries`, `cache-${n}`, 'get');
    row(`d. put with ${n.toLocaleString('en')} entries`, `cache-${n}`, 'put');
  }
  if (r.scenarios.retry) row('e. failing backend, 3 retries, virtual clock, per request; backend calls', 'retry', 'retry', 'µs', true);
  if (Object.keys(r.cold).length) {
    const c = (s) => (r.cold[s] ? (r.cold[s].error ? 'error' : `${fmt(r.cold[s].medianUs)} ms ±${Math.round(r.cold[s].spreadPct / 2)}%`) : '–');
    lines.push(`| f. cold start: load, instantiate, create a client | ${c('mp-request')} (Node build; mini-program bundle ${c('mp-request-miniprogram')}) | ${c('tanstack')} | ${c('alova')} | ${c('axios-cache')} | – |`);
  }
  lines.push('');
  lines.push(...renderSizes(r.sizes));
  lines.push('');
  lines.push(...renderTargets(r));
  return lines.join('\n');
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
    `| wasm, after wasm-opt | ${t('wasmRaw', mine.wasmRaw)}; gzip ${t('wasmGzip', mine.wasmGzip)}; brotli ${kb(mine.wasmBrotli)} (the shipped .wasm.br) |`,
    `| shim + glue + UTF-8 codec (index.js) | ${kb(mine.jsRaw)}; gzip ${kb(mine.jsGzip)}; brotli ${kb(mine.jsBrotli)} |`,
    `| whole mini-program bundle (index.js + .wasm) | ${t('bundleRaw', mine.bundleRaw)}; as shipped (index.js + .wasm.br) ${kb(mine.shipped)} |`,
    `| for comparison, minified JS of TanStack query-core / alova / axios + cache-interceptor | ${['tanstack', 'alova', 'axios-cache'].map((p) => `${kb(peers[p].raw)} (gzip ${kb(peers[p].gzip)})`).join(' / ')} |`,
  ];
}

function renderTargets(r) {
  const med = (scenario, subject, key) => {
    const res = r.scenarios[scenario] && r.scenarios[scenario][subject];
    return res && res.results ? res.results[key].medianUs : NaN;
  };
  const check = (ok) => (Number.isNaN(ok) ? '–' : ok ? '✅' : '❌');
  const out = ['| target | measured | met |', '|---|---|---|'];
  const hit = med('hit', 'mp-request', 'hit');
  const ratio = (peer) => hit / med('hit', peer, 'hit');
  out.push(`| cache hit ≤ 1.0× TanStack's | ${fmt(ratio('tanstack'))}× | ${check(ratio('tanstack') <= 1)} |`);
  out.push(`| cache hit ≤ 0.1× alova's | ${fmt(ratio('alova'))}× | ${check(ratio('alova') <= 0.1)} |`);
  out.push(`| cache hit ≤ 0.1× axios-cache-interceptor's | ${fmt(ratio('axios-cache'))}× | ${check(ratio('axios-cache') <= 0.1)} |`);
  const miss = med('miss', 'mp-request', 'miss');
  out.push(`| miss overhead ≤ 10 µs | ${fmt(miss)} µs | ${check(miss <= 10)} |`);
  const cold = r.cold['mp-request'] && !r.cold['mp-request'].error ? r.cold['mp-request'].medianUs : NaN;
  out.push(`| cold start ≤ 10 ms in Node | ${fmt(cold)} ms | ${check(cold <= 10)} |`);
  for (const key of ['get', 'put']) {
    const flat = med('cache-100000', 'mp-request', key) / med('cache-1000', 'mp-request', key);
    const floor = med('cache-100000', 'floor', key) / med('cache-1000', 'floor', key);
    out.push(`| cache ${key} at 100k entries within 2× of 1k | ${fmt(flat)}× (the floor's own: ${fmt(floor)}×) | ${check(flat <= 2)} |`);
  }
  const s = r.sizes.mine;
  out.push(`| wasm ≤ 120 KB raw, ≤ 45 KB gzip | ${kb(s.wasmRaw)}, ${kb(s.wasmGzip)} | ${check(s.wasmRaw <= TARGET.wasmRaw && s.wasmGzip <= TARGET.wasmGzip)} |`);
  out.push(`| whole bundle ≤ 160 KB raw | ${kb(s.bundleRaw)} | ${check(s.bundleRaw <= TARGET.bundleRaw)} |`);
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
