// The driver of every jsc process of the bench, bundled by engine.mjs with one
// subject (an IIFE the shell runs after prelude.js):
//   jsc --useJIT=false prelude.js scenario-<subject>.js -- '<json>'
// where <json> is { mode: 'scenario' | 'correctness', scenario, entries, runs?, paths, profile?, noQuit? }.
// Prints one JSON line, as benches/scenario.mjs does in Node, then quits (some
// libraries keep timers alive).
import { runScenario } from '../scenarios.mjs';

/**
 * @param {{ subject: string, load: () => Promise<any> }} options
 *   `load` imports the subject's module (lazily: after the virtual clock of e is installed).
 */
export function main({ subject, load }) {
  const g = /** @type {any} */ (globalThis);
  const args = JSON.parse(g.arguments[0]);
  g.__benchPaths = args.paths;
  const done = (out) => {
    g.print(JSON.stringify({ engine: 'jsc', subject, ...out }));
    // `jsc --sample` prints its report at a normal exit only (benches/profile-jsc.mjs --raw).
    if (!args.noQuit) g.quit(0);
  };
  const failed = (error) => {
    g.print(JSON.stringify({ engine: 'jsc', subject, error: String(error && error.stack ? `${error}\n${error.stack}` : error) }));
    g.quit(1);
  };
  /** Stack traces of the sampling profiler over the timed runs (benches/profile-jsc.mjs). */
  const traces = [];
  if (args.profile) {
    let started = false;
    g.__benchTimedRuns = {
      start() {
        if (!started) g.startSamplingProfiler();
        started = true;
        g.samplingProfilerStackTraces();
      },
      stop() {
        for (const t of g.samplingProfilerStackTraces().traces) {
          traces.push(t.frames.map((f) => [f.name, f.category, f.line, f.column, f.sourceID]));
        }
      },
    };
  }
  let run;
  if (args.mode === 'correctness') {
    run = load().then((m) => m.correctness()).then((checked) => ({ checked }));
  } else {
    run = runScenario({
      scenario: args.scenario,
      entries: args.entries || 0,
      runs: args.runs,
      create: async (options) => (await load()).create(options),
      later: (fn, value) => setTimeout(fn, 0, value),
    }).then(({ results, virtualMs }) => ({
      scenario: args.scenario,
      entries: args.entries || undefined,
      results,
      virtualMs,
      traces: args.profile ? traces : undefined,
    }));
  }
  run.then(done, failed);
}
