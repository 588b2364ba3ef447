/**
 * The HTTP route outside the mini-program (browser, Node): `fetch` of what the
 * engine validated (the URL with a GET's query, the headers, the body), with
 * the semantics of `wx.request`: a body is JSON unless a content type says
 * otherwise; a response body whose content type says JSON is parsed (in
 * `answered`; other bodies stay text, as the web and Node builds always had them).
 */
import { answered } from '../outcome.js';
import { describe } from '../report.js';

/** @returns {import('../client.js').Adapter} */
export function createFetchAdapter() {
  return {
    async send(command, kept, onAbort) {
      const controller = new AbortController();
      onAbort(() => controller.abort());
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, command.timeoutMs);
      try {
        const body = command.body === true ? kept : command.body;
        const res = await fetch(/** @type {string} */ (command.url), { method: command.method, headers: headersOf(command.header, body), body, signal: controller.signal });
        const text = await res.text();
        /** @type {Record<string, string>} */
        const headers = {};
        res.headers.forEach((value, key) => {
          headers[key] = value;
        });
        return answered({ statusCode: res.status, data: text, header: headers }, 'request', { text: 'json' });
      } catch (error) {
        const reason = timedOut ? 'timeout' : controller.signal.aborted ? 'abort' : describe(error);
        return { ok: false, errMsg: `request:fail ${reason}` };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The engine's headers, with wx.request's default content type for a body.
 * @param {Record<string, string> | undefined} header
 * @param {string | ArrayBuffer | undefined} body
 * @returns {Record<string, string>}
 */
function headersOf(header = {}, body = undefined) {
  if (body === undefined || Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) return header;
  return { ...header, 'content-type': 'application/json' };
}
