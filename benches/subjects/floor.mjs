// The floor: what the same work costs with nothing but an async function and
// a Map: parsing the JSON text, and no routing, validation, error mapping,
// eviction or statistics.
import { AUTH_HEADER, orderBody } from '../harness.mjs';

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend }) {
  const cache = new Map();
  const inFlight = new Map();
  const cached = (path, header) => async (id) => {
    const key = `${path}?id=${id}`;
    let value = cache.get(key);
    if (value === undefined) {
      value = JSON.parse(await backend(path, { id }, undefined, header));
      cache.set(key, value);
    }
    return value;
  };
  return {
    cached: cached('/api/cached/item'),
    cachedWithHeader: cached('/api/cached/item', AUTH_HEADER),
    cachedWithOption: cached('/api/opt/item'),
    cachedWithPriority: cached('/api/cached/item'),
    uncached: async (id) => JSON.parse(await backend('/api/live/item', { id })),
    uncachedWithHeader: async (id) => JSON.parse(await backend('/api/live/item', { id }, undefined, AUTH_HEADER)),
    post: async (id) => JSON.parse(await backend('/api/orders', undefined, orderBody(id))),
    shared(id) {
      const key = `/api/live/item?id=${id}`;
      let p = inFlight.get(key);
      if (!p) {
        p = backend('/api/live/item', { id })
          .then((text) => JSON.parse(text))
          .finally(() => inFlight.delete(key));
        inFlight.set(key, p);
      }
      return p;
    },
    async retried(id) {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return JSON.parse(await backend('/api/fail/item', { id }));
        } catch (error) {
          if (attempt === 3) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 300 * 2 ** attempt));
        }
      }
    },
  };
}
