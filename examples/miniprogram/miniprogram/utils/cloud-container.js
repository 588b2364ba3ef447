// 接口封装：返回后端响应体（{ code, message, data }）。
const { request } = require('./request.js');

const body = (res) => res.data;

const api = {
  test: () => request({ path: '/api/test' }).then(body),
  homeInit: () => request({ path: '/api/home/init' }).then(body),
  orderList: ({ userId, page = 1, pageSize = 10 }) =>
    request({ path: '/api/order/list', data: { userId, page, pageSize } }).then(body),
  // One Idempotency-Key per order: retried after a lost answer, it is still one order.
  orderCreate: (order) => request({ path: '/api/order/create', method: 'POST', data: order, idempotent: 'auto' }).then(body),
  serviceList: () => request({ path: '/api/service/list' }).then(body),
  serviceDetail: (id) => request({ path: `/api/service/${encodeURIComponent(id)}` }).then(body),
};

// 网络检测：{ isConnected, networkType }
function checkNetworkStatus() {
  return new Promise((resolve) => {
    wx.getNetworkType({
      success: (res) => resolve({ isConnected: res.networkType !== 'none', networkType: res.networkType }),
      fail: () => resolve({ isConnected: false, networkType: 'unknown' }),
    });
  });
}

module.exports = { api, checkNetworkStatus };
