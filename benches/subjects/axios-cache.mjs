// axios 1 with axios-cache-interceptor 1: its memory storage, an immediate
// adapter. axios has no retry of its own (axios-retry is another package), so
// scenario e has no row for it, and no request priorities: that shape is a plain hit.
// The adapter hands axios the backend's JSON text, which axios parses itself
// (its default transformResponse).
import Axios from 'axios';
import { setupCache } from 'axios-cache-interceptor';
import { AUTH_HEADER, orderBody } from '../harness.mjs';

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend }) {
  const api = setupCache(
    Axios.create({
      adapter: async (config) => ({
        data: await backend(config.url, config.params, config.data, config.headers),
        status: 200,
        statusText: 'OK',
        headers: {},
        config,
        request: {},
      }),
    }),
    { ttl: 3_600_000 },
  );
  const data = (res) => res.data;
  const headers = { ...AUTH_HEADER };
  return {
    cached: (id) => api.get('/api/cached/item', { params: { id } }).then(data),
    cachedWithHeader: (id) => api.get('/api/cached/item', { params: { id }, headers }).then(data),
    cachedWithOption: (id) => api.get('/api/opt/item', { params: { id }, cache: { ttl: 3_600_000 } }).then(data),
    cachedWithPriority: (id) => api.get('/api/cached/item', { params: { id } }).then(data),
    uncached: (id) => api.get('/api/live/item', { params: { id }, cache: false }).then(data),
    uncachedWithHeader: (id) => api.get('/api/live/item', { params: { id }, headers, cache: false }).then(data),
    post: (id) => api.post('/api/orders', orderBody(id)).then(data),
    // Concurrent identical requests wait for the first one only while caching is on.
    shared: (id) => api.get('/api/shared/item', { params: { id } }).then(data),
    retried: undefined,
  };
}
