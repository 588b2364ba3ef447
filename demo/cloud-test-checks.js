// The seed's cloud-test checks (pages/test/cloud-test), as mini-program code:
// it runs inside the sandbox with only `wx` and the bundle, as a page would.
// Each check reports its route and latency through `onResult` as it finishes.
const { createClient } = require('../utils/mp-request/index.js');

const WS_TIMEOUT_MS = 3000;

/**
 * @param {{ env: string, service: string, onResult: (result: object) => void }} options
 * @returns {Promise<object[]>}
 */
async function runCloudTest({ env, service, onResult }) {
  const results = [];
  let client;
  const checks = [
    ['基本连接', 'basic connection', async () => {
      client = await createClient({ env, service });
      const res = await client.request({ path: '/api/test' });
      return { route: res.route, note: `openid ${res.data.data.identity['x-wx-openid']}` };
    }],
    ['首页API', 'home API', async () => {
      const res = await client.request({ path: '/api/home/init' });
      return { route: res.route, note: `${res.data.data.banners.length} banners` };
    }],
    ['订单API', 'order API', async () => {
      const res = await client.request({ path: '/api/order/list', data: { userId: 1, page: 1, pageSize: 10 } });
      const { list, total } = res.data.data;
      return { route: res.route, note: `${list.length} of ${total} orders` };
    }],
    ['服务API', 'service API', async () => {
      const res = await client.request({ path: '/api/service/list' });
      return { route: res.route, note: `${res.data.data.total} services` };
    }],
    ['WebSocket', 'WebSocket', () => checkSocket(env)],
    ['错误处理', 'error handling', async () => {
      const notFound = await expectError(client.request({ path: '/api/not-found' }));
      const invalid = await expectError(client.request({ path: 'no-slash' }));
      if (notFound.kind !== 'http' || notFound.statusCode !== 404) throw new Error(`404 came back as ${notFound.kind}`);
      if (invalid.kind !== 'invalid') throw new Error(`bad input came back as ${invalid.kind}`);
      return { route: notFound.route, note: `404 → ${notFound.kind} "${notFound.message}"; bad path → ${invalid.kind}` };
    }],
    ['云托管状态', 'cloud status', async () => {
      const { networkType } = await wx.getNetworkType();
      const hasCloud = Boolean(wx.cloud && wx.cloud.callContainer);
      if (!hasCloud) throw new Error('wx.cloud.callContainer is unavailable');
      return { route: 'cloud', note: `env ${env}, network ${networkType}, base library ${wx.getSystemInfoSync().SDKVersion}` };
    }],
  ];
  for (const [name, english, check] of checks) {
    const started = Date.now();
    let result;
    try {
      const info = await check();
      result = { name, english, ok: true, ms: Date.now() - started, ...info };
    } catch (error) {
      result = { name, english, ok: false, ms: Date.now() - started, note: (error && (error.detail || error.message)) || String(error) };
    }
    results.push(result);
    onResult(result);
  }
  if (client) client.destroy();
  return results;
}

async function expectError(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

/** The seed's socket check: connectContainer to service 'ws', ping, expect pong. */
async function checkSocket(env) {
  const { socketTask } = await wx.cloud.connectContainer({ config: { env }, service: 'ws', path: '/' });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pong within 3 s')), WS_TIMEOUT_MS);
    socketTask.onOpen(() => socketTask.send({ data: JSON.stringify({ type: 'ping', t: Date.now() }) }));
    socketTask.onMessage(({ data }) => {
      if (JSON.parse(data).type !== 'pong') return;
      clearTimeout(timer);
      socketTask.close({ code: 1000, reason: 'done' });
      resolve({ route: 'cloud', note: 'connectContainer open, ping → pong' });
    });
    socketTask.onError((e) => {
      clearTimeout(timer);
      reject(new Error(e.errMsg));
    });
  });
}

module.exports = { runCloudTest };
