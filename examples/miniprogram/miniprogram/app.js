// 构建 npm 后从 miniprogram_npm/mp-request/ 加载（make demo 也会放一份在那里）。
const { createClient } = require('mp-request');
const config = require('./config.js');
const { mockRoutes } = require('./mock/fixtures.js');

App({
  /** @type {Promise<import('mp-request').Client> | undefined} 创建中的客户端：页面里 await getApp().ready */
  ready: undefined,

  globalData: {
    client: null,
    // 种子的兼容字段：当前的 SocketTask 与连接状态（连接打开期间随托管 socket 自动更新）。
    socketTask: null,
    socketConnected: false,
    socket: null,
  },

  // 正在使用 WebSocket 的页面数。
  socketUsers: 0,

  onLaunch() {
    this.ready = this.init();
  },

  async init() {
    const client = await createClient({
      env: config.env,
      service: config.service,
      resourceAppid: config.resourceAppid,
      resourceEnv: config.env,
      mock: { routes: mockRoutes, enabled: config.mock },
      cache: {
        rules: [
          { path: '/api/home/*', ttlMs: 30000, staleMs: 300000 },
          // 订单页订阅的列表：变化由后端推送，缓存只是打开页面时先显示的数据。
          { path: '/api/order/list', ttlMs: 60000 },
        ],
        invalidations: [{ method: 'POST', path: '/api/order/create', prefixes: ['/api/order/list'] }],
      },
      debug: config.debug,
    });
    this.globalData.client = client;
    return client;
  },

  // 种子的调用方式：const result = await app.call({ path, method })，返回后端的 data。
  async call({ path, method = 'GET', data, header }) {
    const client = await this.ready;
    const res = await client.request({ path, method, data, header });
    return res.data;
  },

  // 需要 WebSocket 的页面在 onLoad 里调用，在 onUnload 里调用 releaseSocket()。
  // 连接在第一个需要它的页面打开时才建立，最后一个页面关闭时断开：保持连接会让
  // 云托管实例一直处于活跃状态（按实例运行时长计费），不应在 onLaunch 里为每个用户都打开。
  // 返回托管的 socket；页面在连接建立前就关闭时返回 null。
  async useSocket() {
    this.socketUsers += 1;
    await this.ready;
    if (this.socketUsers === 0) return null;
    if (!this.globalData.socket) {
      // 路径里的 userId 告诉示例后端这台设备是谁：它会把这个用户的数据变化推送过来（见订单页）。
      const socket = this.globalData.client.socket({ service: config.wsService, path: `/?userId=${config.userId}` });
      this.globalData.socket = socket;
      socket.on('state', ({ state }) => {
        this.globalData.socketConnected = state === 'open';
        this.globalData.socketTask = state === 'open' ? socket.task : null;
      });
    }
    return this.globalData.socket;
  },

  releaseSocket() {
    if (this.socketUsers === 0) return;
    this.socketUsers -= 1;
    const socket = this.globalData.socket;
    if (this.socketUsers > 0 || !socket) return;
    this.globalData.socket = null;
    this.globalData.socketTask = null;
    this.globalData.socketConnected = false;
    socket.close(); // 不再重连
  },
});
