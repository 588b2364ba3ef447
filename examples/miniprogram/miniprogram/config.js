// 云托管配置：换成你自己的环境与服务即可，库本身不写死任何环境。
module.exports = {
  env: 'prod-5g94mx7a3d07e78c', // 微信云托管环境 ID
  service: 'golang-lfwy', // 服务名（X-WX-SERVICE）
  resourceAppid: 'wx101090677bd5219e', // 云托管环境所属账号（资源复用）
  wsService: 'ws', // WebSocket 服务名
  // 示例用户：订单页看他的订单。示例后端（模拟器）按 socket 路径里的 userId 推送这个用户的订单变化；
  // 你自己的服务应从网关注入的 X-WX-OPENID（或校验过的令牌）认出用户。
  userId: 1,
  // 模拟数据：'auto' 只在开发者工具中使用；true 在非正式版中使用；false 关闭。正式版永远不用。
  mock: /** @type {boolean | 'auto'} */ ('auto'),
  // 打开后，每个请求的路由选择与结果都会打印到控制台。
  debug: false,
};
