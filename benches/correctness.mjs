// The correctness run of the mini-program bundle in Node (V8), before any
// figure (benches/run.mjs runs the same checks in jsc):
//   node benches/correctness.mjs
// Prints one JSON line: { checked: [...] } or { error }.
import { correctness } from './subjects/mp-request.mjs';

try {
  const checked = await correctness();
  process.stdout.write(`${JSON.stringify({ engine: 'v8', checked })}\n`);
  process.exit(0);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ engine: 'v8', error: String(error && error.stack ? error.stack : error) })}\n`);
  process.exit(1);
}
