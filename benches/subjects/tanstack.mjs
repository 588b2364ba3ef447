// @tanstack/query-core 5: QueryClient.fetchQuery with staleTime (the
// framework-free core of TanStack Query). Retries with its own `retry` option;
// a POST is a mutation through one MutationObserver, as `useMutation` makes it.
// TanStack has no request priorities: that shape is a plain hit. Its fetchers
// parse the backend's JSON text, as a platform adapter would.
import { MutationObserver, QueryClient } from '@tanstack/query-core';
import { AUTH_HEADER, orderBody } from '../harness.mjs';

const parse = (/** @type {string} */ text) => JSON.parse(text);

/** @type {import('../harness.mjs').CreateSubject} */
export async function create({ backend }) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  // The header goes to the fetcher; as usual with TanStack, it is not part of the key.
  const get = (path, staleTime, header) => (id) =>
    client.fetchQuery({ queryKey: [path, { id }], queryFn: () => backend(path, { id }, undefined, header).then(parse), staleTime });
  const mutation = new MutationObserver(client, { mutationFn: (body) => backend('/api/orders', undefined, body).then(parse) });
  return {
    cached: get('/api/cached/item', 3_600_000),
    cachedWithHeader: get('/api/cached/item', 3_600_000, AUTH_HEADER),
    cachedWithOption: get('/api/opt/item', 3_600_000),
    cachedWithPriority: get('/api/cached/item', 3_600_000),
    uncached: get('/api/live/item', 0),
    uncachedWithHeader: get('/api/live/item', 0, AUTH_HEADER),
    post: (id) => mutation.mutate(orderBody(id)),
    // A query being fetched hands its promise to every fetchQuery for the same key.
    shared: get('/api/live/item', 0),
    retried: (id) =>
      client.fetchQuery({
        queryKey: ['/api/fail/item', { id }],
        queryFn: () => backend('/api/fail/item', { id }).then(parse),
        retry: 3,
      }),
  };
}
