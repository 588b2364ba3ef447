/**
 * The cloud route. `init` runs when the engine says so (once, shared, retried
 * by the engine); `send` is one `callContainer`. With `resourceAppid` the
 * calls go through a `wx.cloud.Cloud` instance (resource reuse).
 */

import { answered, failed } from '../outcome.js';

/** @typedef {{ callContainer: WxCloud['callContainer'] }} CallTarget */

/**
 * @param {WechatMiniprogram.Wx} wx
 * @param {import('../client.js').CloudConfig} config
 * @returns {import('../client.js').CloudAdapter}
 */
export function createCloudAdapter(wx, config) {
  /** @type {CallTarget & { connectContainer?: WxCloud['connectContainer'] }} */
  let target = wx.cloud;
  /** @type {Promise<void> | null} */
  let initialised = null;
  return {
    /**
     * A SocketTask over connectContainer, once wx.cloud is initialised (the
     * socket's own backoff retries a failure).
     * @param {{ service: string, path: string, header?: Record<string, string> }} where
     */
    async connect(where) {
      if (!initialised) {
        initialised = this.init();
        initialised.catch(() => {
          initialised = null;
        });
      }
      await initialised;
      const connectContainer = /** @type {any} */ (target).connectContainer || wx.cloud.connectContainer;
      const res = await connectContainer.call(target, { config: { env: config.env }, service: where.service, path: where.path, header: where.header });
      return res.socketTask;
    },
    async init() {
      if (config.resourceAppid) {
        const instance = new wx.cloud.Cloud({
          resourceAppid: config.resourceAppid,
          resourceEnv: /** @type {string} */ (config.env),
        });
        await instance.init();
        target = instance;
      } else {
        wx.cloud.init({ env: config.env, traceUser: true });
        target = wx.cloud;
      }
    },
    send(command, binary) {
      return new Promise((resolve) => {
        target.callContainer({
          config: { env: config.env },
          // As the engine validated it: a GET's query is in the path.
          path: command.path,
          method: command.method,
          // Object.assign, not spread: the es2017 build lowers spread to a slow descriptor copy.
          header: Object.assign({}, command.header, { 'X-WX-SERVICE': /** @type {string} */ (config.service) }),
          data: command.body === true ? binary : command.body,
          timeout: command.timeoutMs,
          // Parsed in `answered`: only there can a body cut off be told from a JSON string.
          dataType: 'text',
          // Whatever the platform passes (null, twice): never a throw back into wx; a second call is ignored.
          success: (res) => resolve(answered(res, 'cloud.callContainer', { text: 'any' })),
          fail: (err) => resolve(failed(err, 'cloud.callContainer')),
        });
      });
    },
  };
}
