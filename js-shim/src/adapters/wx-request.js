/** The HTTP route in the mini-program: `wx.request` of what the engine validated (URL with its query, headers, body). */

/**
 * @param {WechatMiniprogram.Wx} wx
 * @returns {import('../client.js').Adapter}
 */
export function createWxRequestAdapter(wx) {
  return {
    send(command, binary, onAbort) {
      return new Promise((resolve) => {
        const task = wx.request({
          url: /** @type {string} */ (command.url),
          method: /** @type {any} */ (command.method),
          header: command.header,
          data: /** @type {any} */ (command.body === true ? binary : command.body),
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
