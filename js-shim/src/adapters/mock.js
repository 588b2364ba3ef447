/**
 * The mock route: the engine picks the route (most specific pattern wins) and
 * captures its parameters; this adapter only produces its response.
 * A route answers with `response: { statusCode = 200, data, header }`,
 * `handler(req, params)` returning (or resolving to) that shape, or
 * `error: kind`, simulated as the platform reports such a failure (the
 * engine classifies it as usual). `delayMs` waits first.
 */

/** How each injectable error reaches the engine: as the platform would report it. */
const INJECTED = {
  network: { ok: false, errMsg: 'mock:fail network error (injected)', errno: 600001 },
  timeout: { ok: false, errMsg: 'mock:fail timeout (injected)', errno: 5 },
  service: { ok: true, statusCode: 503, data: { message: 'injected' }, header: {} },
  unauthorized: { ok: true, statusCode: 401, data: { message: 'injected' }, header: {} },
  rate_limited: { ok: true, statusCode: 429, data: { message: 'injected' }, header: {} },
  http: { ok: true, statusCode: 400, data: { message: 'injected' }, header: {} },
};

/**
 * @param {ReadonlyArray<import('../../types').MockRoute>} routes A copy taken at createClient.
 * @returns {import('../client.js').Adapter}
 */
export function createMockAdapter(routes) {
  return {
    async send(command, options) {
      const match = /** @type {{ index: number, params: Record<string, string> }} */ (command.mock);
      const route = routes[match.index];
      const req = { path: options.path, method: command.method, data: options.data, header: { ...options.header } };
      if (route.delayMs) await new Promise((resolve) => setTimeout(resolve, route.delayMs));
      if (route.error) return { ...INJECTED[route.error] };
      try {
        const res = route.handler ? await route.handler(req, match.params) : route.response;
        if (!res || typeof res !== 'object') {
          return { ok: false, errMsg: `mock:fail the route for ${route.path} answered ${typeof res}, not { statusCode, data, header }` };
        }
        return { ok: true, statusCode: res.statusCode ?? 200, data: res.data, header: { ...res.header } };
      } catch (error) {
        // By shape: the handler's Error may come from another realm.
        const message = error && typeof error === 'object' && 'message' in error ? error.message : error;
        return { ok: false, errMsg: `mock:fail the handler for ${route.path} threw: ${String(message)}` };
      }
    },
  };
}
