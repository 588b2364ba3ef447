// 云托管测试页：种子的七项检查，逐项实时显示结果（路由、耗时、说明）。
const { api, checkNetworkStatus } = require('../../utils/cloud-container.js');
const { lastRoute } = require('../../utils/request.js');

const app = getApp();

/**
 * 等待 socket 上第一条满足 match 的 JSON 消息；其他消息（非 JSON、别的内容）跳过。超时则失败。
 * @param {{ on(name: string, listener: (event: any) => void): unknown, off(name: string, listener: (event: any) => void): unknown }} socket
 * @param {(message: any) => boolean} match
 * @param {number} ms
 * @returns {Promise<any>}
 */
function nextMessage(socket, match, ms) {
  return new Promise((resolve, reject) => {
    /** @param {{ data: unknown }} event */
    const onMessage = ({ data }) => {
      let message;
      try {
        message = typeof data === 'string' ? JSON.parse(data) : undefined;
      } catch (error) {
        return;
      }
      if (!message || typeof message !== 'object' || !match(message)) return;
      socket.off('message', onMessage);
      clearTimeout(timer);
      resolve(message);
    };
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`WebSocket: no echo within ${ms} ms`));
    }, ms);
    socket.on('message', onMessage);
  });
}

Page({
  // WebSocket 检查等待回显的时间（毫秒）。
  wsTimeoutMs: 5000,
  // 本页用到的 socket（onLoad 时通过 app.useSocket() 取得，onUnload 时释放）。
  socketReady: /** @type {Promise<any> | null} */ (null),

  /** @type {Array<[string, string, () => Promise<{ route: string, note: string }>]>} 七项检查：中文名、英文名、执行函数 */
  checks: [],

  data: {
    running: false,
    results: [],
    summary: '',
  },

  onLoad() {
    // 这个页面用到 WebSocket：打开时连接，离开时断开（见 app.js 的 useSocket）。
    this.socketReady = app.useSocket();
    this.checks = [
      ['基本连接', 'basic connection', () => this.testBasic()],
      ['首页API', 'home API', () => this.testHome()],
      ['订单API', 'order API', () => this.testOrder()],
      ['服务API', 'service API', () => this.testService()],
      ['WebSocket', 'WebSocket', () => this.testWebSocket()],
      ['错误处理', 'error handling', () => this.testErrors()],
      ['云托管状态', 'cloud status', () => this.testCloudStatus()],
    ];
  },

  onUnload() {
    app.releaseSocket();
  },

  async runAll() {
    if (this.data.running) return this.data.results;
    this.setData({ running: true, results: [], summary: '' });
    wx.showLoading({ title: '测试中...' });
    try {
      for (const [name, english, check] of this.checks) {
        const started = Date.now();
        let result;
        try {
          const info = await check();
          result = { name, english, ok: true, ms: Date.now() - started, ...info };
        } catch (error) {
          result = { name, english, ok: false, ms: Date.now() - started, route: (error && error.route) || '-', note: (error && (error.detail || error.message)) || String(error) };
        }
        this.setData({ results: this.data.results.concat([result]) });
      }
    } finally {
      wx.hideLoading();
    }
    const passed = this.data.results.filter((r) => r.ok).length;
    this.setData({ running: false, summary: `${passed} passed, ${this.data.results.length - passed} failed` });
    return this.data.results;
  },

  async testBasic() {
    const client = await app.ready;
    const res = await client.request({ path: '/api/test' });
    const identity = res.data.data.identity || {};
    return { route: res.route, note: `openid ${identity['x-wx-openid'] || identity['x-wx-from-openid'] || '-'}` };
  },

  async testHome() {
    const home = await api.homeInit();
    return { route: lastRoute(), note: `${home.data.banners.length} banners` };
  },

  async testOrder() {
    const orders = await api.orderList({ userId: 1, page: 1, pageSize: 10 });
    return { route: lastRoute(), note: `${orders.data.list.length} of ${orders.data.total} orders` };
  },

  async testService() {
    const services = await api.serviceList();
    return { route: lastRoute(), note: `${services.data.total} services` };
  },

  async testWebSocket() {
    const socket = await this.socketReady;
    if (!socket) throw new Error('the page was closed');
    // 只认这条消息自己的回显（按随机的 check 字段匹配）：服务端推送、心跳等其他消息一律忽略。
    // 连接打开前 socket 会先把消息排队，超时（wsTimeoutMs）后本项失败。
    const check = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const echoed = nextMessage(socket, (message) => message.check === check, this.wsTimeoutMs);
    socket.send({ type: 'message', content: 'Hello WebSocket', check });
    const reply = await echoed;
    if (reply.content !== 'Hello WebSocket') throw new Error('unexpected echo');
    if (!app.globalData.socketConnected || !app.globalData.socketTask) throw new Error('globalData not updated');
    return { route: socket.route, note: 'socket open, echo received, globalData.socketConnected' };
  },

  async testErrors() {
    const client = await app.ready;
    const notFound = await client.request({ path: '/api/not-found' }).then(() => null, (e) => e);
    const invalid = await client.request({ path: 'no-slash' }).then(() => null, (e) => e);
    if (!notFound || notFound.kind !== 'http' || notFound.statusCode !== 404) throw new Error('404 was not an http error');
    if (!invalid || invalid.kind !== 'invalid') throw new Error('bad input was not rejected as invalid');
    return { route: notFound.route, note: `404 → ${notFound.kind} "${notFound.message}"; bad path → ${invalid.kind}` };
  },

  // 状态行显示请求实际走的路由（开发者工具里用模拟数据时是 mock）与选择它的原因。
  async testCloudStatus() {
    const network = await checkNetworkStatus();
    if (!wx.cloud || !wx.cloud.callContainer) throw new Error('wx.cloud.callContainer is unavailable');
    const { SDKVersion } = wx.getAppBaseInfo ? wx.getAppBaseInfo() : wx.getSystemInfoSync();
    const { envVersion } = wx.getAccountInfoSync().miniProgram;
    const client = await app.ready;
    const probe = await client.request({ path: '/api/test' });
    return { route: probe.route, note: `${probe.routeReason}; network ${network.networkType}, base library ${SDKVersion}, ${envVersion}` };
  },
});
