/** The HTTP route in the mini-program: `wx.request` of what the engine validated (URL with its query, headers, body). */
import { answered, failed } from '../outcome.js';

/**
 * @param {WechatMiniprogram.Wx} wx
 * @returns {import('../client.js').Adapter}
 */
export function createWxRequestAdapter(wx) {
  return {
    send(command, kept, onAbort) {
      return new Promise((resolve) => {
        const task = wx.request({
          url: /** @type {string} */ (command.url),
          method: /** @type {any} */ (command.method),
          header: command.header,
          data: /** @type {any} */ (command.body === true ? kept : command.body),
          timeout: command.timeoutMs,
          // Parsed in `answered`: only there can a body cut off be told from a JSON string.
          dataType: 'text',
          // Whatever the platform passes (null, twice): never a throw back into wx; a second call is ignored.
          success: (res) => resolve(answered(res, 'request', { text: 'any' })),
          fail: (err) => resolve(failed(err, 'request')),
        });
        onAbort(() => task.abort());
      });
    },
  };
}
