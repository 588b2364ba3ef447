// 订单页：订阅（client.watch）示例用户的订单列表。后端在订单变化时通过 WebSocket 推送失效通知
// （{"$mp":1,"type":"invalidate",...}），列表自动重新请求并刷新，页面不轮询。
const config = require('../../config.js');
const { api } = require('../../utils/cloud-container.js');

const app = getApp();

Page({
  data: {
    orders: /** @type {any[]} */ ([]),
    total: 0,
    error: '',
    creating: false,
  },

  /** @type {(() => void) | null} 取消订阅 */
  unwatch: null,
  /** 页面是否已关闭（客户端创建完成前就关闭时不再订阅） */
  closed: false,

  async onLoad() {
    // 推送经由托管的 socket 到达：页面打开时连接，关闭时断开（见 app.js 的 useSocket）。
    app.useSocket();
    const client = await app.ready;
    if (this.closed) return;
    const query = { path: '/api/order/list', data: { userId: config.userId, page: 1, pageSize: 10 } };
    this.unwatch = client.watch(query, ({ response, error }) => {
      // 请求失败时 response 是上一次的数据：列表照常显示，只提示错误。
      if (error) this.setData({ error: error.message });
      if (response) {
        const { list, total } = response.data.data;
        this.setData({ orders: list, total, error: error ? error.message : '' });
      }
    });
  },

  onUnload() {
    this.closed = true;
    if (this.unwatch) this.unwatch();
    app.releaseSocket();
  },

  // 新建订单：成功后 app.js 的失效规则会让列表重新请求，其他设备则由后端推送通知。
  async createOrder() {
    if (this.data.creating) return;
    this.setData({ creating: true });
    try {
      await api.orderCreate({ userId: config.userId, title: `小程序订单 ${new Date().toLocaleTimeString()}`, amount: 1990 });
    } catch (error) {
      // utils/request.js 已提示用户。
    } finally {
      this.setData({ creating: false });
    }
  },
});
