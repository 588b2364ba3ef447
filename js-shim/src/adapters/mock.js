/**
 * The mock route: the engine picks the route (most specific pattern wins) and
 * captures its parameters; this adapter only produces its response.
 * A route answers with `response: { statusCode = 200, data, header }`,
 * `handler(req, params)` returning (or resolving to) that shape, or
 * `error: kind`, simulated as the platform reports such a failure (the
 * engine classifies it as usual). `delayMs` waits first.
 */
import { answered } from '../outcome.js';
import { describe } from '../report.js';

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
    async send(command, kept) {
      const match = /** @type {{ index: number, params: Record<string, string> }} */ (command.mock);
      const route = routes[match.index];
      // What a server would receive: the query (strings) of a GET, the body of anything else.
      const query = queryOf(command.path);
      const data = command.method === 'GET' || command.method === 'HEAD' ? query : bodyOf(command.body === true ? kept : command.body);
      const req = { path: command.path, method: command.method, data, query, header: { ...(command.header || {}) } };
      if (route.delayMs) await new Promise((resolve) => setTimeout(resolve, route.delayMs));
      if (route.error) return { ...INJECTED[route.error] };
      try {
        const res = route.handler ? await route.handler(req, match.params) : route.response;
        if (!res || typeof res !== 'object') {
          return { ok: false, errMsg: `mock:fail the route for ${route.path} answered ${typeof res}, not { statusCode, data, header }`, fault: true };
        }
        // A malformed answer is the app's code's fault, as a throw is.
        return answered(res, 'mock', { defaultStatus: 200, fault: true });
      } catch (error) {
        return { ok: false, errMsg: `mock:fail the handler for ${route.path} threw: ${describe(error)}`, fault: true };
      }
    },
  };
}

/**
 * The parameters of a path's query, decoded.
 * @param {string} path
 * @returns {Record<string, string>}
 */
function queryOf(path) {
  /** @type {Record<string, string>} */
  const query = {};
  const at = path.indexOf('?');
  if (at < 0) return query;
  for (const pair of path.slice(at + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const [key, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    query[decode(key)] = decode(value);
  }
  return query;
}

/** @param {string} text */
function decode(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * A body as a handler sees it: JSON parsed, anything else as it is.
 * @param {string | ArrayBuffer | undefined} body
 */
function bodyOf(body) {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
