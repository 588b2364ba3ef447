/**
 * The cloud route. It never calls `wx.cloud.init`: that takes effect on its
 * first call only, app-wide, and belongs to the app. Calls go through the
 * library's own `new wx.cloud.Cloud({ resourceEnv, resourceAppid? })`,
 * initialised when the engine says so (`init`: once, shared by requests and
 * sockets, retried by the engine), or through an instance the app made and
 * initialised itself (`createClient({ cloud })`), which is never initialised
 * here. `send` is one `callContainer`, `connect` one `connectContainer`.
 */

import { answered, failed } from '../outcome.js';

/**
 * @typedef {object} CloudSource
 * @property {WxCloudInstance} [given] The app's own instance, used as it is.
 * @property {(options: WxCloudOptions) => WxCloudInstance} [make] Makes the library's own instance.
 */

/**
 * @param {import('../client.js').CloudConfig} config
 * @param {CloudSource} source
 * @returns {import('../client.js').CloudAdapter}
 */
export function createCloudAdapter(config, source) {
  /** @type {WxCloudInstance | undefined} */
  let instance = source.given;
  // Each call names the environment when one is configured; the app's instance
  // without `env` calls its own.
  const where = config.env ? { env: config.env } : undefined;
  /**
   * A call's options with `config` (left out, not undefined, when there is no env to name).
   * @template {object} T @param {T} options @returns {T & { config?: { env: string } }}
   */
  const named = (options) => (where ? Object.assign(options, { config: where }) : options);
  /** The instance to call (the engine sends nothing before its init succeeded). */
  const target = () => {
    if (!instance) throw new Error('the cloud instance is not initialised');
    return instance;
  };
  return {
    /**
     * Initialises the library's own instance (made once: a retry after a
     * failed init calls `init()` on the same instance).
     */
    async init() {
      if (source.given) return;
      if (!instance) {
        if (!source.make) throw new Error('wx.cloud.Cloud is unavailable');
        /** @type {WxCloudOptions} */
        const options = { resourceEnv: /** @type {string} */ (config.env) };
        if (config.resourceAppid) options.resourceAppid = config.resourceAppid;
        instance = source.make(options);
      }
      await instance.init();
    },
    /**
     * A SocketTask over connectContainer (the client awaits the engine's
     * shared init first; the socket's own backoff retries a failure).
     * @param {{ service: string, path: string, header?: Record<string, string> }} to
     */
    async connect(to) {
      const res = await target().connectContainer(named({ service: to.service, path: to.path, header: to.header }));
      return res.socketTask;
    },
    send(command, kept) {
      return new Promise((resolve) => {
        /** @type {ICloud.CallContainerParam & { success: (res: any) => void, fail: (err: any) => void }} */
        const options = {
          // As the engine built it: a GET's query is in the path (WeChat documents no `data` for GET).
          path: command.path,
          method: command.method,
          // Object.assign, not spread: the es2017 build lowers spread to a slow descriptor copy.
          header: Object.assign({}, command.header, { 'X-WX-SERVICE': /** @type {string} */ (config.service) }),
          timeout: command.timeoutMs,
          // Parsed in `answered`: only there can a body cut off be told from a JSON string.
          dataType: 'text',
          // Whatever the platform passes (null, twice): never a throw back into wx; a second call is ignored.
          success: (/** @type {any} */ res) => resolve(answered(res, 'cloud.callContainer', { text: 'any' })),
          fail: (/** @type {any} */ err) => resolve(failed(err, 'cloud.callContainer')),
        };
        // No body, no `data` key at all.
        if (command.body !== undefined) options.data = command.body === true ? kept : command.body;
        const returned = /** @type {unknown} */ (target().callContainer(named(options)));
        // An instance may answer by its returned Promise instead (a promisified wrapper): the
        // first answer counts, and a rejection is never left unhandled.
        if (returned !== null && typeof returned === 'object') {
          try {
            const then = /** @type {any} */ (returned).then;
            if (typeof then === 'function') then.call(returned, options.success, options.fail);
          } catch {
            // Not a Promise after all: the callbacks still answer.
          }
        }
      });
    },
  };
}
