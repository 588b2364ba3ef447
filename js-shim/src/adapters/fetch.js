/**
 * The HTTP route outside the mini-program (browser, Node): `fetch` with the
 * semantics of `wx.request`: GET data becomes the query string, other data a
 * JSON body; JSON responses are parsed.
 */

/** @returns {import('../client.js').Adapter} */
export function createFetchAdapter() {
  return {
    async send(command, options, onAbort) {
      const controller = new AbortController();
      onAbort(() => controller.abort());
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, command.timeoutMs);
      try {
        const { url, body, header } = encode(/** @type {string} */ (command.url), command.method, options);
        const res = await fetch(url, { method: command.method, headers: header, body, signal: controller.signal });
        const text = await res.text();
        /** @type {Record<string, string>} */
        const headers = {};
        res.headers.forEach((value, key) => {
          headers[key] = value;
        });
        return { ok: true, statusCode: res.status, data: parse(text, res.headers.get('content-type')), header: headers };
      } catch (error) {
        const reason = timedOut ? 'timeout' : controller.signal.aborted ? 'abort' : error instanceof Error ? error.message : String(error);
        return { ok: false, errMsg: `request:fail ${reason}` };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * @param {string} url
 * @param {string} method
 * @param {import('../../types').RequestOptions} options
 */
function encode(url, method, options) {
  /** @type {Record<string, string>} */
  const header = {};
  for (const [name, value] of Object.entries(options.header || {})) header[name] = String(value);
  const data = options.data;
  if (data === undefined || data === null) return { url, body: undefined, header };
  if (method === 'GET' || method === 'HEAD') {
    if (typeof data !== 'object') return { url, body: undefined, header };
    const query = Object.entries(/** @type {Record<string, unknown>} */ (data))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v))}`)
      .join('&');
    return { url: query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url, body: undefined, header };
  }
  if (typeof data === 'string' || data instanceof ArrayBuffer) return { url, body: data, header };
  if (!Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) header['content-type'] = 'application/json';
  return { url, body: JSON.stringify(data), header };
}

/**
 * @param {string} text
 * @param {string | null} contentType
 */
function parse(text, contentType) {
  if (contentType && contentType.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
