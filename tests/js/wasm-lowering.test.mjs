// The memory.copy / memory.fill helpers scripts/lower-wasm.mjs puts in the
// shipped wasm (8 bytes per iteration) against a reference memmove/memset:
// every size up to 80 bytes and some large ones, overlapping both ways, and
// the traps of out-of-bounds ranges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { lowerToMvp } from '../../scripts/lower-wasm.mjs';

const WAT = `(module
  (memory (export "memory") 1)
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))`;

async function lowered() {
  const source = binaryen.parseText(WAT);
  source.setFeatures(binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt);
  const bytes = source.emitBinary();
  source.dispose();
  const out = lowerToMvp(bytes);
  const { instance } = await WebAssembly.instantiate(out, {});
  return { out, exports: /** @type {any} */ (instance.exports) };
}

test('the lowered module has no bulk-memory instruction left', async () => {
  const { out } = await lowered();
  const mod = binaryen.readBinary(out);
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.MutableGlobals);
  assert.ok(mod.validate(), 'validates as MVP');
  assert.doesNotMatch(mod.emitText(), /memory\.(copy|fill)/);
  mod.dispose();
});

test('copies like memmove: every small size, large sizes, overlapping both ways', async () => {
  const { exports } = await lowered();
  const mem = new Uint8Array(exports.memory.buffer);
  const reset = () => {
    for (let i = 0; i < 8192; i += 1) mem[i] = (i * 31 + 7) & 0xff;
  };
  // Every size through two 32-byte rounds, the 8-byte loop and the byte tail, then some large ones.
  const sizes = [...Array.from({ length: 81 }, (_, i) => i), 95, 96, 97, 1000, 4097];
  for (const n of sizes) {
    for (const [dst, src] of [[100, 3000], [3000, 100], [200, 203], [203, 200], [500, 508], [508, 500], [700, 700], [901, 899]]) {
      reset();
      const expected = mem.slice();
      expected.copyWithin(dst, src, src + n);
      exports.copy(dst, src, n);
      assert.deepEqual(mem.subarray(0, 8192), expected.subarray(0, 8192), `copy(${dst}, ${src}, ${n})`);
    }
  }
});

test('fills like memset: every small size and large ones, only the byte given', async () => {
  const { exports } = await lowered();
  const mem = new Uint8Array(exports.memory.buffer);
  for (const n of [...Array.from({ length: 41 }, (_, i) => i), 1000, 4097]) {
    mem.fill(0x11, 0, 8192);
    const expected = mem.slice();
    expected.fill(0xab, 301, 301 + n);
    exports.fill(301, 0x1ab, n);
    assert.deepEqual(mem.subarray(0, 8192), expected.subarray(0, 8192), `fill(301, 0xab, ${n})`);
  }
});

test('out-of-bounds ranges trap, as memory.copy and memory.fill do', async () => {
  const { exports } = await lowered();
  const size = exports.memory.buffer.byteLength;
  assert.throws(() => exports.copy(size - 4, 0, 8), WebAssembly.RuntimeError);
  assert.throws(() => exports.copy(0, size - 4, 8), WebAssembly.RuntimeError);
  assert.throws(() => exports.fill(size - 4, 0, 8), WebAssembly.RuntimeError);
  exports.copy(size - 8, 0, 8);
  exports.fill(size - 8, 1, 8);
});
