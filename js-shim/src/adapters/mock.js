/**
 * The mock route: the engine picks the route (most specific pattern wins) and
 * captures its parameters; this adapter only produces its response.
 * A route answers with `response: { statusCode = 200, data, header }` or
 * `handler(req, params)` returning (or resolving to) that shape.
 */

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
