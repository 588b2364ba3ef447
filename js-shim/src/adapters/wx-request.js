/** The HTTP route in the mini-program: `wx.request` to the URL the engine built. */

/**
 * @param {WechatMiniprogram.Wx} wx
 * @returns {import('../client.js').Adapter}
 */
export function createWxRequestAdapter(wx) {
  return {
    send(command, options, onAbort) {
      return new Promise((resolve) => {
        const task = wx.request({
          url: /** @type {string} */ (command.url),
          method: /** @type {any} */ (command.method),
          header: options.header,
          data: /** @type {any} */ (options.data),
          timeout: command.timeoutMs,
          success: (res) => resolve({ ok: true, statusCode: res.statusCode, data: res.data, header: res.header }),
          fail: (err) => {
            const e = /** @type {any} */ (err) || {};
            resolve({ ok: false, errMsg: e.errMsg, errno: e.errno });
          },
        });
        onAbort(() => task.abort());
      });
    },
  };
}
