// Lowers a wasm module to MVP + mutable globals with binaryen's own passes,
// then replaces the `memory.copy` / `memory.fill` helpers those passes add
// (one byte per iteration) with ones that move 8 bytes per iteration. The
// prebuilt std uses bulk memory everywhere, so every memcpy of the engine
// runs through these helpers: on a miss they were 14% of the time in Node,
// and iOS may interpret wasm.
import binaryen from 'binaryen';

const FEATURES_IN =
  binaryen.Features.MVP |
  binaryen.Features.MutableGlobals |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.SignExt |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.ReferenceTypes |
  binaryen.Features.Multivalue;

/**
 * @param {Uint8Array} bytes
 * @returns {Uint8Array} the module with bulk memory, sign-ext and non-trapping
 *   float-to-int lowered (still to be optimised and validated as MVP)
 */
export function lowerToMvp(bytes) {
  const mod = binaryen.readBinary(bytes);
  try {
    mod.setFeatures(FEATURES_IN);
    mod.runPasses(['llvm-memory-copy-fill-lowering', 'signext-lowering', 'llvm-nontrapping-fptoint-lowering']);
    replace(mod, '__memory_copy', memoryCopy);
    replace(mod, '__memory_fill', memoryFill);
    dropGlobalExports(mod);
    if (!mod.validate()) throw new Error('the lowered module does not validate');
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/**
 * Removes exported globals: iOS's WXWebAssembly has no `Global`, and the two
 * wasm-bindgen exports (`__abort_handler`, `__instance_terminated`) are read
 * by no glue this bundle ships. wasm-opt then drops the globals if unused.
 */
function dropGlobalExports(mod) {
  const names = [];
  for (let i = 0; i < mod.getNumExports(); i += 1) {
    const info = binaryen.getExportInfo(mod.getExportByIndex(i));
    if (info.kind === binaryen.ExternalGlobal) names.push(info.name);
  }
  for (const name of names) mod.removeExport(name);
}

/** Swaps the body of `name` (if the passes made it) for `build(mod)`. */
function replace(mod, name, build) {
  const existing = mod.getFunction(name);
  if (!existing) return;
  const info = binaryen.getFunctionInfo(existing);
  mod.removeFunction(name);
  const { vars, body } = build(mod);
  mod.addFunction(name, info.params, info.results, vars, body);
}

const i32 = binaryen.i32;

/** Traps (as memory.copy / memory.fill do) when `[ptr, ptr + n)` leaves the memory. */
function boundsTrap(mod, ptr, n) {
  const end = mod.i32.shl(mod.memory.size(), mod.i32.const(16));
  return mod.if(mod.i32.lt_u(end, mod.i32.add(ptr, n)), mod.unreachable());
}

/**
 * memmove(dst = $0, src = $1, n = $2), $3 the offset: forward when dst <= src,
 * backward otherwise, so overlapping ranges copy as memory.copy does.
 */
function memoryCopy(mod) {
  // Fresh nodes at every use: a binaryen expression has one parent.
  const get = (i) => mod.local.get(i, i32);
  const at = (base) => mod.i32.add(get(base), get(3));
  const left = () => mod.i32.sub(get(2), get(3));
  // 32 bytes per iteration while they last: an interpreter pays per
  // instruction, and most copies are moves of structs of a few hundred bytes.
  const copy8 = (offset) =>
    mod.i64.store(offset, 1, at(0), mod.i64.load(offset, 1, at(1)));
  const forward = mod.block(null, [
    mod.local.set(3, mod.i32.const(0)),
    mod.block('fw32', [
      mod.loop('fw32l', mod.block(null, [
        mod.br('fw32', mod.i32.lt_u(left(), mod.i32.const(32))),
        copy8(0),
        copy8(8),
        copy8(16),
        copy8(24),
        mod.local.set(3, mod.i32.add(get(3), mod.i32.const(32))),
        mod.br('fw32l'),
      ])),
    ]),
    mod.block('fw8', [
      mod.loop('fw8l', mod.block(null, [
        mod.br('fw8', mod.i32.lt_u(left(), mod.i32.const(8))),
        mod.i64.store(0, 1, at(0), mod.i64.load(0, 1, at(1))),
        mod.local.set(3, mod.i32.add(get(3), mod.i32.const(8))),
        mod.br('fw8l'),
      ])),
    ]),
    mod.block('fw1', [
      mod.loop('fw1l', mod.block(null, [
        mod.br('fw1', mod.i32.ge_u(get(3), get(2))),
        mod.i32.store8(0, 1, at(0), mod.i32.load8_u(0, 1, at(1))),
        mod.local.set(3, mod.i32.add(get(3), mod.i32.const(1))),
        mod.br('fw1l'),
      ])),
    ]),
  ]);
  const backward = mod.block(null, [
    mod.local.set(3, get(2)),
    mod.block('bw8', [
      mod.loop('bw8l', mod.block(null, [
        mod.br('bw8', mod.i32.lt_u(get(3), mod.i32.const(8))),
        mod.local.set(3, mod.i32.sub(get(3), mod.i32.const(8))),
        mod.i64.store(0, 1, at(0), mod.i64.load(0, 1, at(1))),
        mod.br('bw8l'),
      ])),
    ]),
    mod.block('bw1', [
      mod.loop('bw1l', mod.block(null, [
        mod.br('bw1', mod.i32.eqz(get(3))),
        mod.local.set(3, mod.i32.sub(get(3), mod.i32.const(1))),
        mod.i32.store8(0, 1, at(0), mod.i32.load8_u(0, 1, at(1))),
        mod.br('bw1l'),
      ])),
    ]),
  ]);
  return {
    vars: [i32],
    // No bounds check up front: every load and store checks its own, so a
    // copy out of bounds still traps (after the part that fits, which Rust's
    // memcpy never asks for). Two checks per call were most of a short copy.
    body: mod.if(mod.i32.le_u(get(0), get(1)), forward, backward),
  };
}

/** memset(dst = $0, byte = $1, n = $2), $3 the offset, $4 the byte repeated 8 times. */
function memoryFill(mod) {
  // Fresh nodes at every use: a binaryen expression has one parent.
  const get = (i) => mod.local.get(i, i32);
  const at = () => mod.i32.add(get(0), get(3));
  const left = () => mod.i32.sub(get(2), get(3));
  const repeated = mod.i64.mul(
    mod.i64.extend_u(mod.i32.and(get(1), mod.i32.const(0xff))),
    mod.i64.const(0x0101010101010101n),
  );
  return {
    vars: [i32, binaryen.i64],
    body: mod.block(null, [
      boundsTrap(mod, get(0), get(2)),
      mod.local.set(3, mod.i32.const(0)),
      mod.local.set(4, repeated),
      mod.block('f8', [
        mod.loop('f8l', mod.block(null, [
          mod.br('f8', mod.i32.lt_u(left(), mod.i32.const(8))),
          mod.i64.store(0, 1, at(), mod.local.get(4, binaryen.i64)),
          mod.local.set(3, mod.i32.add(get(3), mod.i32.const(8))),
          mod.br('f8l'),
        ])),
      ]),
      mod.block('f1', [
        mod.loop('f1l', mod.block(null, [
          mod.br('f1', mod.i32.ge_u(get(3), get(2))),
          mod.i32.store8(0, 1, at(), get(1)),
          mod.local.set(3, mod.i32.add(get(3), mod.i32.const(1))),
          mod.br('f1l'),
        ])),
      ]),
    ]),
  };
}
