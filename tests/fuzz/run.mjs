#!/usr/bin/env node
// The fuzzer's runner: generates cases from a seed, runs each through the
// built mini-program bundle in a sandbox, checks the invariants, and prints
// how many ran and failed, with the seed and index that replay a failure.
//
//   node tests/fuzz/run.mjs [--cases N] [--seed S] [--case I] [--regression NAME] [--json]
//   env: FUZZ_SEED, FUZZ_CASES, FUZZ_CASE (replay one case: runs its block up to it, prints it in full),
//        FUZZ_STRICT=1 (known-open failures fail the run too)
//
// Exit status: 0 when no failure outside KNOWN_OPEN, 1 otherwise.
// It runs in a process of its own (the test spawns it): uncaught exceptions and
// unhandled rejections from the sandbox are counted here, not lost to a test runner.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleDir, startEmulator } from '../js/support.mjs';
import { checkError, checkFidelity, checkResponse, describe, tagsOf } from './check.mjs';
import { generateCase } from './generate.mjs';
import { KNOWN_OPEN } from './known-open.mjs';
import { Lane, NORMAL, perform } from './lanes.mjs';
import { REGRESSIONS } from './regressions.mjs';

/** Cases between fresh sandboxes: a replay reruns at most this many. */
const BLOCK = 1000;
/** Wasm memory that no run of cases should need. */
const MEMORY_LIMIT = 64 * 1024 * 1024;
/** How long a case may take before it is parked (left to finish in the background), and its deadline, per lane. */
const QUICK_MS = { fast: 20, scratch: 50, slow: 0, emulator: 300 };
const DEADLINE_MS = { fast: 4000, scratch: 6000, slow: 6000, emulator: 6000 };
/** The fast lane checks that its clients still serve every this many cases (and after anything odd). */
const SERVE_EVERY = 16;

const { values: flags } = parseArgs({
  options: {
    cases: { type: 'string' },
    seed: { type: 'string' },
    case: { type: 'string' },
    regression: { type: 'string' },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const seed = flags.seed ?? process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const replay = flags.case ?? process.env.FUZZ_CASE;
const strict = process.env.FUZZ_STRICT === '1';
const total = Number(flags.cases ?? process.env.FUZZ_CASES ?? 10_000);

/** @typedef {import('./generate.mjs').Case} Case */
/** @typedef {import('./check.mjs').Failure & { index: number, lane: string, known?: string }} Recorded */

/** @type {Recorded[]} */
const failures = [];
/** Cases that failed, by index (a case counts once however many invariants it broke). */
const failedCases = new Map();
const lanesRun = { fast: 0, scratch: 0, slow: 0, emulator: 0 };
let memoryPeak = 0;
let ran = 0;

// ---- what escapes to the process ----------------------------------------

/** The case running in each lane now, for blaming what escapes. */
const running = new Map();
/** Package roots per lane kind: a stack trace through the bundle names its lane. */
const roots = {};
let lastCase = /** @type {Case | undefined} */ (undefined);

function blame(kind, error) {
  const stack = String((error && error.stack) || '');
  const lane = Object.keys(roots).find((k) => stack.includes(roots[k]));
  const c = (lane && running.get(lane)) || lastCase;
  if (c) record(c, { invariant: kind, message: describe(error) });
}
process.on('uncaughtException', (error) => blame('uncaught', error));
process.on('unhandledRejection', (error) => blame('unhandled', error));

// ---- recording -------------------------------------------------------------

/** @param {Case} c @param {import('./check.mjs').Failure} f */
function record(c, f) {
  const tags = tagsOf(c);
  const known = KNOWN_OPEN.find((k) => k.match(f, tags));
  const r = { ...f, index: c.index, lane: c.lane, known: known?.id };
  failures.push(r);
  const already = failedCases.get(c.index);
  if (!already || (already.known && !r.known)) failedCases.set(c.index, r);
  if (!r.known && !flags.json && !flags.quiet && failures.filter((x) => !x.known).length <= 20) {
    console.log(`✗ case ${c.index} (${c.lane} ${c.op}): ${f.invariant}: ${f.message}`);
    console.log(`  replay: FUZZ_SEED=${seed} FUZZ_CASE=${c.index} node tests/fuzz/run.mjs`);
  }
}

// ---- lanes -----------------------------------------------------------------

let emulator;
/** @type {Record<string, Lane | undefined>} */
const lanes = {};
/** Lanes replaced while cases were parked in them: disposed once those end. */
const retired = new Set();

async function lane(kind) {
  if (!lanes[kind]) {
    if (kind === 'emulator' && !emulator) emulator = await startEmulator({ lifetimeMs: 24 * 3600 * 1000 });
    roots[kind] ??= makeRoot(kind);
    lanes[kind] = await new Lane(kind, { root: roots[kind], emulator }).open();
  }
  return /** @type {Lane} */ (lanes[kind]);
}

function makeRoot(kind) {
  const root = mkdtempSync(join(tmpdir(), `mp-request-fuzz-${kind}-`));
  cpSync(bundleDir, join(root, 'utils/mp-request'), { recursive: true });
  return root;
}

/** Replaces a lane whose engine may be unusable; the old one goes once its parked cases end. */
function retire(l) {
  if (lanes[l.kind] === l) lanes[l.kind] = undefined;
  if (l.parked === 0) l.dispose();
  else retired.add(l);
}

// ---- one case --------------------------------------------------------------

/** Parked cases: started, not settled within QUICK_MS; checked until their deadline. */
const parked = new Set();

/** @param {Case} c @param {{ verbose?: boolean }} [options] */
async function runCase(c, options = {}) {
  const l = await lane(c.lane);
  lanesRun[c.lane] += 1;
  ran += 1;
  lastCase = c;
  running.set(c.lane, c);
  if (l.fz) l.fz.plan(c.plan || NORMAL);
  if (c.fault && emulator) emulator.inject(c.fault);
  if (c.offline) l.fz.setOnline(false);
  const args = l.fz.build(c.args);
  const started = Date.now();
  const work = perform(l, c, args).then(
    (seen) => ({ seen }),
    (error) => ({ harness: error }),
  );
  let timer;
  const quick = await Promise.race([work, new Promise((r) => (timer = setTimeout(r, QUICK_MS[c.lane])))]);
  clearTimeout(timer);
  if (c.offline) l.fz.setOnline(true);
  if (quick) {
    await finish(c, l, quick, options);
  } else {
    const entry = { c, l, deadline: started + DEADLINE_MS[c.lane], done: undefined };
    l.parked += 1;
    parked.add(entry);
    work.then((result) => {
      entry.done = result;
    });
    checkStack(c, l);
    // A fast case that takes this long is unusual: see that the lane still serves.
    if (c.lane === 'fast') await checkServes(c, l, l.clients[c.client]);
  }
  if (c.lane === 'fast' && c.index % SERVE_EVERY === SERVE_EVERY - 1) {
    for (const client of Object.values(l.clients)) if (!l.broken) await checkServes(c, l, client);
  }
  if (c.fault && emulator) emulator.clearFaults();
  running.delete(c.lane);
  if (l.broken) retire(l);
  if (process.env.FUZZ_PROFILE) slowest.push([Date.now() - started, c.index, c.lane, c.op, [...tagsOf(c)].join(',')]);
}
const slowest = [];
process.on('exit', () => {
  if (process.env.FUZZ_PROFILE) for (const s of slowest.sort((a, b) => b[0] - a[0]).slice(0, 25)) console.log(s.join(' '));
});

/** Evaluates a case that ended: its calls' outcomes, then the lane's health. */
async function finish(c, l, result, options) {
  const before = failures.length;
  if (result.harness) throw result.harness;
  for (const o of result.seen) {
    for (const f of checkObservation(l, c, o)) record(c, { ...f, message: `${o.what}: ${f.message}` });
  }
  for (const thrown of l.fz.takeCallbackThrows()) record(c, { invariant: 'callback-threw', message: thrown });
  const request = result.seen.find((o) => o.what === 'request');
  const sent = l.fz.trouble.sent.slice();
  if (request && c.lane !== 'emulator') {
    for (const f of checkFidelity(c.args, sent)) record(c, f);
    const tags = tagsOf(c);
    const huge = ['huge-header', 'huge-path'].find((t) => tags.has(t)) || (tags.has('huge-data') && isQueryData(c.args) ? 'huge-data' : undefined);
    if (huge && sent.length > 0) record(c, { invariant: 'oversize-accepted', message: `a request with ${huge} (over 1 MB) was sent, not refused as invalid` });
    if (c.plan?.brokenJson && request.status === 'resolved' && !(/** @type {any} */ (request.value).fromCache)) {
      record(c, { invariant: 'broken-json-resolved', message: 'a 200 with content-type JSON and a broken body resolved as a success' });
    }
  }
  checkStack(c, l);
  checkMemory(c, l);
  // A lane already known broken (a moved stack pointer, a trap) is replaced, not asked again.
  if (!l.broken && c.lane === 'scratch') await checkServes(c, l, null);
  else if (!l.broken && failures.length > before) await checkServes(c, l, l.clients[c.client || 'cloud']);
  l.sandbox.logs.length = 0;
  if (options.verbose) {
    console.log(JSON.stringify(c, null, 2).slice(0, 4000));
    for (const o of result.seen) console.log(`  ${o.what}: ${o.status} ${describeOutcome(o.value)}`);
  }
}

/** GET (or no method) data becomes the query: part of the path's length. */
function isQueryData(args) {
  const m = args && typeof args === 'object' ? args.method : undefined;
  return m === undefined || (typeof m === 'string' && ['GET', 'get', 'HEAD'].includes(m));
}

function describeOutcome(value) {
  if (value && typeof value === 'object' && 'statusCode' in value && 'route' in value) return `statusCode ${String(value.statusCode)} via ${value.route}`;
  if (value && typeof value === 'object' && 'kind' in value) return `${value.kind}: ${value.detail}`;
  return describe(value);
}

/** @param {Lane} l @param {Case} c @param {import('./lanes.mjs').Observation} o */
function checkObservation(l, c, o) {
  if (o.status === 'threw' || o.status === 'rejected') {
    if (o.what === 'request' && o.status === 'threw') return [{ invariant: 'raw-error', message: `threw instead of rejecting: ${describe(o.value)}` }];
    return checkError(l.mp, o.value);
  }
  if (o.what === 'request' || o.what === 'request (the new client)') return checkResponse(o.value);
  return [];
}

function checkStack(c, l) {
  const sp = l.sp();
  if (sp !== l.baseSp) {
    record(c, { invariant: 'stack', message: `the wasm stack pointer moved by ${sp - l.baseSp} bytes` });
    l.broken = true;
  }
}

function checkMemory(c, l) {
  const bytes = l.memoryBytes();
  memoryPeak = Math.max(memoryPeak, bytes);
  if (bytes >= MEMORY_LIMIT) {
    record(c, { invariant: 'memory', message: `wasm memory grew to ${(bytes / 2 ** 20).toFixed(1)} MB` });
    l.broken = true;
  }
}

/** @param {any} client null: a new standard client (the scratch lane's) */
async function checkServes(c, l, client) {
  let fresh;
  try {
    fresh = client || (await l.standardClient());
  } catch (error) {
    record(c, { invariant: 'still-serves', message: `a standard createClient failed: ${describe(error)}` });
    l.broken = true;
    return;
  }
  const why = await l.serves(fresh);
  if (!client) fresh.destroy();
  if (why) {
    record(c, { invariant: 'still-serves', message: why });
    l.broken = true;
  }
  checkStack(c, l);
}

/** Settles parked cases that ended, and fails those past their deadline. */
async function sweep(all = false) {
  while (parked.size > 0) {
    for (const entry of [...parked]) {
      if (entry.done || Date.now() > entry.deadline) {
        parked.delete(entry);
        entry.l.parked -= 1;
        if (entry.done) await finish(entry.c, entry.l, entry.done, {});
        else {
          record(entry.c, { invariant: 'hang', message: `no outcome within ${DEADLINE_MS[entry.c.lane]} ms` });
          entry.l.broken = true;
        }
        if (entry.l.broken && lanes[entry.l.kind] === entry.l) retire(entry.l);
        if (retired.has(entry.l) && entry.l.parked === 0) {
          retired.delete(entry.l);
          entry.l.dispose();
        }
      }
    }
    if (!all) return;
    if (parked.size > 0) await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Ends a block: checks every lane still serves and starts afresh (parked
 * cases finish in their old lanes meanwhile; the end of the run waits for them).
 */
async function endBlock(c, last) {
  await sweep(last);
  for (const l of Object.values(lanes)) {
    if (!l || !c) continue;
    if (l.kind === 'scratch') await checkServes(c, l, null);
    else for (const client of Object.values(l.clients)) if (!l.broken) await checkServes(c, l, client);
    checkMemory(c, l);
  }
  for (const l of Object.values(lanes)) if (l) retire(l);
  if (emulator) emulator.reset();
}

// ---- the run -----------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  if (flags.regression !== undefined) {
    const reg = REGRESSIONS.find((r) => r.name === flags.regression);
    if (!reg) throw new Error(`no regression case named ${flags.regression}`);
    const c = { seed: 'regression', index: 0, ...reg.case };
    await runCase(c, { verbose: !flags.json });
    await endBlock(c, true);
    return report(t0, { regression: reg.name });
  }
  let first = 0;
  let last = total - 1;
  if (replay !== undefined) {
    last = Number(replay);
    first = last - (last % BLOCK);
  }
  let c;
  for (let i = first; i <= last; i += 1) {
    c = generateCase(seed, i);
    await runCase(c, { verbose: replay !== undefined && i === last });
    await sweep();
    if (i % BLOCK === BLOCK - 1 || i === last) await endBlock(c, i === last);
    if (!flags.json && !flags.quiet && i % 10_000 === 9_999) progress(t0);
  }
  return report(t0, {});
}

function progress(t0) {
  const newOnes = [...failedCases.values()].filter((f) => !f.known).length;
  console.log(`  … ${ran} cases, ${newOnes} failed (new), ${failedCases.size - newOnes} known-open, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

function report(t0, extra) {
  const seconds = (Date.now() - t0) / 1000;
  const newFailures = failures.filter((f) => !f.known);
  const knownFailures = failures.filter((f) => f.known);
  const failedNew = new Set(newFailures.map((f) => f.index)).size;
  const failedKnown = new Set(knownFailures.map((f) => f.index)).size;
  /** @type {Record<string, { cases: number, first: number, example: string }>} */
  const categories = {};
  for (const f of failures) {
    const id = f.known ? `known:${f.known}` : `new:${f.invariant}`;
    const cat = (categories[id] ??= { cases: 0, first: f.index, example: `${f.lane}: ${f.message}`, indexes: new Set() });
    if (!cat.indexes.has(f.index)) {
      cat.indexes.add(f.index);
      cat.cases += 1;
    }
  }
  for (const cat of Object.values(categories)) delete cat.indexes;
  const unmatched = KNOWN_OPEN.filter((k) => !knownFailures.some((f) => f.known === k.id)).map((k) => k.id);
  const summary = {
    seed,
    ran,
    failed: failedNew + (strict ? failedKnown : 0),
    failedNew,
    failedKnown,
    seconds,
    lanes: lanesRun,
    memoryPeakMB: Number((memoryPeak / 2 ** 20).toFixed(1)),
    categories,
    knownOpenUnmatched: unmatched,
    ...extra,
  };
  if (flags.json) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(`fuzz: seed ${seed}: ${ran} cases in ${seconds.toFixed(1)} s (fast ${lanesRun.fast}, scratch ${lanesRun.scratch}, slow ${lanesRun.slow}, emulator ${lanesRun.emulator}); wasm memory peak ${summary.memoryPeakMB} MB`);
    console.log(`failed: ${summary.failed} (${failedNew} new, ${failedKnown} known-open${strict ? ', counted: FUZZ_STRICT=1' : ''})`);
    for (const [id, cat] of Object.entries(categories).sort((a, b) => b[1].cases - a[1].cases)) {
      console.log(`  ${id}: ${cat.cases} cases; first: case ${cat.first} (FUZZ_SEED=${seed} FUZZ_CASE=${cat.first}) ${cat.example.slice(0, 200)}`);
    }
    if (replay === undefined && unmatched.length > 0) console.log(`known-open entries that matched nothing this run (fixed? remove them from KNOWN_OPEN): ${unmatched.join(', ')}`);
  }
  return summary;
}

main().then(
  (summary) => {
    for (const root of Object.values(roots)) rmSync(root, { recursive: true, force: true });
    if (emulator) emulator.close();
    // Sandboxed timers may still be pending in retired lanes: exit now.
    process.exit(summary.failed > 0 ? 1 : 0);
  },
  (error) => {
    console.error('fuzz: the harness itself failed:', error);
    process.exit(2);
  },
);
