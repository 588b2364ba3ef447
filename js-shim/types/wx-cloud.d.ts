/**
 * miniprogram-api-typings lacks `wx.cloud.Cloud` (resource reuse across
 * same-entity mini-programs); declare the part this library uses.
 */
interface WxCloudInstance {
  init(): Promise<void>;
  callContainer: WxCloud['callContainer'];
  connectContainer: WxCloud['connectContainer'];
}

interface WxCloud {
  Cloud: new (options: { resourceAppid: string; resourceEnv: string }) => WxCloudInstance;
}
