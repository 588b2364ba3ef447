// A small typed usage of everything public, checked by `tsc` (never run):
// what a team writes compiles, and the misuses marked @ts-expect-error do not.
import {
  createAbortController,
  createClient,
  RequestError,
  type Client,
  type ErrorKind,
  type ManagedSocket,
  type Response,
  type Stats,
} from '../types/index';

interface Order {
  orderNo: string;
  amount: number;
}

export async function typedUsage(): Promise<void> {
  const client: Client = await createClient({
    env: 'prod-5g94mx7a3d07e78c',
    service: 'golang-lfwy',
    resourceAppid: 'wx101090677bd5219e',
    timeoutMs: 10_000,
    locale: 'en',
    retry: { limit: 2, baseMs: 300 },
    cache: { rules: [{ path: '/api/home/*', ttlMs: 60_000, tags: ['home'] }], persist: true },
    stats: { patterns: ['/api/order/:id'], maxPatterns: 32 },
    report: { path: '/api/fleet/report', everyMs: 60_000, sample: 0.5 },
    realtimeLog: true,
    mock: {
      enabled: 'auto',
      routes: [
        { method: 'GET', path: '/api/order/:id', handler: (req, params) => ({ data: { id: params.id, path: req.path } }) },
        { path: '/api/home/*', response: { statusCode: 200, data: { banners: [] } }, delayMs: 50 },
      ],
    },
    debug: true,
    header: async () => ({ Authorization: 'Bearer token' }),
    onSync: (event) => void [event.id, event.user, event.ok ? event.response.statusCode : event.error.kind],
  });
  await createClient({ env: 'prod-5g94mx7a3d07e78c', service: 'golang-lfwy', header: { 'X-App': 'shop' } });
  // The app's own cloud instance (made and initialised by the app), or wx.cloud after its own init.
  const cloud = new wx.cloud.Cloud({ resourceAppid: 'wx101090677bd5219e', resourceEnv: 'prod-5g94mx7a3d07e78c' });
  await cloud.init();
  await createClient({ cloud, service: 'golang-lfwy' });
  await createClient({ cloud: wx.cloud, service: 'golang-lfwy', env: 'prod-5g94mx7a3d07e78c' });

  const controller = createAbortController();
  const res: Response<{ list: Order[] }> = await client.request<{ list: Order[] }>({
    path: '/api/order/list',
    method: 'GET',
    data: { page: 1, pageSize: 10 },
    signal: controller.signal,
    cache: { ttlMs: 5_000 },
  });
  const first: Order | undefined = res.data.list[0];
  const route: 'cloud' | 'http' | 'mock' = res.route;
  void [first, route, res.statusCode, res.attempts, res.fromCache, res.elapsedMs];
  controller.abort();

  try {
    await client.request({ path: '/api/test', method: 'POST', idempotent: true, retry: false });
  } catch (error) {
    if (RequestError.is(error)) {
      const kind: ErrorKind = error.kind;
      void [kind, error.message, error.detail, error.statusCode, error.retryable];
    }
  }

  client.setUser('o-user');
  const mine: number = client.dropPending() + client.dropPending('o-user') + client.dropPending(null);
  const owners: (string | null)[] = client.pending().map((m) => m.user);
  void [mine, owners];
  const dropped: number = client.invalidate({ tag: 'home' }) + client.invalidate('/api/order/');
  void [dropped, client.cacheStats().hits];

  const stats: Stats = client.stats();
  const p95: number = stats.total.latency.p95Ms;
  const timeouts: number | undefined = stats.rows[0]?.errors.timeout;
  void [p95, timeouts, stats.rows.map((r) => `${r.route} ${r.pattern} ${r.hitRatio}`)];
  client.resetStats();

  const socket: ManagedSocket = client.socket({ service: 'ws', path: '/', acked: true });
  socket
    .on('open', () => socket.send({ type: 'hello' }))
    .on('message', (event) => void event.data)
    .on('reconnecting', ({ attempt, delayMs }) => void [attempt, delayMs]);
  socket.close();
  client.destroy();

  // @ts-expect-error path is required
  await client.request({ method: 'GET' });
  // @ts-expect-error not an error kind
  const wrong: ErrorKind = 'teapot';
  // @ts-expect-error maxPatterns is a number
  await createClient({ stats: { maxPatterns: '64' } });
  // @ts-expect-error a report needs the path it goes to
  await createClient({ report: { everyMs: 60_000 } });
  // @ts-expect-error header values are strings
  await createClient({ header: { 'X-Count': 1 } });
  // @ts-expect-error `cloud` is an instance, not an env id
  await createClient({ cloud: 'prod-5g94mx7a3d07e78c', service: 'golang-lfwy' });
  void wrong;
}
