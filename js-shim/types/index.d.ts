/** Public types of mp-request (the same for the mini-program, Node and web builds). */

/**
 * A cloud instance the app made and initialised itself: `new wx.cloud.Cloud({ resourceEnv, resourceAppid? })`
 * after `await instance.init()`, or `wx.cloud` after the app's own `wx.cloud.init`. mp-request calls its
 * `callContainer` and `connectContainer` and never its `init`.
 */
export interface CloudInstance {
  init(...args: any[]): unknown;
  callContainer(options: any): unknown;
  connectContainer(options: any): unknown;
}

export interface ClientOptions {
  /**
   * Cloud Run environment id, e.g. 'prod-5g94mx7a3d07e78c'. Enables the cloud route through the library's own
   * `new wx.cloud.Cloud({ resourceEnv: env })` (mp-request never calls `wx.cloud.init`: the app's stays the app's).
   */
  env?: string;
  /** Cloud Run service name (sent as X-WX-SERVICE). Required with `env` or `cloud`. */
  service?: string;
  /** Resource reuse: the appid owning the environment (the library's instance is made with it). Not with `cloud`. */
  resourceAppid?: string;
  /** Resource reuse: the environment id in that account. Defaults to `env`. Not with `cloud`. */
  resourceEnv?: string;
  /**
   * Mini-program: a cloud instance the app already made and initialised (see `CloudInstance`), used instead of the
   * library's own; enables the cloud route (`env` may then be left out: calls go to the instance's environment).
   * mp-request never calls its `init()`: await it before the first request.
   */
  cloud?: CloudInstance;
  /** Base URL of the plain HTTP route (`wx.request` / `fetch`); also the fallback when the cloud route is unavailable. */
  baseUrl?: string;
  /**
   * 'auto' (default): release builds use the real backend; the devtools with mock routes use them;
   * otherwise callContainer when wx.cloud and an env (or `cloud`) exist; otherwise HTTP against baseUrl.
   * 'cloud' | 'http' | 'mock' force a route (cloud falls back to HTTP when unavailable and baseUrl is set).
   */
  mode?: 'auto' | 'cloud' | 'http' | 'mock';
  /**
   * Mock routes: in the devtools by default ('auto'); never in a release build unless allowInRelease (then loudly).
   * passthrough: an unmatched request goes to the real backend instead of failing.
   */
  mock?: { routes?: MockRoute[]; enabled?: boolean | 'auto'; allowInRelease?: boolean; passthrough?: boolean };
  /** Retry policy for every request (a request's own `retry` overrides it field by field); false: no retries. */
  retry?: RetryOptions | boolean;
  /**
   * Token bucket per service that pays for retries (AWS SDK standard mode): when it is empty,
   * failures are returned without retrying. Default on: 500 tokens, 5 per retry, 10 after a timeout,
   * 1 back per success. false: retries are not budgeted.
   */
  retryBudget?: RetryBudgetOptions | boolean;
  /**
   * Circuit breaker per service: opens when failureRatio of at least minCalls attempts within windowMs
   * failed (timeouts, network errors, 5xx), then fails fast with kind 'service' (or falls back from
   * cloud to baseUrl) for openMs, then lets one probe through. Default on: failureRatio 0.5, minCalls 20,
   * windowMs 30000, openMs 5000. false: none.
   */
  breaker?: BreakerOptions | boolean;
  /** Attempts in flight at once per transport (cloud, HTTP), 1..100; the rest queue by priority. Default 10, wx.request's limit. */
  maxConcurrent?: number;
  /**
   * Bounds of the offline mutation queue (kept in wx storage under one key): maxItems 1..1000 (100),
   * maxBytes 1024..1024000 (512 KB), counted in bytes as stored (the JSON written), so the largest fits a key.
   */
  offlineQueue?: { maxItems?: number; maxBytes?: number };
  /** Per-attempt timeout in ms, 1..60000. Default 10000; the cloud link caps it at 15000. */
  timeoutMs?: number;
  /** Language of `RequestError.message`: 'zh-CN' (default) or 'en'. */
  locale?: string;
  /** Seed of the retry jitter (0..2^32-1), for reproducible schedules in tests. Default: random. */
  seed?: number;
  /** The result cache (see docs/cache.md). */
  cache?: CacheOptions;
  /** How `client.stats()` groups requests (see docs/stats.md). */
  stats?: StatsOptions;
  /**
   * Mini-program only: absolute path of the wasm in the code package. Default
   * '/miniprogram_npm/mp-request/mp_request.wasm.br' for the npm package (where 构建 npm puts it),
   * '/utils/mp-request/mp_request.wasm.br' for the folder copied from dist/miniprogram/.
   */
  wasmPath?: string;
  /** Log each route decision and outcome with console.log. */
  debug?: boolean;
  /** Hears how each queued mutation's replay ended, from the first one (replays may start with the client). */
  onSync?: (event: SyncEvent) => void;
  /**
   * Headers for every request: an object (validated once), or a function called for every attempt,
   * retries and offline-queue replays included, so a refreshed token is always the one sent. It returns
   * an object of strings, or a Promise of one; what it returns is validated like a request's `header`.
   * A request's own `header` wins over these for the same name. They are not part of cache keys
   * (partition users with `setUser`); a request's own flat `header` is part of its key, and repeats stay on the fast path either way.
   */
  header?: Record<string, string> | (() => Record<string, string> | PromiseLike<Record<string, string>>);
  /**
   * Fleet reports (see docs/fleet.md): what `stats()` gained since the last report is POSTed to `path` on the
   * client's route every `everyMs` (1000..86400000, default 60000) and when the app goes to the background,
   * from a `sample` (0..1, default 1) of devices. Off by default; never in mock mode.
   */
  report?: ReportOptions;
  /**
   * Failures also go to WeChat's realtime log (`wx.getRealtimeLogManager`, warn level: kind, path pattern,
   * route, callID, attempts; never a header, a body or a query value) where it exists. Default true.
   */
  realtimeLog?: boolean;
}

/** What a `client.watch` listener hears. */
export interface WatchEvent<T = any> {
  /** The query's value: `{ statusCode, data, header }` (the last one heard, with an error). */
  response?: { statusCode: number; data: T; header: Record<string, string> };
  /** Why a fetch of it failed; `response` is then the last value heard, if any. */
  error?: RequestError;
}

/** `report` of `createClient`. */
export interface ReportOptions {
  /** Where reports go, e.g. '/api/fleet/report' (a path on the client's route, no query). */
  path: string;
  /** How often, in ms: 1000..86400000. Default 60000. */
  everyMs?: number;
  /** The share of devices that report, 0..1 (the same devices every launch). Default 1. */
  sample?: number;
}

export interface RequestOptions {
  /** Path on the service, starting with '/'; may carry a query string. */
  path: string;
  /**
   * GET (default), HEAD, OPTIONS, POST, PUT, DELETE or PATCH; any case. The cloud route takes GET, POST,
   * PUT and DELETE only (callContainer refuses the others with errCode 102005): the others fail there with
   * kind 'invalid' before anything is sent; use the HTTP route (`baseUrl`) for them.
   */
  method?: string;
  /**
   * The body: an object (sent as JSON, or as a form with a `application/x-www-form-urlencoded` content
   * type), a string (sent as it is) or an ArrayBuffer (a copy is taken at the call). For GET and HEAD an
   * object, sent as the query string. What is sent is what was passed at the call: changing the object
   * afterwards changes nothing.
   */
  data?: unknown;
  /** Extra request headers (over the client's `header`). */
  header?: Record<string, string | number | boolean>;
  /** Per-attempt timeout in ms for this request. */
  timeoutMs?: number;
  /**
   * Insist on a route; refused with kind 'invalid' when it is unavailable (no fallback); 'cloud' on a base library
   * older than 2.23.0: kind 'init', naming the version.
   */
  route?: 'cloud' | 'http' | 'mock';
  /** This request's retry policy; false: no retries. */
  retry?: RetryOptions | boolean;
  /**
   * Safe to send twice. Default: true for GET, HEAD, OPTIONS, PUT, DELETE; false for POST, PATCH.
   * 'auto': the engine makes one Idempotency-Key for this operation, sent with every attempt, so a POST
   * may be retried after it could have reached the server (the server answers a repeat with the first result).
   */
  idempotent?: boolean | 'auto';
  /** Sent as the Idempotency-Key header with every attempt (1–255 visible ASCII characters); makes the request retryable. */
  idempotencyKey?: string;
  /** Place in the queue when maxConcurrent attempts are in flight: 'high' (page data) before 'normal' (default) before 'low' (prefetch). */
  priority?: 'high' | 'normal' | 'low';
  /**
   * 'queue' (mutations only): when the device is offline, or the call fails with kind offline or network,
   * the mutation is kept in storage and replayed in order when the network returns or the app starts,
   * with an idempotency key; the request rejects with `queued: true`. Outcomes reach `client.onSync`.
   */
  offline?: 'queue';
  /** Cancels the request: it rejects with kind 'cancelled' and is never retried. */
  signal?: AbortSignalLike;
  /**
   * false: no cache and no sharing; 'reload': refetch and store;
   * { ttlMs, staleMs, tags, private, reload }: cache this GET (private: even with Authorization/Cookie, in the user's partition).
   */
  cache?: false | 'reload' | { ttlMs?: number; staleMs?: number; tags?: string[]; private?: boolean; reload?: boolean };
}

export interface SocketOptions {
  /** Cloud Run service; default 'ws' (the seed's). */
  service?: string;
  /** Default '/'. */
  path?: string;
  /**
   * cloud (connectContainer), http (wx.connectSocket to baseUrl as ws), mock (in-memory echo, not in release builds).
   * On a base library older than 2.23.0 the cloud route is out: baseUrl, or `client.socket()` throws kind 'init'.
   */
  route?: 'cloud' | 'http' | 'mock';
  /**
   * Headers of the opening handshake of every connection (connectContainer's and wx.connectSocket's `header`;
   * Node's WebSocket sends them too). Checked like a request's header (at most 64, 16 KB). A browser's WebSocket
   * cannot send headers: there `client.socket()` throws (put a token in the path's query or the first message).
   * Sockets with another header (another token) are other connections.
   */
  header?: Record<string, string>;
  /** Reconnect delay window: from minDelayMs (1000) growing by factor (1.5) up to maxDelayMs (10000), full jitter. */
  minDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  /** Give up after this many reconnects in a row (default: never). */
  maxAttempts?: number;
  /** Default 10000. */
  connectTimeoutMs?: number;
  /** The backoff starts over after a connection lasted this long (default 5000). */
  minUptimeMs?: number;
  /**
   * Unset (the default): a ping `{"type":"ping","t":…}` every heartbeatIntervalMs keeps the socket busy (Cloud Run
   * gateways reclaim idle sockets), and silence means dead only once the service has answered a ping (a pong
   * `{"type":"pong"}`, or the ping echoed back): a service that ignores pings is never reconnected for being quiet.
   * true: silence means dead from the start (a service known to answer pings). false: no pings, no silence check.
   */
  heartbeat?: boolean;
  /** Ping interval (default 10000) and the silence that means dead (default 25000). */
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** Outbox bounds (default 1000 messages, 1 MB). */
  outboxMaxMessages?: number;
  outboxMaxBytes?: number;
  /** Messages carry ids and are resent after a reconnect until the server acks them. */
  acked?: boolean;
}

export interface ManagedSocket {
  readonly state: 'idle' | 'connecting' | 'open' | 'reconnecting' | 'paused' | 'closed' | 'failed';
  /** The route it connects over. */
  readonly route: 'cloud' | 'http' | 'mock';
  /** The current SocketTask (changes with every reconnect), for the seed's app.globalData.socketTask. */
  readonly task: WechatMiniprogram.SocketTask | undefined;
  /** Sends now when open, queues otherwise; throws a RequestError when the outbox is full or the socket closed. */
  send(data: unknown): void;
  /** Lets go; the last handle closes the connection, which then never reconnects. */
  close(): void;
  on(name: 'open', listener: () => void): this;
  on(name: 'message', listener: (event: { data: unknown }) => void): this;
  on(name: 'close', listener: (event: { code: number; reason: string; reconnecting: boolean }) => void): this;
  /** `unsent`: what was sent through this socket and will never be sent (refused by the platform with no room to keep it, closed, failed), as given (non-strings as JSON). */
  on(name: 'error', listener: (event: { detail: string; unsent?: string[] }) => void): this;
  on(name: 'reconnecting', listener: (event: { attempt: number; delayMs: number }) => void): this;
  on(name: 'state', listener: (event: { state: string }) => void): this;
  off(name: string, listener: (event: any) => void): this;
}

export interface CacheOptions {
  /** Default 200. */
  maxEntries?: number;
  /** Default 2 MB (estimated: JSON text of each response + 64). */
  maxBytes?: number;
  /** TTLs by path pattern; the most specific matching rule applies. */
  rules?: Array<{ path: string; ttlMs: number; staleMs?: number; tags?: string[] }>;
  /** What a successful mutation (non-GET) matching `path` invalidates besides its own path. */
  invalidations?: Array<{ method?: string; path: string; prefixes?: string[]; tags?: string[] }>;
  /** Restore entries from storage at start and save them as they change. */
  persist?: boolean;
  /** Default 512 KB. */
  persistMaxBytes?: number;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
  staleServes: number;
  /** Stale entries a `304 Not Modified` made fresh again (their ETag or Last-Modified asked; no body moved). */
  revalidations: number;
  /** Invalidations services pushed over managed sockets (`{"$mp":1,"type":"invalidate",…}`, see docs/live.md) and acted on. */
  pushedInvalidations: number;
  /** Frames of mp-request's (`"$mp"`) ignored: another version, an unknown type, malformed. Never handed to listeners. */
  ignoredFrames: number;
}

export interface StatsOptions {
  /** Path patterns rows are named by (`/api/order/:id`, `/api/home/*`); the most specific match wins. Other paths: id-like segments become `:id`. */
  patterns?: string[];
  /** Rows kept, 1..1000 (default 64); further paths are counted in one `(other)` row per route. */
  maxPatterns?: number;
}

/** Latency of requests answered by the network (cache hits excluded), ms; percentiles within 12.5 %. */
export interface LatencyStats {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** `[upperBoundMs, count]` of each non-empty histogram bucket, shortest first. */
  buckets: Array<[number, number]>;
}

export interface StatsRow {
  /** Requests settled: answered, failed, or served from the cache. */
  requests: number;
  failed: number;
  /** Failed requests by error kind (kinds seen only). */
  errors: Partial<Record<ErrorKind, number>>;
  /** Attempts after the first. */
  retries: number;
  cacheHits: number;
  /** cacheHits / requests (0 without requests). */
  hitRatio: number;
  /** Stale entries refreshed by a `304 Not Modified`: the stored response kept, no body moved. */
  revalidated: number;
  /** Callers waiting for the network now. */
  inFlight: number;
  latency: LatencyStats;
}

export interface Stats {
  /** Every row together. */
  total: StatsRow;
  /** One per (route, path pattern), busiest first. */
  rows: Array<StatsRow & { route: 'cloud' | 'http' | 'mock'; pattern: string }>;
  /** Paths folded into `(other)` since the last reset (an upper bound). */
  folded: number;
  /** Cloud (with an env) and HTTP (with a baseUrl): breaker and retry budget now. */
  services: ServiceStats[];
}

/** Why a request went as it did (with `debug: true`), decided and recorded by the engine. */
export interface Explain {
  /** The route of the last attempt, and why. */
  route: 'cloud' | 'http' | 'mock';
  routeReason: string;
  /** What the cache did, and why. */
  cache: 'hit' | 'stale' | 'miss' | 'shared' | 'bypass';
  cacheReason: string;
  /** Each attempt: when it started (ms from the request's start), its timeout, how it ended, what followed. */
  attempts: Array<{ attempt: number; route: 'cloud' | 'http' | 'mock'; atMs: number; timeoutMs: number; outcome: string; decision: string }>;
  /** A wait for a slot, a breaker's refusal or fallback. */
  notes: string[];
  /** The route's breaker and retry budget when it settled. */
  breaker: ServiceStats['breaker'];
  budget: ServiceStats['budget'];
}

/** A mutation waiting in the offline queue. */
export interface PendingMutation {
  id: number;
  method: string;
  path: string;
  header: Record<string, string>;
  data: unknown;
  idempotencyKey: string;
  /** The user (`client.setUser`) it was made under, or null: it replays only while that user is current. */
  user: string | null;
  /** When it was queued, epoch ms. */
  queuedAt: number;
  /** Replays that failed for a reason that may pass (it stays queued). */
  attempts: number;
}

/**
 * How a queued mutation ended for good: its replay succeeded or failed in a way that will not pass,
 * `dropPending` dropped it (kind 'cancelled'), or it was found damaged in storage at start (kind
 * 'invalid', no `data`).
 */
export type SyncEvent = PendingMutation &
  ({ ok: true; response: { data: unknown; statusCode: number; header: Record<string, string> } } | { ok: false; error: RequestError });

export interface RetryBudgetOptions {
  /** Tokens when full, 1..100000. Default 500. */
  capacity?: number;
  /** Spent by a retry. Default 5. */
  retryCost?: number;
  /** Spent by a retry after a timeout. Default 10. */
  timeoutCost?: number;
  /** Put back by a success that needed no retry (a retried success returns its retry's cost). Default 1. */
  successRefill?: number;
}

export interface BreakerOptions {
  /** Sliding window the failures are counted over, ms. Default 10000. */
  windowMs?: number;
  /** Fewer attempts in the window never open it. Default 10. */
  minCalls?: number;
  /** Share of failed attempts that opens it, above 0 and at most 1. Default 0.5. */
  failureRatio?: number;
  /** How long it stays open before one probe, ms. Default 5000. */
  openMs?: number;
}

/** A service the client calls, with its breaker and retry budget (null when turned off). */
export interface ServiceStats {
  route: 'cloud' | 'http';
  breaker: { state: 'closed' | 'open' | 'half_open'; calls: number; failures: number; retryInMs: number; opened: number } | null;
  budget: { tokens: number; capacity: number } | null;
  /** Attempts in flight on this transport now, and requests queued for one of its maxConcurrent slots. */
  inFlight: number;
  queued: number;
}

export interface RetryOptions {
  /** Retries after the first attempt, 0..10. Default 3. */
  limit?: number;
  /** Window of the first retry's jittered delay, ms. Default 300. */
  baseMs?: number;
  /** Largest window (and the most a Retry-After is honoured for), ms. Default 5000. */
  capMs?: number;
  /** No attempt starts or runs past this, from the request's start, ms. Default 30000. */
  deadlineMs?: number;
}

export interface MockRequest {
  /** The path as sent, with its query (a GET's data is in it). */
  path: string;
  method: string;
  /** What a server would receive: the query's parameters (strings) for GET and HEAD, the parsed body otherwise. */
  data: unknown;
  /** The query's parameters, decoded. */
  query: Record<string, string>;
  /** Every header sent (the client's, the request's, the Idempotency-Key). */
  header: Record<string, string>;
}

export interface MockResponse {
  statusCode?: number;
  data?: unknown;
  header?: Record<string, string>;
}

export interface MockRoute {
  /** Any method when omitted. */
  method?: string;
  /** '/api/order/:id', '/api/home/*' (the most specific matching route answers). */
  path: string;
  /** A fixed answer... */
  response?: MockResponse;
  /** ...or a function of the request and the captured parameters... */
  handler?: (req: MockRequest, params: Record<string, string>) => MockResponse | Promise<MockResponse>;
  /** ...or a failure of this kind, as the platform would report it. */
  error?: 'network' | 'timeout' | 'service' | 'unauthorized' | 'rate_limited' | 'http';
  /** Simulated latency before answering. */
  delayMs?: number;
}

export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener?(type: 'abort', listener: () => void): void;
}

/** An AbortController for runtimes without one (mini-program devices). */
export declare function createAbortController(): { signal: AbortSignalLike; abort(reason?: unknown): void };

export interface Response<T = any> {
  data: T;
  statusCode: number;
  header: Record<string, string>;
  /** The route that answered. */
  route: 'cloud' | 'http' | 'mock';
  /** Why that route, e.g. 'env configured and wx.cloud available'. */
  routeReason: string;
  /** Attempts made. */
  attempts: number;
  /** Served from the cache. The `data` object is shared with the cache and other callers: do not mutate it. */
  fromCache: boolean;
  /** Served from the cache after its TTL, while one background refresh runs. */
  stale: boolean;
  /** callContainer's call id (cloud route). */
  callID?: string;
  /** From the request call to the response, in ms. */
  elapsedMs: number;
  /** With `debug: true`: why it went as it did. */
  explain?: Explain;
}

export interface Client {
  request<T = any>(options: RequestOptions): Promise<Response<T>>;
  /**
   * Scopes cached entries and queued writes to a user (null: anonymous): no request ever gets another
   * user's entries, a queued write replays only while its user is current, and a request made under
   * another user sends no further attempt.
   */
  setUser(user: string | null): void;
  /** Drops cached entries under a path prefix ('/api/order/') or with a tag; returns how many. Watched ones are refetched. */
  invalidate(target: string | { tag: string }): number;
  /**
   * Watches a GET the cache keeps (a cache rule for its path, or `cache: { ttlMs }`): `listener` hears its
   * value at once (from the cache, or once fetched) and again whenever its entry changes (a refresh that
   * stored a new answer, a refetch after an invalidation); a failure as `{ error, response }` with the last
   * value heard. Watching one query twice shares one entry and one fetch; invalidations close together
   * refetch it once, and not while the app is hidden. Returns the unsubscribe (call it in `onUnload`).
   */
  watch<T = any>(options: RequestOptions, listener: (event: WatchEvent<T>) => void): () => void;
  cacheStats(): CacheStats;
  /** What the client did per route and path pattern. */
  stats(): Stats;
  /** Clears the statistics (requests in flight stay counted). */
  resetStats(): void;
  /**
   * A managed socket, shared by (route, service, path); at most 5 distinct ones. Bad options throw
   * here. The socket engine is a wasm module of its own, loaded on the first call: until it is
   * ready the socket is `connecting`, and a `send()` it would refuse (a full outbox) is reported as
   * an `error` event with the message in `unsent` instead of throwing. `prepareSockets()` loads it first.
   */
  socket(options?: SocketOptions): ManagedSocket;
  /**
   * Loads the socket engine now (`mp_request_sockets.wasm(.br)`, next to the request engine's), so
   * that sockets opened later start at once. Rejects with a RequestError when it cannot be loaded.
   */
  prepareSockets(): Promise<void>;
  /** Mutations waiting in the offline queue, oldest first. */
  pending(): PendingMutation[];
  /**
   * Drops queued writes of `user` (null: those made with no user; omitted: the current user's), e.g. on
   * logout when they must not be sent; each is reported to `onSync` as a failure of kind 'cancelled'.
   * Returns how many.
   */
  dropPending(user?: string | null): number;
  /** Listens to the outcome of each replayed mutation (success, or a failure that will not pass); returns the unsubscribe. */
  onSync(listener: (event: SyncEvent) => void): () => void;
  /** Frees the engine's wasm memory (explicitly: FinalizationRegistry may be absent). */
  destroy(): void;
}

export type ErrorKind =
  | 'network'
  | 'timeout'
  | 'service'
  | 'init'
  | 'http'
  | 'unauthorized'
  | 'rate_limited'
  | 'offline'
  | 'cancelled'
  | 'invalid';

export declare class RequestError extends Error {
  readonly name: 'RequestError';
  readonly kind: ErrorKind;
  /** What a user reads (zh-CN by default). */
  readonly message: string;
  /** What a developer reads: the platform's errMsg, or what was invalid. */
  readonly detail: string;
  readonly code: number | null;
  readonly statusCode: number | null;
  readonly retryable: boolean;
  readonly attempts: number;
  readonly route: 'cloud' | 'http' | 'mock' | null;
  /** The mutation went to the offline queue (`offline: 'queue'`): it will be sent when the network returns. */
  readonly queued: boolean;
  /** Its id in `client.pending()` and in `onSync` reports. */
  readonly queueId?: number;
  /** With `debug: true`: why it went as it did. */
  readonly explain?: Explain;
  readonly cause?: unknown;
  static is(value: unknown): value is RequestError;
}

export declare function createClient(options: ClientOptions): Promise<Client>;

/** Mini-program build only: the default `wasmPath`. */
export declare const DEFAULT_WASM_PATH: string;

declare global {
  /**
   * miniprogram-api-typings' namespace, which `ManagedSocket.task` names. Declared (and merged with the
   * typings' when a mini-program project has them) so that the types also load in Node and web projects.
   */
  namespace WechatMiniprogram {
    interface SocketTask {}
  }
}
