// Microbenchmark of the mini-program bundle's UTF-8 encoder (js-shim/src/text-codec.js)
// against the fast-text-encoding polyfill's, both driven as wasm-bindgen's glue drives
// them (passStringToWasm0: its own ASCII-prefix loop, then `encodeInto` on the rest, or
// the glue's fallback `encode` + copy when an encoder has no `encodeInto`), in a realm
// without Buffer, as on a device. Not part of `make bench`.
//   node benches/utf8-encode.mjs [iterations]
//   node --jitless benches/utf8-encode.mjs 10000   (an interpreter, like iOS's JavaScriptCore)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { ROOT } from './subjects/paths.mjs';

const polyfill = readFileSync(join(ROOT, 'node_modules/fast-text-encoding/text.min.js'), 'utf8')
  .replace(/\}\(typeof window[^\n]*\)\);\s*$/, '}(scope));')
  .replace(/^/, 'const scope = {};\n');
const out = await esbuild.build({
  entryPoints: [join(ROOT, 'js-shim/src/text-codec.js')],
  bundle: true,
  write: false,
  format: 'cjs',
  target: 'es2017',
  plugins: [{
    name: 'vendor',
    setup(build) {
      build.onResolve({ filter: /^virtual:/ }, () => ({ path: 'x', namespace: 'v' }));
      build.onLoad({ filter: /.*/, namespace: 'v' }, () => ({
        contents: `${polyfill}\nexport const TextEncoder = scope.TextEncoder, TextDecoder = scope.TextDecoder;`,
      }));
    },
  }],
});
const context = vm.createContext({ now: () => performance.now() });
const load = (source) => {
  const module = vm.runInContext('({ exports: {} })', context);
  vm.compileFunction(source, ['module', 'exports'], { parsingContext: context })(module, module.exports);
  return module.exports.TextEncoder;
};
const encoders = {
  'text-codec.js': load(out.outputFiles[0].text),
  polyfill: load(`${polyfill}\nmodule.exports.TextEncoder = scope.TextEncoder;`),
};
/** A driver of one encoder, as the glue uses it, compiled in the realm. */
const driver = vm.runInContext(`(function (TextEncoder) {
  const enc = new TextEncoder();
  if (!('encodeInto' in enc)) enc.encodeInto = function (arg, view) { const buf = enc.encode(arg); view.set(buf); return { read: arg.length, written: buf.length }; };
  const mem = new Uint8Array(1 << 20);
  function pass(arg) {
    let len = arg.length; let offset = 0;
    for (; offset < len; offset++) { const code = arg.charCodeAt(offset); if (code > 0x7F) break; mem[offset] = code; }
    if (offset !== len) { if (offset !== 0) arg = arg.slice(offset); len = offset + arg.length * 3; offset += enc.encodeInto(arg, mem.subarray(offset, len)).written; }
    return offset;
  }
  return function run(sample, iterations) {
    let total = 0;
    const t0 = now();
    for (let i = 0; i < iterations; i++) total += pass(sample);
    return now() - t0 + total * 0;
  };
})`, context);

const SAMPLES = {
  'ASCII path+query (44 ch)': '/api/order/list?userId=2&page=1&pageSize=20',
  'ASCII JSON (1 KB)': JSON.stringify({ list: Array.from({ length: 30 }, (_, i) => ({ id: i, name: `item-${i}` })) }).slice(0, 1024),
  'CJK JSON (30 ch)': '{"msg":"网络错误，请重试","city":"北京"}',
  'CJK text (1 KB)': '服务暂时不可用，请稍后重试。'.repeat(73),
  'emoji + ASCII (34 ch)': '{"note":"hello 😀 world 😀 again 🎉"}',
};
const iterations = Number(process.argv[2] || 100_000);
const runs = Object.fromEntries(Object.entries(encoders).map(([name, E]) => [name, driver(E)]));
console.log(`ns per string, best of 7 runs of ${iterations}`);
console.log(`${''.padEnd(26)} ${Object.keys(runs).map((n) => n.padStart(14)).join('')}`);
for (const [name, sample] of Object.entries(SAMPLES)) {
  const cells = Object.values(runs).map((run) => {
    run(sample, Math.min(iterations, 2000));
    let best = Infinity;
    for (let r = 0; r < 7; r += 1) best = Math.min(best, run(sample, iterations));
    return ((best * 1e6) / iterations).toFixed(0).padStart(14);
  });
  console.log(`${name.padEnd(26)} ${cells.join('')}`);
}
