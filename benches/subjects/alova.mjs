// alova 3: memory cache (its default l1 cache), a custom immediate adapter,
// cacheLogger off. Retries through alova/server's `retry` hook. alova has no
// request priorities: that shape is a plain hit. The adapter parses the
// backend's JSON text, as a platform adapter would.
import { createAlova } from 'alova';
import { retry } from 'alova/server';
import { AUTH_HEADER, orderBody } from '../harness.mjs';

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend }) {
  const alova = createAlova({
    cacheLogger: false,
    cacheFor: null,
    // As real adapters do, the call starts when the adapter is called and
    // `response()` hands out its promise (shared requests call it again).
    requestAdapter: (elements, method) => {
      const answer = backend(method.url, method.config.params, elements.data, elements.headers).then((text) => JSON.parse(text));
      return { response: () => answer, headers: () => Promise.resolve({}), abort() {} };
    },
  });
  const get = (url, cacheFor, headers) => (id) => alova.Get(url, { params: { id }, cacheFor, headers });
  const failing = get('/api/fail/item', 0);
  return {
    cached: get('/api/cached/item', 3_600_000),
    cachedWithHeader: get('/api/cached/item', 3_600_000, AUTH_HEADER),
    cachedWithOption: get('/api/opt/item', 3_600_000),
    cachedWithPriority: get('/api/cached/item', 3_600_000),
    uncached: get('/api/live/item', 0),
    uncachedWithHeader: get('/api/live/item', 0, AUTH_HEADER),
    post: (id) => alova.Post('/api/orders', orderBody(id)),
    // shareRequest is on by default: identical requests in flight share one call.
    shared: get('/api/live/item', 0),
    retried: (id) => retry(failing(id), { retry: 3, backoff: { delay: 300, multiplier: 2 } }).send(),
  };
}
