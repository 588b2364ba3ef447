/**
 * miniprogram-api-typings lacks `wx.cloud.Cloud` (an instance of its own for
 * one environment, also for resource reuse across same-entity mini-programs);
 * declare the part this library uses.
 */
interface WxCloudOptions {
  /** The environment every call of the instance goes to. */
  resourceEnv: string;
  /** Resource reuse: the appid that owns `resourceEnv`. */
  resourceAppid?: string;
}

interface WxCloudInstance {
  /** Needed once before any call; it rejects when the cloud is not ready (retried by the engine). */
  init(): Promise<void>;
  callContainer: WxCloud['callContainer'];
  connectContainer: WxCloud['connectContainer'];
}

interface WxCloud {
  Cloud: new (options: WxCloudOptions) => WxCloudInstance;
}
