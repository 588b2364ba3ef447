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
    const socket = app.globalData.socket;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('WebSocket not open within 5 s')), 5000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      if (socket.state === 'open') done();
      else socket.on('open', done);
    });
    const echoed = new Promise((resolve) => {
      const onMessage = ({ data }) => {
        socket.off('message', onMessage);
        resolve(data);
      };
      socket.on('message', onMessage);
    });
    socket.send({ type: 'message', content: 'Hello WebSocket' });
    const reply = JSON.parse(await echoed);
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

  async testCloudStatus() {
    const network = await checkNetworkStatus();
    if (!wx.cloud || !wx.cloud.callContainer) throw new Error('wx.cloud.callContainer is unavailable');
    const { SDKVersion } = wx.getAppBaseInfo ? wx.getAppBaseInfo() : wx.getSystemInfoSync();
    const { envVersion } = wx.getAccountInfoSync().miniProgram;
    return { route: 'cloud', note: `network ${network.networkType}, base library ${SDKVersion}, ${envVersion}` };
  },
});
