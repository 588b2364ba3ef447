// A small seeded PRNG. Each case gets its own stream from (seed, index), so a
// case is the same whatever ran before it, and one case can be regenerated
// from the two numbers printed with a failure.

/** @param {string} text @returns {number} a 32-bit hash (cyrb53's mixing, folded) */
function hash(text) {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 ^ h2) >>> 0;
}

/**
 * @typedef {object} Rng
 * @property {() => number} next A float in [0, 1).
 * @property {(lo: number, hi: number) => number} int An integer in [lo, hi].
 * @property {(p: number) => boolean} chance
 * @property {<T>(items: readonly T[]) => T} pick
 * @property {<T>(table: ReadonlyArray<[number, T]>) => T} weighted Picks by weight.
 * @property {(lo: number, hi: number) => number} logInt An integer in [lo, hi], log-uniform (small sizes common, large ones rare).
 */

/**
 * mulberry32 over a hash of the seed and the case index.
 * @param {number | string} seed @param {number} index @returns {Rng}
 */
export function caseRng(seed, index) {
  let a = hash(`${seed}/${index}`);
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    weighted(table) {
      let total = 0;
      for (const [w] of table) total += w;
      let r = next() * total;
      for (const [w, v] of table) {
        r -= w;
        if (r < 0) return v;
      }
      return table[table.length - 1][1];
    },
    logInt: (lo, hi) => Math.min(hi, Math.floor(Math.exp(Math.log(lo) + next() * (Math.log(hi + 1) - Math.log(lo))))),
  };
}
