// One scenario for one library, in a process of its own (Node, V8):
//   node --expose-gc benches/scenario.mjs <scenario> <subject> [entries] [--runs=N]
// Prints one JSON line: microseconds per operation (median and spread over
// the timed runs) and what reached the backend per operation. The scenarios
// themselves are in scenarios.mjs, shared with the JavaScriptCore runs.
import { runScenario } from './scenarios.mjs';

const argv = process.argv.slice(2);
const [scenario, subjectName, entriesArg] = argv.filter((a) => !a.startsWith('--'));
const runsArg = argv.find((a) => a.startsWith('--runs='));
const entries = Number(entriesArg || 0);
const { results, virtualMs } = await runScenario({
  scenario,
  entries,
  runs: runsArg ? Number(runsArg.slice(7)) : undefined,
  // Imported when the scenario asks for it: after the virtual clock (e) is installed.
  create: async (options) => (await import(`./subjects/${subjectName}.mjs`)).create(options),
  later: (fn, value) => setImmediate(fn, value),
});
const out = { engine: 'v8', scenario, subject: subjectName, entries: entries || undefined, results, virtualMs };
process.stdout.write(`${JSON.stringify(out)}\n`);
// Some libraries keep timers (garbage collection of queries, cleanup intervals) alive.
process.exit(0);
