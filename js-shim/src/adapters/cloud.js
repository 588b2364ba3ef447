/**
 * The cloud route: `wx.cloud.callContainer`, after a shared, once-only init.
 * With `resourceAppid` the call goes through a `wx.cloud.Cloud` instance
 * (resource reuse); otherwise through `wx.cloud` after `wx.cloud.init`.
 */

/** @typedef {{ callContainer: WxCloud['callContainer'] }} CallTarget */

/**
 * @param {WechatMiniprogram.Wx} wx
 * @param {import('../client.js').CloudConfig} config
 * @returns {import('../client.js').Adapter}
 */
export function createCloudAdapter(wx, config) {
  const env = config.resourceEnv || config.env;
  /** @type {Promise<CallTarget> | null} */
  let ready = null;

  /** Initialises once; concurrent first requests share the same promise. */
  function cloud() {
    if (!ready) {
      ready = initCloud(wx, config);
      ready.catch(() => {
        ready = null;
      });
    }
    return ready;
  }

  return {
    async send(command, options) {
      let instance;
      try {
        instance = await cloud();
      } catch (error) {
        const e = /** @type {any} */ (error) || {};
        return { ok: false, errMsg: String(e.errMsg || e.message || e), errCode: e.errCode };
      }
      return new Promise((resolve) => {
        instance.callContainer({
          config: { env },
          path: options.path,
          method: command.method,
          header: { ...options.header, 'X-WX-SERVICE': /** @type {string} */ (config.service) },
          data: options.data,
          timeout: command.timeoutMs,
          success: (res) =>
            resolve({ ok: true, statusCode: res.statusCode, data: res.data, header: res.header, callID: res.callID }),
          fail: (err) => {
            const e = /** @type {any} */ (err) || {};
            resolve({ ok: false, errMsg: e.errMsg, errCode: e.errCode });
          },
        });
      });
    },
  };
}

/**
 * @param {WechatMiniprogram.Wx} wx
 * @param {import('../client.js').CloudConfig} config
 * @returns {Promise<CallTarget>}
 */
async function initCloud(wx, config) {
  if (config.resourceAppid) {
    const instance = new wx.cloud.Cloud({
      resourceAppid: config.resourceAppid,
      resourceEnv: /** @type {string} */ (config.resourceEnv || config.env),
    });
    await instance.init();
    return instance;
  }
  wx.cloud.init({ env: config.env, traceUser: true });
  return wx.cloud;
}
