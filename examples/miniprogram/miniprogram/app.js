// 构建 npm 后从 miniprogram_npm/mp-request/ 加载（make demo 也会放一份在那里）。
const { createClient } = require('mp-request');
const config = require('./config.js');
const { mockRoutes } = require('./mock/fixtures.js');

App({
  /** @type {Promise<import('mp-request').Client> | undefined} 创建中的客户端：页面里 await getApp().ready */
  ready: undefined,

  globalData: {
    client: null,
    // 种子的兼容字段：当前的 SocketTask 与连接状态（随托管 socket 自动更新）。
    socketTask: null,
    socketConnected: false,
    socket: null,
  },

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
      cache: { rules: [{ path: '/api/home/*', ttlMs: 30000, staleMs: 300000 }] },
      debug: config.debug,
    });
    this.globalData.client = client;
    this.connectSocket();
    return client;
  },

  // 种子的调用方式：const result = await app.call({ path, method })，返回后端的 data。
  async call({ path, method = 'GET', data, header }) {
    const client = await this.ready;
    const res = await client.request({ path, method, data, header });
    return res.data;
  },

  connectSocket() {
    const socket = this.globalData.client.socket({ service: config.wsService, path: '/' });
    this.globalData.socket = socket;
    socket.on('state', ({ state }) => {
      this.globalData.socketConnected = state === 'open';
      this.globalData.socketTask = state === 'open' ? socket.task : null;
    });
  },
});
