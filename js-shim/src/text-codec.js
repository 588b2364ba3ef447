/**
 * The UTF-8 codec the wasm-bindgen glue needs, in module scope. Mini-program
 * devices have no TextEncoder/TextDecoder (the devtools do, which hides it),
 * and the glue constructs both when it loads. The build injects these classes
 * for the glue's global references (esbuild `inject`), so nothing global is
 * touched. Decoding is the fast-text-encoding polyfill's; encoding is done
 * here (see `TextEncoder`).
 */
// @ts-ignore: a virtual module the build provides (scripts/build-bundle.mjs)
import { TextDecoder as Utf8Decoder } from 'virtual:fast-text-encoding';

/** Longest ASCII run decoded by `String.fromCharCode` (well within every engine's argument limit). */
const ASCII_FAST_MAX = 1024;

export class TextDecoder {
  /**
   * Accepts the options the glue passes (`fatal`, `ignoreBOM`); the polyfill
   * refuses `fatal`. Text from wasm is valid UTF-8 by construction, so
   * `fatal` never changes the result here.
   * @param {string} [label]
   * @param {{ fatal?: boolean, ignoreBOM?: boolean }} [options]
   */
  constructor(label = 'utf-8', options = {}) {
    this.decoder = new Utf8Decoder(label);
    this.encoding = 'utf-8';
    this.fatal = Boolean(options.fatal);
    this.ignoreBOM = Boolean(options.ignoreBOM);
  }

  /**
   * @param {Uint8Array} [bytes] The glue calls `decode()` once with nothing.
   * @returns {string}
   */
  decode(bytes) {
    if (bytes === undefined || bytes.length === 0) return '';
    // Most strings from wasm (command fields, routes, kinds, paths) are short
    // ASCII: one pass and one native call, instead of the polyfill's decoder.
    if (bytes.length <= ASCII_FAST_MAX) {
      let i = 0;
      while (i < bytes.length && bytes[i] < 0x80) i += 1;
      if (i === bytes.length) return String.fromCharCode.apply(null, /** @type {any} */ (bytes));
    }
    const text = this.decoder.decode(bytes);
    return !this.ignoreBOM && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}

/**
 * UTF-8 exactly as the native TextEncoder writes it, lone surrogates
 * included: each becomes U+FFFD (EF BF BD). The polyfill drops a lone high
 * surrogate ('/a\uD800b' would be sent as '/ab' and share its cache entry)
 * and writes a lone low one as bytes that are not UTF-8 (which Rust's
 * strings must never hold). `encodeInto` writes straight into the wasm
 * memory the glue hands it, with no copy in between.
 */
export class TextEncoder {
  constructor() {
    this.encoding = 'utf-8';
  }

  /**
   * @param {string} [text]
   * @returns {Uint8Array}
   */
  encode(text = '') {
    const s = String(text);
    const bytes = new Uint8Array(s.length * 3);
    return bytes.slice(0, this.encodeInto(s, bytes).written);
  }

  /**
   * The glue calls this for the rest of a string after its ASCII prefix,
   * with room for 3 bytes per UTF-16 unit (enough: a pair takes 4 for 2).
   * Stops before a character that does not fit, as the native one does.
   * @param {string} text
   * @param {Uint8Array} into
   * @returns {{ read: number, written: number }}
   */
  encodeInto(text, into) {
    const length = text.length;
    const room = into.length;
    let read = 0;
    let written = 0;
    while (read < length) {
      let c = text.charCodeAt(read);
      if (c < 0x80) {
        if (written === room) break;
        into[written++] = c;
        read += 1;
        continue;
      }
      let units = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = c <= 0xdbff && read + 1 < length ? text.charCodeAt(read + 1) : 0;
        if (next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          units = 2;
        } else {
          c = 0xfffd;
        }
      }
      if (c < 0x800) {
        if (written + 2 > room) break;
        into[written++] = 0xc0 | (c >> 6);
      } else if (c < 0x10000) {
        if (written + 3 > room) break;
        into[written++] = 0xe0 | (c >> 12);
        into[written++] = 0x80 | ((c >> 6) & 0x3f);
      } else {
        if (written + 4 > room) break;
        into[written++] = 0xf0 | (c >> 18);
        into[written++] = 0x80 | ((c >> 12) & 0x3f);
        into[written++] = 0x80 | ((c >> 6) & 0x3f);
      }
      into[written++] = 0x80 | (c & 0x3f);
      read += units;
    }
    return { read, written };
  }
}
