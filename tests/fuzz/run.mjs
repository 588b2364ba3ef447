#!/usr/bin/env node
// The fuzzer's runner: generates cases from a seed, runs each through the
// built mini-program bundle in a sandbox, checks the invariants, and prints
// how many ran and failed, with the seed and index that replay a failure.
//
//   node tests/fuzz/run.mjs [--cases N] [--seed S] [--case I] [--regression NAME] [--given CASE_JSON] [--json]
//   env: FUZZ_SEED, FUZZ_CASES, FUZZ_CASE (replay one case: runs its block up to it, prints it in full),
//        FUZZ_STRICT=1 (known-open failures fail the run too), FUZZ_DUMP=file (every failure as a JSON line,
//        with its case's tags), FUZZ_BUNDLE=dir (another build of dist/miniprogram/mp-request)
//
// Exit status: 0 when no failure outside KNOWN_OPEN, 1 otherwise, 2 when the harness itself failed.
// It runs in a process of its own (the test spawns it): uncaught exceptions and
// unhandled rejections from the sandbox are counted here, not lost to a test runner.
import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { promiseHooks } from 'node:v8';
import { startEmulator } from '../js/support.mjs';
import { checkError, checkFidelity, checkResponse, checkSentSizes, describe, isTrap, tagsOf } from './check.mjs';
import { generateCase } from './generate.mjs';
import { KNOWN_OPEN } from './known-open.mjs';
import { Lane, NORMAL, perform, removeRoots } from './lanes.mjs';
import { REGRESSIONS } from './regressions.mjs';

/** Cases between fresh sandboxes: a replay reruns at most this many. */
const BLOCK = 1000;
/** Wasm memory that no run of cases should need. */
const MEMORY_LIMIT = 64 * 1024 * 1024;
/**
 * How long a case may take before it is parked (left to finish in the
 * background while the next cases run), and its deadline, per lane. A fast
 * case settles in microseconds; one that waits for a retry or the engine's
 * timer is parked, which costs nothing but this wait.
 */
const QUICK_MS = { fast: 5, scratch: 20, slow: 0, emulator: 100 };
// Deadlines leave room for a loaded machine: the longest legitimate case waits
// for a timeout (at most 2 s) and 1 s of grace, twice within a 2.5 s retry deadline.
const DEADLINE_MS = { fast: 8000, scratch: 10_000, slow: 10_000, emulator: 10_000 };
/** The fast lane checks that its clients still serve every this many cases (and after anything odd). */
const SERVE_EVERY = 16;

const { values: flags } = parseArgs({
  options: {
    cases: { type: 'string' },
    seed: { type: 'string' },
    case: { type: 'string' },
    regression: { type: 'string' },
    given: { type: 'string' },
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
/**
 * @typedef {object} Scope What a piece of work belongs to.
 * @property {Case} c
 * @property {Lane} l
 * @property {import('./generate.mjs').Plan} plan What the platform does with its calls.
 * @property {number} attempts Network calls made so far.
 * @property {any[]} sent Those calls, as the platform got them.
 */

/** @param {Case} c @param {Lane} l @param {import('./generate.mjs').Plan} plan @returns {Scope} */
const scopeOf = (c, l, plan) => ({ c, l, plan, attempts: 0, sent: [] });

/** @type {Recorded[]} */
const failures = [];
let newFailures = 0;
const lanesRun = { fast: 0, scratch: 0, slow: 0, emulator: 0 };
let memoryPeak = 0;
let ran = 0;
/** Cases that did not settle at once and finished in the background. */
let parkedTotal = 0;

// ---- which case did it ------------------------------------------------------
// Every case runs in an async context of its own, which its timers and promise
// continuations inherit: what happens later (a retry, a guard timer, a late
// answer) is blamed on the case that set it going, even while others run.

const context = /** @type {AsyncLocalStorage<Scope>} */ (new AsyncLocalStorage());
/** The scope each promise was made in, for unhandled rejections (the event has no context). */
const owners = new WeakMap();
promiseHooks.onInit((promise) => {
  const scope = context.getStore();
  if (scope) owners.set(promise, scope);
});

/** Every lane instance alive (current or retired). */
const alive = new Set();
/** The lane that ran the last case: blamed for what escapes with no scope and no stack. */
let lastLane = /** @type {Lane | undefined} */ (undefined);

/** The case to blame for something lane `l` saw now (nothing once `l` is broken: what it does then follows from that). */
function culprit(l) {
  if (!l || l.broken) return undefined;
  const scope = context.getStore();
  return scope && scope.l === l ? scope.c : l.lastCase;
}

/** @param {unknown} error what was thrown, with where (the first frames, minus the temporary directory) */
function describeWhere(error) {
  const stack = String((error && /** @type {any} */ (error).stack) || '');
  const where = stack.split('\n').slice(1, 3).map((line) => line.trim().replace(/\/tmp\/[^/]+\//, '')).join(' ');
  return `${describe(error)}${where ? ` (${where})` : ''}`;
}

/** @type {import('./lanes.mjs').LaneHooks} */
const hooks = {
  wasmFault(l, call, moved, threw) {
    const c = culprit(l);
    if (!c) return;
    const sp = `the stack pointer ${moved === 0 ? 'back in place' : `moved by ${moved} bytes`}`;
    if (threw && isTrap(threw.error)) record(c, { invariant: 'wasm-trap', message: `${call} trapped: ${describe(threw.error)}` }, l);
    else if (threw) record(c, { invariant: moved === 0 ? 'unwound' : 'stack', message: `${call} let ${describe(threw.error)} unwind through wasm (${sp})` }, l);
    else record(c, { invariant: 'stack', message: `${call} returned with ${sp}` }, l);
  },
  escaped(l, kind, error) {
    const c = culprit(l);
    if (c) record(c, { invariant: kind, message: typeof error === 'string' ? error : describeWhere(error) }, l);
  },
  sent(l, call) {
    const scope = context.getStore();
    if (scope && scope.l === l && scope.sent.length < 64) scope.sent.push(call);
  },
  nested(l, promise) {
    const c = culprit(l);
    if (!c) return;
    promise.then(
      (value) => {
        // A request answers with a response; the other calls with what they return.
        if (value && typeof value === 'object' && 'statusCode' in value) for (const f of checkResponse(value)) record(c, { ...f, message: `a nested request: ${f.message}` }, l);
      },
      (error) => {
        for (const f of checkError(l.mp, error)) record(c, { ...f, message: `a nested call: ${f.message}` }, l);
      },
    );
  },
  plan(l, advance) {
    const scope = context.getStore();
    if (!scope || scope.l !== l) return { plan: NORMAL, attempt: 0 };
    const attempt = scope.attempts;
    if (advance) scope.attempts += 1;
    return { plan: scope.plan, attempt };
  },
};

/** What reaches the process: blamed by its scope, else by the lane whose package root is in its stack trace. */
function escaped(kind, error, promise) {
  const scope = promise ? owners.get(promise) : context.getStore();
  const stack = String((error && error.stack) || '');
  const l = scope ? scope.l : [...alive].find((x) => stack.includes(x.root)) || lastLane;
  if (!l || l.broken) return;
  record(scope ? scope.c : l.lastCase, { invariant: kind, message: describeWhere(error) }, l);
}
process.on('uncaughtException', (error) => escaped('uncaught', error));
process.on('unhandledRejection', (error, promise) => escaped('unhandled', error, promise));

// ---- recording -------------------------------------------------------------

/**
 * Failures after which a lane's state cannot be trusted (a request left
 * half-done, commands skipped, a wedged engine): the lane is replaced after
 * the case, so that what it left behind is not blamed on later cases.
 */
const STATEFUL = new Set(['raw-error', 'hang', 'unhandled', 'uncaught', 'still-serves', 'stack', 'unwound', 'wasm-trap', 'memory']);

/** @param {Case} c @param {import('./check.mjs').Failure} f @param {Lane} l the lane it happened in */
function record(c, f, l) {
  if (STATEFUL.has(f.invariant)) l.broken = true;
  const tags = tagsOf(c);
  const known = KNOWN_OPEN.find((k) => k.match(f, tags));
  const r = { ...f, index: c.index, lane: c.lane, known: known?.id };
  failures.push(r);
  if (process.env.FUZZ_DUMP) appendFileSync(process.env.FUZZ_DUMP, `${JSON.stringify({ ...r, op: c.op, client: c.client, tags: [...tags] })}\n`);
  if (!r.known) newFailures += 1;
  if (!r.known && !flags.json && !flags.quiet && newFailures <= 20) {
    console.log(`✗ case ${c.index} (${c.lane} ${c.op}): ${f.invariant}: ${f.message}`);
    console.log(`  replay: ${replayHint(c.index)}`);
  }
}

/** The command that runs case `index` again. */
function replayHint(index) {
  if (flags.regression !== undefined) return `node tests/fuzz/run.mjs --regression ${flags.regression}`;
  if (flags.given !== undefined) return 'node tests/fuzz/run.mjs --given <the same case>';
  return `FUZZ_SEED=${seed} FUZZ_CASE=${index} node tests/fuzz/run.mjs`;
}

// ---- lanes -----------------------------------------------------------------

let emulator;
/** @type {Record<string, Lane | undefined>} */
const lanes = {};
/** Lanes replaced at a block's end while cases were parked in them: disposed once those end. */
const retired = new Set();

async function lane(kind) {
  if (!lanes[kind]) {
    if (kind === 'emulator' && !emulator) emulator = await startEmulator({ lifetimeMs: 24 * 3600 * 1000 });
    const l = new Lane(kind, { emulator, hooks });
    alive.add(l);
    lanes[kind] = await l.open();
  }
  return /** @type {Lane} */ (lanes[kind]);
}

/**
 * Takes a lane out of use. A broken one goes at once with its timers (its
 * parked cases are abandoned: what they would still do follows from the
 * failure that broke it); a healthy one, at a block's end, once its parked
 * cases end.
 * @param {Lane} l
 */
function retire(l) {
  if (lanes[l.kind] === l) lanes[l.kind] = undefined;
  if (l.broken) {
    for (const entry of parked) if (entry.scope.l === l) parked.delete(entry);
    l.parked = 0;
  }
  if (l.parked === 0) {
    alive.delete(l);
    retired.delete(l);
    l.dispose();
  } else {
    retired.add(l);
  }
}

// ---- one case --------------------------------------------------------------

/** Parked cases: started, not settled within QUICK_MS; checked until their deadline. */
const parked = new Set();

/** @param {Case} c @param {{ verbose?: boolean }} [options] */
async function runCase(c, options = {}) {
  const l = await lane(c.lane);
  lanesRun[c.lane] += 1;
  ran += 1;
  lastLane = l;
  l.lastCase = c;
  const scope = scopeOf(c, l, c.plan || NORMAL);
  await context.run(scope, async () => {
    // The emulator's faults are global: a parked case still retrying may meet them instead.
    if (c.fault) c.faultAlone = l.parked === 0;
    if (c.fault) emulator.inject(c.fault);
    if (c.offline) l.fz.setOnline(false);
    if (c.hidden) l.fz.appHidden(true);
    l.fz.target = l.clients[c.client || 'cloud'];
    const started = Date.now();
    const work = perform(l, c, l.fz.build(c.args)).then(
      (seen) => ({ seen }),
      (error) => ({ harness: error }),
    );
    let timer;
    const quick = await Promise.race([work, new Promise((r) => (timer = setTimeout(r, QUICK_MS[c.lane])))]);
    clearTimeout(timer);
    // Back online, back in front, outside the case: the replays and re-sends that follow are no part of it.
    if (c.offline) context.exit(() => l.fz.setOnline(true));
    if (c.hidden) context.exit(() => l.fz.appHidden(false));
    if (quick) {
      if (c.fault) c.faultServed = emulator.faultsLeft()[0] !== c.fault.count;
      await finish(scope, quick, options);
    } else {
      // Its faults are cleared at this case's end: what its later attempts meet is no longer its plan.
      if (c.fault) c.faultServed = false;
      parkedTotal += 1;
      const entry = { scope, deadline: started + DEADLINE_MS[c.lane], done: undefined };
      l.parked += 1;
      parked.add(entry);
      work.then((result) => {
        entry.done = result;
      });
      checkStack(c, l);
      // A fast case that takes this long is unusual: see that its client still serves.
      if (c.lane === 'fast' && !l.broken) await checkServes(c, l, l.clients[c.client]);
    }
    if (c.lane === 'fast' && c.index % SERVE_EVERY === SERVE_EVERY - 1) {
      for (const client of Object.values(l.clients)) if (!l.broken) await checkServes(c, l, client);
    }
    // A GET that joined one already in flight (a parked case's, the lane's check) got that call's
    // answer: no malformed answer was served for it, and its resolving breaks no rule.
    if (c.fault) {
      c.faultServed ??= emulator.faultsLeft()[0] !== c.fault.count;
      emulator.clearFaults();
    }
  });
  if (l.broken) retire(l);
}

/** Evaluates a case that ended: its calls' outcomes, what its platform got, then the lane's health. */
async function finish(scope, result, options) {
  const { c, l, sent } = scope;
  if (l.broken) return; // abandoned meanwhile
  if (result.harness) throw result.harness;
  const before = failures.length;
  for (const o of result.seen) {
    for (const f of checkObservation(l, o)) record(c, { ...f, message: `${o.what}: ${f.message}` }, l);
  }
  const request = result.seen.find((o) => o.what === 'request');
  if (request && c.lane !== 'emulator') {
    for (const f of checkFidelity(c.args, sent)) record(c, f, l);
  }
  for (const f of checkSentSizes(sent)) record(c, f, l);
  // Every answer was a 200 saying JSON with a broken body (the plan's, or the emulator's `malformed` fault).
  // A mock route's data is a value, handed on as it is (docs/errors.md): not a body cut off.
  // A GET that joined an identical one already in flight (an earlier case's) got that call's
  // answer, by that case's plan: only a case whose own calls met the broken bodies is held to it.
  const ownCalls = c.lane === 'emulator' || sent.length > 0;
  const brokenJson = (c.plan?.brokenJson && ownCalls) || (c.fault?.kind === 'malformed' && c.faultAlone && c.faultServed !== false);
  const value = /** @type {any} */ (request && request.value);
  if (request && brokenJson && request.status === 'resolved' && !value.fromCache && value.route !== 'mock') {
    record(c, { invariant: 'broken-json-resolved', message: 'a 200 with content-type JSON and a broken body resolved as a success' }, l);
  }
  checkStack(c, l);
  checkMemory(c, l);
  // A lane already known broken is replaced, not asked again.
  if (!l.broken && c.lane === 'scratch') await checkServes(c, l, null);
  else if (!l.broken && failures.length > before) await checkServes(c, l, l.clients[c.client || 'cloud']);
  l.sandbox.logs.length = 0;
  if (options.verbose) {
    console.log(JSON.stringify(c, null, 2).slice(0, 4000));
    for (const o of result.seen) console.log(`  ${o.what}: ${o.status} ${describeOutcome(o.value)}`);
  }
}

function describeOutcome(value) {
  if (value && typeof value === 'object' && 'statusCode' in value && 'route' in value) return `statusCode ${String(value.statusCode)} via ${value.route}`;
  if (value && typeof value === 'object' && 'kind' in value) return `${value.kind}: ${value.detail}`;
  return describe(value);
}

/** @param {Lane} l @param {import('./lanes.mjs').Observation} o */
function checkObservation(l, o) {
  if (o.status === 'threw' || o.status === 'rejected') {
    if (o.what === 'request' && o.status === 'threw') return [{ invariant: 'raw-error', message: `threw instead of rejecting: ${describe(o.value)}` }];
    return checkError(l.mp, o.value);
  }
  if (o.what === 'request' || o.what === 'request (the new client)') return checkResponse(o.value);
  // Frames of mp-request's never reach the app's listeners (docs/live.md).
  if (o.what === 'socket messages' && o.value.some((/** @type {unknown} */ m) => typeof m === 'string' && /^\s*\{\s*"\$mp"/.test(m))) {
    return [{ invariant: 'contract', message: `a frame of mp-request's reached a message listener: ${describe(o.value)}` }];
  }
  return [];
}

/** Between calls the stack pointer is where it started (Lane.watch names the call that moved it; this catches anything else). */
function checkStack(c, l) {
  if (!l.broken && l.sp() !== l.baseSp) {
    record(c, { invariant: 'stack', message: `the wasm stack pointer moved by ${l.sp() - l.baseSp} bytes` }, l);
  }
}

function checkMemory(c, l) {
  const bytes = l.memoryBytes();
  memoryPeak = Math.max(memoryPeak, bytes);
  if (bytes >= MEMORY_LIMIT && !l.broken) {
    record(c, { invariant: 'memory', message: `wasm memory grew to ${(bytes / 2 ** 20).toFixed(1)} MB` }, l);
  }
}

/**
 * Whether the lane still serves: `client`, or a new standard one (the scratch
 * lane's). It runs on a normal platform, blamed on case `c` if it does not.
 * @param {Case} c @param {Lane} l @param {any} client
 */
function checkServes(c, l, client) {
  return context.run(scopeOf(c, l, NORMAL), () => serves(c, l, client));
}

async function serves(c, l, client) {
  let fresh;
  try {
    fresh = client || (await l.standardClient());
  } catch (error) {
    record(c, { invariant: 'still-serves', message: `a standard createClient failed: ${describe(error)}` }, l);
    return;
  }
  const why = await l.serves(fresh);
  if (!client) fresh.destroy();
  if (why && !l.broken) {
    record(c, { invariant: 'still-serves', message: why }, l);
  }
  checkStack(c, l);
}

/** Settles parked cases that ended, and fails those past their deadline; with `all`, waits for every one. */
async function sweep(all = false) {
  while (parked.size > 0) {
    for (const entry of [...parked]) {
      if (!parked.has(entry)) continue; // abandoned with its lane meanwhile
      if (!entry.done && Date.now() <= entry.deadline) continue;
      parked.delete(entry);
      const { c, l } = entry.scope;
      l.parked -= 1;
      await context.run(entry.scope, async () => {
        if (entry.done) await finish(entry.scope, entry.done, {});
        else if (!l.broken) {
          record(c, { invariant: 'hang', message: `no outcome within ${DEADLINE_MS[c.lane]} ms` }, l);
        }
      });
      if (l.broken || (retired.has(l) && l.parked === 0)) retire(l);
    }
    if (!all) return;
    if (parked.size > 0) await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Ends a block: checks every lane still serves and starts afresh (parked
 * cases finish in their old lanes meanwhile; the end of the run waits for them).
 * @param {Case} c @param {boolean} last
 */
async function endBlock(c, last) {
  await sweep(last);
  for (const l of Object.values(lanes)) {
    if (!l) continue;
    await context.run(scopeOf(c, l, NORMAL), async () => {
      if (l.kind === 'scratch') await checkServes(c, l, null);
      else for (const client of Object.values(l.clients)) if (!l.broken) await checkServes(c, l, client);
      checkMemory(c, l);
    });
  }
  for (const l of Object.values(lanes)) if (l) retire(l);
  if (emulator) emulator.reset();
}

// ---- the run -----------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  if (flags.regression !== undefined || flags.given !== undefined) {
    const reg = flags.given !== undefined ? { name: 'given', case: JSON.parse(flags.given) } : REGRESSIONS.find((r) => r.name === flags.regression);
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
  for (let i = first; i <= last; i += 1) {
    const c = generateCase(seed, i);
    await runCase(c, { verbose: replay !== undefined && i === last });
    await sweep();
    if (i % BLOCK === BLOCK - 1 || i === last) await endBlock(c, i === last);
    if (!flags.json && !flags.quiet && i % 10_000 === 9_999) progress(t0);
  }
  return report(t0, {});
}

function progress(t0) {
  const cases = (known) => new Set(failures.filter((f) => Boolean(f.known) === known).map((f) => f.index)).size;
  console.log(`  … ${ran} cases, ${cases(false)} failed (new), ${cases(true)} known-open, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

function report(t0, extra) {
  const seconds = (Date.now() - t0) / 1000;
  const failedNew = new Set(failures.filter((f) => !f.known).map((f) => f.index)).size;
  const failedKnown = new Set(failures.filter((f) => f.known).map((f) => f.index)).size;
  /** Per category (a known-open entry, or a new failure's invariant): cases, the first one, an example. */
  const categories = {};
  const seen = new Set();
  for (const f of failures) {
    const id = f.known ? `known:${f.known}` : `new:${f.invariant}`;
    const cat = (categories[id] ??= { cases: 0, first: f.index, example: `${f.lane}: ${f.message}` });
    if (!seen.has(`${id}/${f.index}`)) {
      seen.add(`${id}/${f.index}`);
      cat.cases += 1;
    }
  }
  const unmatched = KNOWN_OPEN.filter((k) => !failures.some((f) => f.known === k.id)).map((k) => k.id);
  const summary = {
    seed,
    ran,
    failed: failedNew + (strict ? failedKnown : 0),
    failedNew,
    failedKnown,
    seconds,
    lanes: lanesRun,
    memoryPeakMB: Number((memoryPeak / 2 ** 20).toFixed(1)),
    parked: parkedTotal,
    categories,
    knownOpenUnmatched: unmatched,
    ...extra,
  };
  if (flags.json) {
    console.log(JSON.stringify(summary));
    return summary;
  }
  console.log(`fuzz: seed ${seed}: ${ran} cases in ${seconds.toFixed(1)} s (fast ${lanesRun.fast}, scratch ${lanesRun.scratch}, slow ${lanesRun.slow}, emulator ${lanesRun.emulator}); wasm memory peak ${summary.memoryPeakMB} MB; ${parkedTotal} finished in the background`);
  console.log(`failed: ${summary.failed} (${failedNew} new, ${failedKnown} known-open${strict ? ', counted: FUZZ_STRICT=1' : ''})`);
  for (const [id, cat] of Object.entries(categories).sort((a, b) => b[1].cases - a[1].cases)) {
    console.log(`  ${id}: ${cat.cases} cases; first: case ${cat.first} (${replayHint(cat.first)}): ${cat.example.slice(0, 200)}`);
  }
  if (replay === undefined && extra.regression === undefined && unmatched.length > 0) {
    console.log(`known-open entries that matched nothing in this run (fixed? then remove them from KNOWN_OPEN): ${unmatched.join(', ')}`);
  }
  return summary;
}

main().then(
  (summary) => {
    for (const l of alive) l.dispose();
    removeRoots();
    if (emulator) emulator.close();
    // Sandboxed timers may still be pending in disposed lanes: exit now.
    process.exit(summary.failed > 0 ? 1 : 0);
  },
  (error) => {
    console.error('fuzz: the harness itself failed:', error);
    removeRoots();
    process.exit(2);
  },
);
