// 开发者工具里的模拟数据：种子中各接口的形状。路由匹配在 Rust 核心里完成，
// 最具体的路由优先（字面段多者优先，其次无 * 者，其次指定了 method 者）。
const SERVICES = [
  { id: 'svc-clean', name: '家政保洁', price: 8800 },
  { id: 'svc-repair', name: '家电维修', price: 12000 },
];

const mockRoutes = [
  { method: 'GET', path: '/api/test', response: { data: { code: 0, message: 'ok', data: { identity: { 'x-wx-openid': 'o-mock-user' } } } } },
  {
    method: 'GET',
    path: '/api/home/init',
    response: { data: { code: 0, message: 'ok', data: { banners: [{ id: 1, title: '模拟横幅' }], notices: ['模拟数据'], openid: 'o-mock-user' } } },
  },
  {
    method: 'GET',
    path: '/api/order/list',
    handler: (req) => {
      const query = req.data || {};
      const page = Number(query.page || 1);
      const pageSize = Number(query.pageSize || 10);
      const total = 12;
      const list = Array.from({ length: Math.max(0, Math.min(pageSize, total - (page - 1) * pageSize)) }, (_, i) => ({
        id: `mock-${(page - 1) * pageSize + i + 1}`,
        title: `模拟订单 ${(page - 1) * pageSize + i + 1}`,
        status: 'paid',
      }));
      return { data: { code: 0, message: 'ok', data: { list, total, page, pageSize, hasMore: page * pageSize < total } } };
    },
  },
  { method: 'POST', path: '/api/order/create', response: { data: { code: 0, message: 'ok', data: { id: 'mock-new', status: 'pending' } } } },
  { method: 'GET', path: '/api/service/list', response: { data: { code: 0, message: 'ok', data: { list: SERVICES, total: SERVICES.length } } } },
  // 错误处理检查用：模拟一个不存在的接口。
  { path: '/api/not-found', response: { statusCode: 404, data: { code: 404, message: 'no route' } } },
  {
    method: 'GET',
    path: '/api/service/:id',
    handler: (req, params) => {
      const found = SERVICES.find((s) => s.id === params.id);
      return found ? { data: { code: 0, message: 'ok', data: found } } : { statusCode: 404, data: { code: 404, message: `no service ${params.id}` } };
    },
  },
];

module.exports = { mockRoutes };
