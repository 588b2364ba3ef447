// The shipped files: an MVP(+mutable globals) wasm with no i64 at the
// boundary, a .wasm.br of the same bytes, and a CommonJS bundle that asks its
// host for nothing a device lacks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import vm from 'node:vm';
import { brotliDecompressSync } from 'node:zlib';
import { bundleDir, repo } from './support.mjs';

const wasmFile = join(bundleDir, 'mp_request.wasm');
const bin = (name) => join(repo, 'node_modules/.bin', name);

/** wasm-opt validates its input against the enabled features; exit 0 = valid. */
function validatesWith(file, features) {
  try {
    execFileSync(bin('wasm-opt'), [file, ...features, '-o', '/dev/null'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

test('the wasm validates with only MVP features plus mutable globals', () => {
  assert.ok(validatesWith(wasmFile, ['--mvp-features', '--enable-mutable-globals']));
  // The check can fail: the unlowered wasm-pack output uses post-MVP instructions.
  assert.equal(validatesWith(join(repo, 'pkg/mp_request_bg.wasm'), ['--mvp-features', '--enable-mutable-globals']), false);
});

test('no wasm Global is exported or imported (iOS WXWebAssembly has no Global)', () => {
  const mod = new WebAssembly.Module(readFileSync(wasmFile));
  const globals = (list) => list.filter((e) => e.kind === 'global').map((e) => e.name);
  assert.deepEqual(globals(WebAssembly.Module.exports(mod)), []);
  assert.deepEqual(globals(WebAssembly.Module.imports(mod)), []);
  // The check can fail: wasm-bindgen's own output exports two.
  assert.ok(globals(WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(repo, 'pkg/mp_request_bg.wasm'))))).length > 0);
});

test('no post-MVP instruction and no i64 in any export or import', () => {
  const wat = execFileSync(bin('wasm-dis'), [wasmFile], { maxBuffer: 64 * 1024 * 1024 }).toString();
  const postMvp = /\b(memory\.(copy|fill|init)|data\.drop|i(32|64)\.extend(8|16|32)_s|trunc_sat|ref\.(null|func|is_null)|table\.(get|set|grow|size|fill)|return_call|v128)\b/;
  assert.doesNotMatch(wat, postMvp);
  const funcs = new Map();
  for (const m of wat.matchAll(/^ \(func (\$\S+) (.*)$/gm)) funcs.set(m[1], m[2]);
  const exported = [...wat.matchAll(/^ \(export "([^"]+)" \(func (\$\S+)\)\)/gm)];
  assert.ok(exported.length >= 5, 'exports found');
  for (const [, name, ref] of exported) {
    assert.doesNotMatch(funcs.get(ref) || '', /i64/, `export ${name}`);
  }
  for (const m of wat.matchAll(/^ \(import "[^"]+" "([^"]+)" \(func \S+ (.*)\)\)$/gm)) {
    assert.doesNotMatch(m[2], /i64/, `import ${m[1]}`);
  }
  const module = new WebAssembly.Module(readFileSync(wasmFile));
  assert.deepEqual(WebAssembly.Module.customSections(module, 'target_features'), []);
});

test('.wasm.br holds the same bytes', () => {
  const raw = readFileSync(wasmFile);
  const br = readFileSync(`${wasmFile}.br`);
  assert.ok(br.length < raw.length * 0.6);
  assert.deepEqual(brotliDecompressSync(br), raw);
});

test('the bundle is CommonJS that needs nothing a device lacks', () => {
  const source = readFileSync(join(bundleDir, 'index.js'), 'utf8');
  assert.doesNotMatch(source, /import\.meta|\bimport\s*\(|^\s*import\s|^\s*export\s/m, 'no ES module syntax');
  assert.doesNotMatch(source, /new Function|\beval\(/, 'no code from strings');
  assert.doesNotMatch(source, /require\(["'][^.]/, 'only relative requires');
  assert.doesNotMatch(source, /\bWebAssembly\.|instanceof WXWebAssembly/, 'no global WebAssembly');
  assert.doesNotMatch(source, /instantiateStreaming|\bfetch\(/, 'no fetch');
  // It loads in a bare realm with only `module`/`exports`: nothing is read from the host at load time.
  const context = vm.createContext({}, { codeGeneration: { strings: false, wasm: false } });
  for (const name of ['WebAssembly', 'FinalizationRegistry', 'WeakRef', 'BigInt']) vm.runInContext(`delete globalThis.${name}`, context);
  const module = vm.runInContext('({ exports: {} })', context);
  vm.compileFunction(source, ['module', 'exports'], { parsingContext: context })(module, module.exports);
  assert.equal(typeof module.exports.createClient, 'function');
  assert.equal(module.exports.DEFAULT_WASM_PATH, '/utils/mp-request/mp_request.wasm.br');
});

test('the bundled UTF-8 codec accepts the glue\'s options and round-trips every plane', async () => {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [join(repo, 'js-shim/src/text-codec.js')],
    bundle: true,
    write: false,
    format: 'cjs',
    plugins: [{
      name: 'vendor',
      setup(build) {
        build.onResolve({ filter: /^virtual:/ }, () => ({ path: 'x', namespace: 'v' }));
        build.onLoad({ filter: /.*/, namespace: 'v' }, () => ({
          contents: readFileSync(join(repo, 'node_modules/fast-text-encoding/text.min.js'), 'utf8')
            .replace(/\}\(typeof window[^\n]*\)\);\s*$/, '}(scope));')
            .replace(/^/, 'const scope = {};\n') + '\nexport const TextEncoder = scope.TextEncoder, TextDecoder = scope.TextDecoder;',
        }));
      },
    }],
  });
  const context = vm.createContext({});
  const module = vm.runInContext('({ exports: {} })', context);
  vm.compileFunction(out.outputFiles[0].text, ['module', 'exports'], { parsingContext: context })(module, module.exports);
  const { TextEncoder, TextDecoder } = module.exports;
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
  assert.equal(decoder.decode(), '');
  const text = '\uFEFFa网络错误😀\u0000é';
  const bytes = new TextEncoder().encode(text);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(text, 'utf8'));
  assert.equal(decoder.decode(bytes), text, 'ignoreBOM keeps the BOM');
  assert.equal(new TextDecoder('utf-8').decode(bytes), text.slice(1), 'without ignoreBOM the BOM goes');
  // ASCII takes a shortcut up to 1024 bytes: both sides of it, and a non-ASCII byte at either end.
  for (const sample of ['x', 'cloud', 'a'.repeat(1024), 'b'.repeat(1025), `é${'c'.repeat(1000)}`, `${'d'.repeat(1000)}é`, '\u0000\u007f']) {
    assert.equal(decoder.decode(new TextEncoder().encode(sample)), sample, `${sample.length} characters`);
  }
});
