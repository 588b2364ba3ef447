// @tanstack/query-core 5: QueryClient.fetchQuery with staleTime (the
// framework-free core of TanStack Query). Retries with its own `retry` option.
import { QueryClient } from '@tanstack/query-core';

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend }) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const get = (path, staleTime) => (id) =>
    client.fetchQuery({ queryKey: [path, { id }], queryFn: () => backend(path, { id }), staleTime });
  return {
    cached: get('/api/cached/item', 3_600_000),
    uncached: get('/api/live/item', 0),
    // A query being fetched hands its promise to every fetchQuery for the same key.
    shared: get('/api/live/item', 0),
    retried: (id) =>
      client.fetchQuery({
        queryKey: ['/api/fail/item', { id }],
        queryFn: () => backend('/api/fail/item', { id }),
        retry: 3,
      }),
  };
}
