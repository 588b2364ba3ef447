// 云托管测试页：种子的七项检查，逐项实时显示结果（路由、耗时、说明）。
const { api, checkNetworkStatus } = require('../../utils/cloud-container.js');
const { lastRoute } = require('../../utils/request.js');

const app = getApp();

Page({
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
    // The echo of this check's own message, within 5 s (the socket queues it until open);
    // anything else the service sends meanwhile is not this check's business.
    const content = `Hello WebSocket ${Date.now()}`;
    let stop = () => {};
    const echoed = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo within 5 s (socket ${socket.state})`)), 5000);
      const onMessage = ({ data }) => {
        let reply = null;
        try {
          reply = typeof data === 'string' ? JSON.parse(data) : null;
        } catch {
          // Not JSON: not the echo.
        }
        if (reply && reply.content === content) resolve(reply);
      };
      socket.on('message', onMessage);
      stop = () => {
        clearTimeout(timer);
        socket.off('message', onMessage);
      };
    });
    try {
      socket.send({ type: 'message', content });
      await echoed;
    } finally {
      stop();
    }
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

  async testCloudStatus() {
    const network = await checkNetworkStatus();
    if (!wx.cloud || !wx.cloud.callContainer) throw new Error('wx.cloud.callContainer is unavailable');
    const { SDKVersion } = wx.getAppBaseInfo ? wx.getAppBaseInfo() : wx.getSystemInfoSync();
    const { envVersion } = wx.getAccountInfoSync().miniProgram;
    return { route: 'cloud', note: `network ${network.networkType}, base library ${SDKVersion}, ${envVersion}` };
  },
});
