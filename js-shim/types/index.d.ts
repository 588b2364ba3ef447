/** Public types of mp-request (the same for the mini-program, Node and web builds). */

export interface ClientOptions {
  /** Cloud Run environment id, e.g. 'prod-5g94mx7a3d07e78c'. Enables the cloud route. */
  env?: string;
  /** Cloud Run service name (sent as X-WX-SERVICE). Required with `env`. */
  service?: string;
  /** Resource reuse: the appid owning the environment (`new wx.cloud.Cloud`). */
  resourceAppid?: string;
  /** Resource reuse: the environment id in that account. Defaults to `env`. */
  resourceEnv?: string;
  /** Base URL of the plain HTTP route (`wx.request` / `fetch`). */
  baseUrl?: string;
  /** Per-attempt timeout in ms, 1..60000. Default 10000; the cloud link caps it at 15000. */
  timeoutMs?: number;
  /** Language of `RequestError.message`: 'zh-CN' (default) or 'en'. */
  locale?: string;
  /** Mini-program only: absolute path of the wasm in the code package. Default '/utils/mp-request/mp_request.wasm.br'. */
  wasmPath?: string;
  /** Log each route decision and outcome with console.log. */
  debug?: boolean;
}

export interface RequestOptions {
  /** Path on the service, starting with '/'; may carry a query string. */
  path: string;
  /** GET (default), HEAD, OPTIONS, POST, PUT, DELETE or PATCH; any case. */
  method?: string;
  /** Body (or query, for GET); must be serializable as JSON. */
  data?: unknown;
  /** Extra request headers. */
  header?: Record<string, string | number | boolean>;
  /** Per-attempt timeout in ms for this request. */
  timeoutMs?: number;
}

export interface Response<T = any> {
  data: T;
  statusCode: number;
  header: Record<string, string>;
  /** The route that answered: 'cloud' or 'http'. */
  route: 'cloud' | 'http';
  /** Attempts made. */
  attempts: number;
  /** Served from the cache. */
  fromCache: boolean;
  /** callContainer's call id (cloud route). */
  callID?: string;
  /** From the request call to the response, in ms. */
  elapsedMs: number;
}

export interface Client {
  request<T = any>(options: RequestOptions): Promise<Response<T>>;
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
  readonly route: 'cloud' | 'http' | null;
  readonly cause?: unknown;
  static is(value: unknown): value is RequestError;
}

export declare function createClient(options: ClientOptions): Promise<Client>;

/** Mini-program build only: the default `wasmPath`. */
export declare const DEFAULT_WASM_PATH: string;
