/**
 * The UTF-8 codec the wasm-bindgen glue needs, in module scope. Mini-program
 * devices have no TextEncoder/TextDecoder (the devtools do, which hides it),
 * and the glue constructs both when it loads. The build injects these classes
 * for the glue's global references (esbuild `inject`), so nothing global is
 * touched. The conversion itself is the fast-text-encoding polyfill.
 */
// @ts-ignore: a virtual module the build provides (scripts/build-bundle.mjs)
import { TextEncoder as Utf8Encoder, TextDecoder as Utf8Decoder } from 'virtual:fast-text-encoding';

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

export class TextEncoder {
  constructor() {
    this.encoder = new Utf8Encoder();
    this.encoding = 'utf-8';
  }

  /**
   * @param {string} [text]
   * @returns {Uint8Array}
   */
  encode(text = '') {
    return this.encoder.encode(text);
  }
}
